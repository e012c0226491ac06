import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { engineStateFolderName, leaseMarkerFileName } from '../store/lease-marker';
import { sourceMigrationsDir } from '../store/paths';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createDomainContext, type DomainContext } from './domain';
import { LeaseLostError } from './lease';

// The engine lease's two fences, each on its own connection to one database file as two processes would have:
// claiming a call, and claiming units for a stock import. The engine that started last holds the lease; the other's
// claims throw and change no row.

describe('the engine lease', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let stores: Store[];
  const clock = createFakeClock(Date.UTC(2026, 10, 1));
  const mappings = loadMappings(shippedMappingsDir);

  const open = (): DomainContext => {
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    stores.push(store);
    return createDomainContext({ db: store.db, clock, log: silentLogger, events: null, mappings: () => mappings });
  };

  beforeEach(() => {
    temp = makeTempDir();
    stores = [];
  });
  afterEach(() => {
    for (const s of stores) s.close();
    temp.remove();
  });

  it('gives each engine start a higher epoch; only the latest holds it', () => {
    const a = open();
    const b = open();
    const first = a.lease.acquire('A');
    const second = b.lease.acquire('B');
    expect(second).toBe(first + 1);
    expect(a.lease.isHeld()).toBe(false);
    expect(b.lease.isHeld()).toBe(true);
    expect(() => a.lease.assertHeld()).toThrow(/another engine started on this database \(B, at .*, epoch 2; this one holds epoch 1\)/);
  });

  it('refuses a superseded engine the claim of a call, changing nothing', () => {
    const a = open();
    const b = open();
    a.lease.acquire('A');
    const intent = a.intents.plan({ kind: 'mirakl.refund', key: 'refund:L-1:1', subject: 'R-1', payload: { amountMinor: 2500 } });
    b.lease.acquire('B');
    expect(() => a.intents.markSending([intent.id])).toThrow(LeaseLostError);
    expect(a.intents.get(intent.id)).toMatchObject({ state: 'planned', attempts: 0 });
    b.intents.markSending([intent.id]);
    expect(b.intents.get(intent.id)).toMatchObject({ state: 'sending', attempts: 1 });
  });

  it('refuses a superseded engine the claim of units for a stock import, changing nothing', () => {
    const a = open();
    seedOctober(stores[0]!.db);
    const b = open();
    a.lease.acquire('A');
    b.lease.acquire('B');
    const lines = a.restock.pendingOffers().map((p) => ({ sku: p.sku, from: 0, to: p.units.length, units: p.units }));
    expect(lines).toEqual([{ sku: 'SKU-A', from: 0, to: 1, units: ['R-1:L-1:2'] }]);
    const stale = a.intents.plan({ kind: 'stock.import', key: 'stock-import:a', subject: 'stock', payload: { lines: [] } });
    expect(() => a.transaction(() => a.restock.claimForImport(stale.id, lines))).toThrow(LeaseLostError);
    expect(a.restock.stillPending(lines)).toEqual(lines);
    const fresh = b.intents.plan({ kind: 'stock.import', key: 'stock-import:b', subject: 'stock', payload: { lines: [] } });
    expect(b.transaction(() => b.restock.claimForImport(fresh.id, lines))).toEqual(lines);
    expect(b.restock.stillPending(lines)).toEqual([]);
  });

  it('does not fence a connection that never started an engine (a report, a bundle): it claims nothing itself', () => {
    const reader = open();
    open().lease.acquire('B');
    expect(reader.lease.isHeld()).toBe(true);
    expect(() => reader.lease.assertHeld()).not.toThrow();
  });
});

describe("this machine's record of the engine lease, outside the data folder", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let stores: Store[];
  const clock = createFakeClock(Date.UTC(2026, 10, 1));
  const mappings = loadMappings(shippedMappingsDir);
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (message: string) => void warnings.push(message) };

  const open = (dataDir: string, engineStateDir: string): DomainContext => {
    const store = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock });
    stores.push(store);
    return createDomainContext({ db: store.db, clock, log, events: null, mappings: () => mappings, engineStateDir });
  };
  const run = (dataDir: string, engineStateDir: string, claims: number) => {
    const ctx = open(dataDir, engineStateDir);
    ctx.lease.acquire('test');
    for (let i = 0; i < claims; i++) {
      ctx.lease.countClaim();
      ctx.lease.published();
    }
    return ctx;
  };

  beforeEach(() => {
    temp = makeTempDir();
    stores = [];
    warnings.length = 0;
  });
  afterEach(() => {
    for (const s of stores) s.close();
    temp.remove();
  });

  it('leaves a restore it found to the next start when this one ends before its quarantine began', () => {
    // Chaos seed 122 with --with-restore: the engine started on a database put back from a backup, found it restored,
    // and stopped (the disk was full) before starting the quarantine. It had already written its figures to the
    // folder's marker and this machine's record, so they agreed with the database, and the next start found nothing.
    const dataDir = join(temp.dir, 'data');
    const stateDir = join(temp.dir, 'state');
    run(dataDir, stateDir, 2);
    stores.pop()?.close();
    cpSync(join(dataDir, 'workbench.sqlite'), join(temp.dir, 'backup.sqlite'));
    const later = run(dataDir, stateDir, 3);
    expect(later.lease.arrivedBecause()).toBeNull();
    stores.pop()?.close();
    cpSync(join(temp.dir, 'backup.sqlite'), join(dataDir, 'workbench.sqlite'));

    const failedStart = open(dataDir, stateDir);
    failedStart.lease.acquire('test');
    expect(failedStart.lease.arrivedBecause()).not.toBeNull();
    // It ends here: no quarantine began, nothing was published after.
    stores.pop()?.close();

    const next = open(dataDir, stateDir);
    next.lease.acquire('test');
    expect(next.lease.arrivedBecause(), 'the next start still finds the database behind').not.toBeNull();
  });

  it('keeps one file per database id, with the figures engine-lease.json has', () => {
    const ctx = run(join(temp.dir, 'data'), join(temp.dir, 'state'), 3);
    const marker = JSON.parse(readFileSync(join(temp.dir, 'data', leaseMarkerFileName), 'utf8')) as { databaseId: string; epoch: number; claims: number };
    const record = JSON.parse(readFileSync(join(temp.dir, 'state', engineStateFolderName, `${marker.databaseId}.json`), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({ ...marker, folder: join(temp.dir, 'data') });
    expect(ctx.lease.arrivedBecause()).toBeNull();
  });

  it('names the other folder when an older copy of the database starts beside the one that ran further', () => {
    const state = join(temp.dir, 'state');
    run(join(temp.dir, 'a'), state, 1);
    for (const s of stores.splice(0)) s.close();
    cpSync(join(temp.dir, 'a'), join(temp.dir, 'b'), { recursive: true });
    run(join(temp.dir, 'a'), state, 2);
    for (const s of stores.splice(0)) s.close();
    const copy = open(join(temp.dir, 'b'), state);
    copy.lease.acquire('copy');
    expect(copy.lease.arrivedBecause()).toContain(`an older copy of one an engine ran further in another folder on this machine (${join(temp.dir, 'a')})`);
  });

  it('says nothing of a record it cannot read, and an engine whose record cannot be written goes on, saying so once', () => {
    const state = join(temp.dir, 'state-is-a-file');
    writeFileSync(state, 'not a folder');
    const ctx = run(join(temp.dir, 'data'), state, 2);
    expect(ctx.lease.arrivedBecause()).toBeNull();
    expect(ctx.lease.isHeld()).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not be written: a whole data folder put back from a backup may go unnoticed/);
  });
});
