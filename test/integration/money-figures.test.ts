import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/adapters/logger';
import { createBundleHandlers } from '../../core/app/bundle-host';
import type { Core } from '../../core/app/create-core';
import { createDispatch } from '../../core/app/dispatch';
import type { Kpis } from '../../core/contract/queries';
import type { Report } from '../../core/contract/reports';
import { openBundle } from '../../core/report/bundle';
import { createMoneyFigures } from '../../core/store/money-figures';
import { openViewerCopy } from '../../core/store/report/snapshot-file';
import { makeTestCore } from '../support/core';
import { seedOctober } from '../support/report-fixture';
import { makeTempDir } from '../support/temp-dir';
import type { FakeClock } from '../../core/adapters/fake-clock';

// Issue 24: one definition per money figure. The dashboard, the report and the evidence bundle's own views must
// show the same money for the same moment — in particular a refund Mirakl accepted but has not paid
// (WAITING_REFUND) is counted the same way by all three (it is not "at risk" in one and "refunded" in another).

const now = Date.UTC(2026, 10, 6, 9);

/** Money figures per currency as the dashboard shows them, without the zero rows. */
function dashboardAtRisk(kpis: Kpis) {
  return Object.fromEntries(kpis.moneyAtRisk.filter((m) => m.receiptsNotRefundedMinor !== 0).map((m) => [m.currency, m.receiptsNotRefundedMinor]));
}
function reportAccrual(report: Report) {
  return Object.fromEntries(report.money.filter((m) => m.accrualMinor !== 0).map((m) => [m.currency, m.accrualMinor]));
}

