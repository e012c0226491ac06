import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { createDomainContext, type DomainContext } from './domain';

// The quarantine after restore as its state changes: a database put back while its quarantine is in force (a backup
// taken during it) begins it again — the refunds it still means to send are checked again, never sent on the first
// check's word, and the reads it waits for count from the new start.

describe('the quarantine after restore', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let ctx: DomainContext;
  const clock = createFakeClock(Date.UTC(2026, 10, 1));
  const mappings = loadMappings(shippedMappingsDir);
  const basis = { afterExport: 0, offers: {} };
  const planRefund = (key: string) =>
    ctx.intents.plan({ kind: 'mirakl.refund', key, subject: 'R-1', payload: { returnId: 'R-1', order_line_id: 'L-1', units: [key], amountMinor: 1000 } });

  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    ctx = createDomainContext({ db: store.db, clock, log: silentLogger, events: null, mappings: () => mappings });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('marks the refunds still to be sent as to be checked, and is one open exception', () => {
    const before = planRefund('refund:R-1:L-1');
    ctx.restore.start('put back from a backup', basis);
    expect(ctx.intents.get(before.id)?.state).toBe('uncertain');
    expect(ctx.exceptions.listOpen('RESTORED_DATABASE')).toHaveLength(1);
  });

  it('begins again when the database is put back again while it is in force', () => {
    ctx.restore.start('put back from a backup', basis);
    const first = ctx.restore.current();
    ctx.restore.stockSettled('3 units already on sale');
    // Planned during the quarantine (it plans, it does not send), then the file is put back again.
    const planned = planRefund('refund:R-1:L-2');
    clock.advance(3_600_000);
    ctx.restore.start('put back again', { afterExport: 7, offers: {} });
    const again = ctx.restore.current();
    expect(again?.id).toBe(first?.id);
    expect(Date.parse(again?.startedAt ?? '')).toBe(clock.now());
    expect(ctx.restore.lastStartedAt()).toBe(clock.now());
    expect(again?.stockSettledAt).toBeNull();
    expect(again?.stockBasis.afterExport).toBe(7);
    expect(ctx.intents.get(planned.id)?.state).toBe('uncertain');
    expect(ctx.exceptions.listOpen('RESTORED_DATABASE')).toHaveLength(1);
  });

  // Chaos seed 135 --with-restore: the database put back again had read, during its quarantine, an export that already
  // showed an import an earlier copy made; taking that reading as its belief hid the units that import put on sale.
  it('keeps what the database believed before, when put back again before its stock was settled', () => {
    const before = { afterExport: 3, offers: { 'SKU-1': { quantity: 108, at: '2026-10-01T22:58:14.000Z' } } };
    ctx.restore.start('put back from a backup', before);
    ctx.restore.markSettlement({ settleAfterExport: 5, unreadyWith: 6, staleAsks: 1 });
    clock.advance(3_600_000);
    // Read during the quarantine (which sends no import): an export showing an import this database does not know of.
    ctx.restore.start('put back again', { afterExport: 9, offers: { 'SKU-1': { quantity: 109, at: '2026-10-02T11:10:07.000Z' } } });
    const again = ctx.restore.current();
    expect(again?.stockBasis.offers).toEqual(before.offers);
    // Only an export asked for since it began again shows what Mirakl holds now.
    expect(again?.stockBasis.afterExport).toBe(9);
    // The settlement's own export, asked for before it began again, is no longer what it waits for.
    expect(again?.stockBasis).toEqual({ afterExport: 9, offers: before.offers });
  });
});
