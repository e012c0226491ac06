import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultScenario } from '../../core/sandbox/scenario';
import { databaseFileName } from '../../core/store/db';
import { checkInvariants, type InvariantReport } from '../support/invariants';
import { fastWorld, startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// Restore drill (issue 25): a data folder's database is put back from a backup taken days earlier — the laptop was
// restored, or the file was copied from another machine. Mirakl and ReBound went on meanwhile: refunds were made,
// stock was imported, parcels were registered, and the restored database knows none of it. The engine that opens it
// must not refund or restock any of that a second time, and must leave nothing stuck without telling a person.

const minute = 60_000;
const day = 24 * 60 * minute;
const start = defaultScenario.startMs;

// A small world that moves fast: returns are asked for within a day of delivery and go through the hub within hours,
// so two days after the backup there are refunds, return orders and stock imports the backup does not know of, and
// a few days after the last order the world is quiet.
const world = fastWorld({ historyDays: 2, ordersPerDay: 60, days: 3 });

describe('an engine opening a database restored from an older backup', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let report: InvariantReport;
  const afterBackup = { refunds: 0, returnOrders: 0, stockImports: 0 };
  /** Per offer, the units Mirakl's stock imports really added (each import line's `to - from`), from its own truth. */
  const importedBySku = new Map<string, number>();

  beforeAll(async () => {
    temp = makeTempDir();
    h = await startHarness({ seed: 11, dataDir: temp.dir, scenario: world });
    const file = join(temp.dir, 'data', databaseFileName);
    const runUntil = async (at: number) => {
      while (h.clock.now() < at) await h.step(30 * minute);
    };
    const counts = () => {
      const truth = h.sandbox.truth();
      return {
        refunds: Object.values(truth.mirakl.refundsByLine).reduce((n, list) => n + list.length, 0),
        returnOrders: truth.rebound.returnOrders.length,
        stockImports: truth.mirakl.stockImports.length,
      };
    };
    await runUntil(start + 2 * day);
    const backup = join(temp.dir, 'backup.sqlite');
    await h.store.db.backup(backup);
    const atBackup = counts();
    await runUntil(start + 4 * day);
    const atRestore = counts();
    afterBackup.refunds = atRestore.refunds - atBackup.refunds;
    afterBackup.returnOrders = atRestore.returnOrders - atBackup.returnOrders;
    afterBackup.stockImports = atRestore.stockImports - atBackup.stockImports;

    h.store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    copyFileSync(backup, file);
    h.reopen();
    await runUntil(start + 9 * day);
    report = checkInvariants(h.sandbox, h.store.db, { isQuiet: true });
    for (const imp of h.sandbox.truth().mirakl.stockImports) {
      for (const a of imp.applied) importedBySku.set(a.shopSku, (importedBySku.get(a.shopSku) ?? 0) + a.to - a.from);
    }
    console.info(JSON.stringify({ afterBackup, stats: report.stats, violations: report.violations.length }));
  }, 900_000);

  afterAll(async () => {
    await h?.close();
    temp?.remove();
  });

  it('had refunds, return orders and stock imports made between the backup and the restore (what the restored database does not know)', () => {
    expect(afterBackup.refunds).toBeGreaterThan(0);
    expect(afterBackup.returnOrders).toBeGreaterThan(0);
    expect(afterBackup.stockImports).toBeGreaterThan(0);
  });

  it('refunds and restocks nothing a second time, and leaves nothing unexplained', () => {
    expect(report.violations).toEqual([]);
  });

  it("restocks no unit twice in Mirakl's own stock, and every unit it holds back waits for a person on its offer", () => {
    const sellable = new Map<string, number>();
    for (const ro of h.sandbox.truth().rebound.returnOrders) {
      if (!ro.statusHistory.some((s) => s.status === 'PROCESSED')) continue;
      for (const u of ro.units) {
        if (u.isReceived && u.fate === 'announced' && (u.grade === 'A_SELLABLE' || u.grade === 'B_SELLABLE_MINOR')) sellable.set(u.sku, (sellable.get(u.sku) ?? 0) + 1);
      }
    }
    const waiting = new Set(
      (h.store.db.prepare(`SELECT offer_sku FROM exceptions WHERE type = 'RESTOCK_UNCERTAIN' AND state != 'resolved'`).all() as { offer_sku: string }[]).map((r) => r.offer_sku),
    );
    const skus = [...new Set([...sellable.keys(), ...importedBySku.keys()])];
    const twice = skus
      .filter((sku) => (importedBySku.get(sku) ?? 0) > (sellable.get(sku) ?? 0))
      .map((sku) => `${sku}: ${sellable.get(sku) ?? 0} sellable unit(s) back, Mirakl's imports added ${importedBySku.get(sku) ?? 0}`);
    const silentlyShort = skus
      .filter((sku) => (importedBySku.get(sku) ?? 0) < (sellable.get(sku) ?? 0) && !waiting.has(sku))
      .map((sku) => `${sku}: ${sellable.get(sku) ?? 0} sellable unit(s) back, Mirakl's imports added ${importedBySku.get(sku) ?? 0}, no RESTOCK_UNCERTAIN`);
    expect(twice).toEqual([]);
    expect(silentlyShort).toEqual([]);
    // Most of what was imported after the backup is recognised from Mirakl's quantities, not all left to a person.
    const quarantine = h.store.db.prepare('SELECT stock_outcome, ended_at FROM restore_quarantines').get() as { stock_outcome: string; ended_at: string | null };
    expect(quarantine.ended_at).not.toBeNull();
    console.info(quarantine.stock_outcome.replace(/\(.*?\)/g, ''), { offersWaitingForAPerson: waiting.size });
  });

  it('records the refunds made after the backup as the ones it would have made, and sends none of them again', () => {
    const found = h.store.db.prepare(`SELECT count(*) AS n FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND json_extract(outcome, '$.via') = 'ledger'`).get() as { n: number };
    expect(found.n).toBeGreaterThan(0);
    expect(found.n).toBeLessThanOrEqual(afterBackup.refunds);
  });
});
