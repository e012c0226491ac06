import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;

describe('sync engine against the sandbox (smoke)', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  beforeEach(async () => {
    temp = makeTempDir();
    h = await startHarness({ seed: 1, dataDir: temp.dir, scenario: { ordersPerDay: 40, historyDays: 5, orderVisibleLateRate: 0 } });
  });
  afterEach(async () => {
    await h.close();
    temp.remove();
  });

  it('carries returns from Mirakl through ReBound to refunds and restock', async () => {
    for (let i = 0; i < 6 * 24 * 12; i++) await h.step(5 * minute);
    const db = h.store.db;
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const stages = db.prepare('SELECT stage, count(*) AS n FROM return_intake GROUP BY stage').all();
    const intents = db.prepare('SELECT kind, state, count(*) AS n FROM intents GROUP BY kind, state').all();
    console.info({ stages, intents, exceptions: db.prepare('SELECT type, count(*) AS n FROM exceptions GROUP BY type').all() });
    expect(count('SELECT count(*) AS n FROM mirakl_returns')).toBe(h.sandbox.world.returnsList().length);
    expect(count(`SELECT count(*) AS n FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed'`)).toBeGreaterThan(0);
    expect(count(`SELECT count(*) AS n FROM stock_increments WHERE state = 'applied'`)).toBeGreaterThan(0);
  }, 300_000);
});
