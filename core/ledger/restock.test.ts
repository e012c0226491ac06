import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { createFacts } from '../store/report/facts';
import { parsePeriod } from '../report/period';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createDomainContext, type DomainContext } from './domain';

/**
 * A store seeded with October (report-fixture) and the domain context over it, its clock at `now`: fresh for each test,
 * closed and its folder removed after (registers the hooks). Read `store()` and `ctx()` inside a test.
 */
function octoberPerTest(now: number): { store(): Store; ctx(): DomainContext } {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let ctx: DomainContext;
  beforeEach(() => {
    temp = makeTempDir();
    const clock = createFakeClock(now);
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    seedOctober(store.db);
    const mappings = loadMappings(shippedMappingsDir);
    ctx = createDomainContext({ db: store.db, clock, log: silentLogger, events: null, mappings: () => mappings });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });
  return { store: () => store, ctx: () => ctx };
}

// A unit ReBound graded sellable and then reported lost (the order EXPIRED: UNIT_FACTS_CONTRADICT) is no receipt any
// more: its restock, planned while it was one, must never go out — no stock change without a unit behind it. It stays
// pending, held, while the contradiction's exception is open on its return.

describe('the restock of a unit reported lost after it was graded', () => {
  const { store, ctx } = octoberPerTest(Date.UTC(2026, 10, 1));

  it('is not offered to a flush, nor claimed by an import', () => {
    const lines = [{ sku: 'SKU-A', from: 0, to: 1, units: ['R-1:L-1:2'] }];
    expect(ctx().restock.pendingOffers()).toEqual([{ sku: 'SKU-A', units: ['R-1:L-1:2'] }]);
    // As the physical ledger records ReBound's later word (units.ts, loseRegisteredUnit).
    store().db.prepare(`UPDATE units SET stage = 'lost', stage_rank = 5, registered_at = NULL, is_sellable = NULL WHERE id = 'R-1:L-1:2'`).run();
    expect(ctx().restock.pendingOffers()).toEqual([]);
    expect(ctx().restock.stillPending(lines)).toEqual([]);
    const intent = ctx().intents.plan({ kind: 'stock.import', key: 'stock-import:lost', subject: 'stock', payload: { lines: [] } });
    expect(ctx().transaction(() => ctx().restock.claimForImport(intent.id, lines))).toEqual([]);
  });
});

// A month's report counts each stock increment by its state as at month end (facts.ts rp_stock): a unit skipped in a
// month is counted skipped there for good. Holding it for a person's question after a restore, and the person's skip,
// change neither its state nor that month's facts: a locked month must not see it changed (a post-close adjustment).
describe('a unit the mapping skipped in a locked month, held for a person and skipped by them later', () => {
  const { store, ctx } = octoberPerTest(Date.UTC(2026, 10, 3));

  it("leaves October's stock facts as they were", () => {
    store().db
      .prepare(`UPDATE stock_increments SET state = 'skipped', skipped_by = 'mapping', note = 'sku-offers mapping: never restocked', updated_at = '2026-10-20T00:00:00.000Z' WHERE unit_id = 'R-1:L-1:2'`)
      .run();
    const facts = createFacts(store().db);
    const october = () => {
      store().db.transaction(() => facts.build(parsePeriod('2026-10'), '2026-11-01T00:00:00.000Z'))();
      return store().db.prepare(`SELECT unit_id, category FROM temp.rp_stock ORDER BY unit_id`).all();
    };
    const before = october();
    expect(before).toContainEqual({ unit_id: 'R-1:L-1:2', category: 'skipped' });
    expect(ctx().restock.holdSkippedForPerson('SKU-A', '2026-10-15T00:00:00.000Z')).toBe(1);
    expect(october()).toEqual(before);
    expect(ctx().restock.skipHeldSkipped('SKU-A', 'skipped by ops: counted the shelf')).toBe(1);
    expect(october()).toEqual(before);
    expect(store().db.prepare(`SELECT state, skipped_by, held, updated_at FROM stock_increments WHERE unit_id = 'R-1:L-1:2'`).get()).toEqual({
      state: 'skipped',
      skipped_by: 'person',
      held: null,
      updated_at: '2026-10-20T00:00:00.000Z',
    });
  });
});
