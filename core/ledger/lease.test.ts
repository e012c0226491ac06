import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
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
