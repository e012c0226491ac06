import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../core/audit/log';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { createResolutions } from '../../core/reconcile/resolutions';
import { defaultScenario } from '../../core/sandbox/scenario';
import { databaseFileName } from '../../core/store/db';
import { checkInvariants, type InvariantReport } from '../support/invariants';
import { fastWorld, startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// Restore drill, with a mapping edit in between (chaos seed 29 with --with-restore, before the second installation
// changed every plan): after the backup, the engine graded returned units of one offer and put them back on sale; then
// a person set that SKU to "never restock" in the sku-offers mapping; then the database was put back. The restored
// database learns of those units only now and, by the mapping as it stands, records them as never restocked — while
// Mirakl's quantity holds them. Nothing is imported twice, but the database must not believe they are off sale, and a
// person must be told: the mapping says they should not be on sale, and they are.

const minute = 60_000;
const day = 24 * 60 * minute;
const start = defaultScenario.startMs;
const world = fastWorld({ historyDays: 2, ordersPerDay: 60, days: 3 });

describe('a database put back after its engine restocked units that a later mapping edit says never to restock', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let report: InvariantReport;
  /** The offer whose units were restocked after the backup, then set to "never restock", and how many. */
  let target: { sku: string; units: number } | null = null;
  const mappings = loadMappings(shippedMappingsDir);

  beforeAll(async () => {
    temp = makeTempDir();
    h = await startHarness({ seed: 11, dataDir: temp.dir, scenario: world, mappings });
    const file = join(temp.dir, 'data', databaseFileName);
    const runUntil = async (at: number) => {
      while (h.clock.now() < at) await h.step(30 * minute);
    };
    await runUntil(start + 2 * day);
    const backup = join(temp.dir, 'backup.sqlite');
    await h.store.db.backup(backup);
    const plannedAtBackup = new Set((h.store.db.prepare('SELECT unit_id FROM stock_increments').all() as { unit_id: string }[]).map((r) => r.unit_id));

    // Run on until an import has put back on sale units the backup had not even planned (graded after it).
    const restockedSinceBackup = () => {
      const bySku = new Map<string, number>();
      const rows = h.store.db
        .prepare(`SELECT s.unit_id, s.offer_sku, u.offer_sku AS order_sku FROM stock_increments s JOIN units u ON u.id = s.unit_id WHERE s.state = 'applied'`)
        .all() as { unit_id: string; offer_sku: string; order_sku: string }[];
      for (const r of rows) if (!plannedAtBackup.has(r.unit_id) && r.offer_sku === r.order_sku) bySku.set(r.offer_sku, (bySku.get(r.offer_sku) ?? 0) + 1);
      return [...bySku].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    };
    while (h.clock.now() < start + 4 * day) {
      await h.step(30 * minute);
      const found = restockedSinceBackup();
      if (found) {
        target = { sku: found[0], units: found[1] };
        break;
      }
    }
    if (!target) return;

    // A person sets that SKU to "never restock" (the sku-offers mapping file, as the chaos harness edits it).
    (mappings.skuOffers.overrides as unknown[]).push({ orderSku: target.sku, restock: false });
    h.store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    copyFileSync(backup, file);
    h.reopen();
    await runUntil(start + 9 * day);
    report = checkInvariants(h.sandbox, h.store.db, { isQuiet: true });
  }, 900_000);

  afterAll(async () => {
    await h?.close();
    temp?.remove();
  });

  it('had units restocked after the backup, of an offer then set to "never restock"', () => {
    expect(target).not.toBeNull();
  });

  it("records as on sale the units Mirakl's quantity holds, so its stock arithmetic agrees with Mirakl", () => {
    const sku = (target as { sku: string }).sku;
    const stock = h.sandbox.truth().mirakl.stock[sku];
    expect(stock).toBeDefined();
    const { initial, sold, quantity } = stock as { initial: number; sold: number; quantity: number };
    const applied = (h.store.db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE offer_sku = ? AND state = 'applied'`).get(sku) as { n: number }).n;
    const overwritten = h.store.db.prepare(`SELECT cause FROM exceptions WHERE type = 'STOCK_OVERWRITTEN' AND offer_sku = ? AND state != 'resolved'`).all(sku);
    expect(overwritten).toEqual([]);
    expect({ sku, quantity }).toEqual({ sku, quantity: initial - sold + applied });
    expect(report.violations).toEqual([]);
  });

  it('tells a person that units the mapping says never to restock are on sale', () => {
    const sku = (target as { sku: string }).sku;
    const open = (
      h.store.db.prepare(`SELECT type, cause FROM exceptions WHERE offer_sku = ? AND type = 'RESTOCK_UNCERTAIN' AND state != 'resolved'`).all(sku) as {
        type: string;
        cause: string;
      }[]
    ).filter((e) => /mapping/.test(e.cause));
    expect(open).toHaveLength(1);
    expect(open[0]?.cause).toMatch(/never restock/);
    expect(open[0]?.cause).toContain(`${(target as { units: number }).units} returned unit(s) of ${sku}`);
  });

  it("closes by a person's skip, which leaves the offer's other units as they are; there is nothing to retry", () => {
    const sku = (target as { sku: string }).sku;
    const e = h.store.db
      .prepare(`SELECT id FROM exceptions WHERE offer_sku = ? AND type = 'RESTOCK_UNCERTAIN' AND state != 'resolved' AND subject_key LIKE '%:never-restock-%'`)
      .get(sku) as { id: number };
    const units = () => h.store.db.prepare('SELECT unit_id, state FROM stock_increments WHERE offer_sku = ? ORDER BY unit_id').all(sku);
    const before = units();
    const resolutions = createResolutions(h.ctx, createAuditLog(h.store.db, h.clock));
    const [retried] = resolutions.act([e.id], { action: 'retry' }, 'ops');
    expect(retried?.ok).toBe(false);
    const [skipped] = resolutions.act([e.id], { action: 'skip_restock', reason: 'lowered the listing by the units named' }, 'ops');
    expect(skipped?.ok).toBe(true);
    expect(units()).toEqual(before);
    expect((h.store.db.prepare('SELECT state FROM exceptions WHERE id = ?').get(e.id) as { state: string }).state).toBe('resolved');
  });
});