describe('money figures: dashboard = report = bundle', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let clock: FakeClock;

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core, clock } = await makeTestCore(temp.dir));
    clock.set(now);
    seedOctober(core.store.db);
    // R-2's single verified unit (EUR 30.00) is refunded by this app on 2 Nov; Mirakl accepted it and has not paid it.
    const db = core.store.db;
    db.prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at, mapping_version)
      VALUES ('mirakl.refund', 'refund:R-2:L-2', 'R-2', ?, 'confirmed', ?, ?, ?, 'reasonCodes@v1:test')`).run(
      JSON.stringify({ returnId: 'R-2', order_line_id: 'L-2', units: [], amountMinor: 3000, currency: 'EUR' }),
      JSON.stringify({ refundId: 'W-2' }),
      '2026-11-02T08:00:00.000Z',
      '2026-11-02T08:00:00.000Z',
    );
    db.prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
      VALUES ('W-2', 'L-2', 'OR-W-2', 3000, 0, 1, '11', 'WAITING_REFUND', '2026-11-02T08:00:00Z', '2026-11-02T08:00:00Z', '2026-11-02T08:00:00Z')`).run();
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  async function ok<T>(p: Promise<{ ok: true; data: unknown } | { ok: false; error: { message: string } }>): Promise<T> {
    const r = await p;
    if (!r.ok) throw new Error(r.error.message);
    return r.data as T;
  }

  it('counts a refund Mirakl accepted but has not paid the same way on the dashboard, in the report and in its bundle', async () => {
    // The open month's report is "as at now": the same moment as the dashboard.
    const generated = await ok<{ report: Report; bundle: { path: string } }>(core.dispatch('reports.generate', { period: '2026-11', bundle: true }));
    const kpis = await ok<Kpis>(core.dispatch('dashboard.kpis', {}));
    // R-4's unit (40.00) is refunded in full by 5 Nov; R-2's EUR 30.00 is refunded (accepted, awaiting payment).
    expect(reportAccrual(generated.report)).toEqual({});
    expect(dashboardAtRisk(kpis)).toEqual(reportAccrual(generated.report));
    expect(generated.report.figures).toEqual(kpis.money);
    const eur = kpis.money.find((m) => m.currency === 'EUR');
    expect(eur).toMatchObject({ receiptsNotRefunded: { count: 0, minor: 0 }, awaitingPayment: { count: 1, minor: 3000 }, paid: { count: 0, minor: 0 } });
    const gbp = kpis.money.find((m) => m.currency === 'GBP');
    // Paid this month: R-4's last 5.00 (5 Nov). X-1 (19.99) has no verified receipt and its exception is open.
    expect(gbp).toMatchObject({ receiptsNotRefunded: { minor: 0 }, paid: { count: 1, minor: 500 }, refundsWithoutReceipt: { count: 1, minor: 1999 } });

    const opened = openBundle(generated.bundle.path, { extractTo: join(temp.dir, 'viewer') });
    const { handlers, close } = createBundleHandlers(opened, { clock: { now: () => Date.UTC(2026, 11, 20) }, log: silentLogger, appVersion: 'test' });
    try {
      const dispatch = createDispatch(handlers, silentLogger);
      const bundleKpis = await ok<Kpis>(dispatch('dashboard.kpis', {}));
      const bundleReport = await ok<Report>(dispatch('reports.get', { period: '2026-11' }));
      expect(dashboardAtRisk(bundleKpis)).toEqual(reportAccrual(bundleReport));
      expect(dashboardAtRisk(bundleKpis)).toEqual(dashboardAtRisk(kpis));
      // Every figure, not only the one at risk: one definition each, the same numbers in all four places.
      expect(bundleKpis.money).toEqual(kpis.money);
      expect(bundleReport.figures).toEqual(kpis.money);
    } finally {
      close();
    }
  });

  it('shows the same figures from a bundle made before the kept money tables existed (migration 0020)', async () => {
    const generated = await ok<{ report: Report; bundle: { path: string } }>(core.dispatch('reports.generate', { period: '2026-10', bundle: true }));
    const opened = openBundle(generated.bundle.path, { extractTo: join(temp.dir, 'viewer') });
    if (!opened.snapshotFile) throw new Error('the bundle holds no snapshot');
    // The snapshot as the previous release wrote it: no money_lines, no money_paid_days.
    const older = join(temp.dir, 'older');
    mkdirSync(older);
    copyFileSync(opened.snapshotFile, join(older, 'snapshot.sqlite'));
    const edit = new Database(join(older, 'snapshot.sqlite'));
    edit.exec('DROP TABLE money_lines; DROP TABLE money_paid_days;');
    edit.close();
    const viewer = openViewerCopy(join(older, 'snapshot.sqlite'), older, silentLogger, {});
    try {
      expect(createMoneyFigures(viewer).at('2026-11-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z')).toEqual(generated.report.figures);
    } finally {
      viewer.close();
    }
  });

  it("shows a finished month's bundle as at its period end, as its report does", async () => {
    // Paid since: the bundle must still show October's end, when it was not refunded at all.
    core.store.db.prepare(`UPDATE mirakl_refunds SET refund_state = 'REFUNDED' WHERE id = 'W-2'`).run();
    const generated = await ok<{ report: Report; bundle: { path: string } }>(core.dispatch('reports.generate', { period: '2026-10', bundle: true }));
    // At 1 Nov: R-2's EUR 30.00 was not refunded yet; R-4's 5.00 outstanding.
    expect(reportAccrual(generated.report)).toEqual({ EUR: 3000, GBP: 500 });
    const opened = openBundle(generated.bundle.path, { extractTo: join(temp.dir, 'viewer') });
    const { handlers, close } = createBundleHandlers(opened, { clock: { now: () => Date.UTC(2026, 11, 20) }, log: silentLogger, appVersion: 'test' });
    try {
      const dispatch = createDispatch(handlers, silentLogger);
      const bundleKpis = await ok<Kpis>(dispatch('dashboard.kpis', {}));
      expect(dashboardAtRisk(bundleKpis)).toEqual(reportAccrual(generated.report));
      expect(bundleKpis.money).toEqual(generated.report.figures);
      // October's paid refunds: F-1 (50.00), F-4 (35.00) and the back-office X-1 (19.99).
      expect(generated.report.figures.find((m) => m.currency === 'GBP')?.paid).toEqual({ count: 3, minor: 10499 });
    } finally {
      close();
    }
  });
});
