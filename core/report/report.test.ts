import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { octoberExpected, seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { createAuditLog } from '../audit/log';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { sha256 } from './locks';
import { createReports, type Reports } from './service';

// The month-end report on a hand-made October (test/support/report-fixture.ts): every figure against numbers worked
// out by hand, the period's edges, and the lock — later changes become adjustments, the locked figures never move.

describe('month-end report', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let reports: Reports;
  const mappings = loadMappings(shippedMappingsDir);

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 3, 9));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    seedOctober(store.db);
    reports = createReports({ db: store.db, clock, audit: createAuditLog(store.db, clock), mappings: () => mappings, actor: () => 'finance.lead', appVersion: 'test' });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('counts returns, units and money per currency as worked out by hand', () => {
    const report = reports.generate('2026-10');
    expect(report.returns).toEqual(octoberExpected.returns);
    expect(report.units).toEqual(octoberExpected.units);
    expect(report.money).toEqual(octoberExpected.money);
    expect(report.isPeriodComplete).toBe(true);
    expect(report.asOf).toBe('2026-11-01T00:00:00.000Z');
  });

  it('lists each refund without a verified receipt, the accrual, the variances and stock per offer', () => {
    const t = reports.generate('2026-10').tables;
    expect(t.refundsWithoutReceipt).toEqual([
      expect.objectContaining({ refundId: 'X-1', orderLineId: 'L-3', returnId: 'R-3', link: 'order_line', currency: 'GBP', amountMinor: 1999, madeByApp: false, exceptionId: 1 }),
    ]);
    expect(t.receiptsAwaitingRefund.map((r) => [r.orderLineId, r.currency, r.expectedMinor, r.refundedMinor, r.outstandingMinor, r.ageDays])).toEqual([
      ['L-4', 'GBP', 4000, 3500, 500, 33],
      ['L-2', 'EUR', 3000, 0, 3000, 6],
    ]);
    expect(t.variances.map((v) => [v.orderLineId, v.varianceMinor])).toEqual([
      ['L-3', 1999],
      ['L-4', -500],
    ]);
    expect(t.stockByOffer).toEqual([{ offerSku: 'SKU-A', restored: 1, awaiting: 1, rejected: 0, skipped: 0 }]);
    expect(t.refundsByMiraklReason).toEqual([
      { reason: 'RETURN_DEFECTIVE_ITEM', refundReason: '11', currency: 'GBP', refunds: 1, amountMinor: 1999 },
      { reason: 'RETURN_PDNT_TOO_SMALL', refundReason: '11', currency: 'GBP', refunds: 2, amountMinor: 8500 },
    ]);
    expect(t.refundsByReboundReason.map((r) => [r.reason, r.refunds, r.amountMinor])).toEqual([
      ['Faulty', 1, 1999],
      ['Too small', 2, 8500],
    ]);
    // Open at period end: raised before it, not resolved by it (the PARCEL_STALLED one was resolved on 15 Oct, the
    // STATUS_NOT_PUSHED one raised in November).
    expect(t.openExceptions.map((e) => [e.type, e.owner, e.ageDays, e.isOverdue])).toEqual([['REFUND_WITHOUT_RECEIPT', 'finance', 2, true]]);
  });

  it('says which checks fail and why', () => {
    const checks = Object.fromEntries(reports.generate('2026-10').checks.map((c) => [c.id, c]));
    expect(checks['refunds-backed']).toMatchObject({ status: 'fail', detail: expect.stringContaining('GBP 19.99') });
    expect(checks['refund-amounts']).toMatchObject({ status: 'fail', detail: expect.stringContaining('2 order line(s)') });
    expect(checks['refunds-linked']?.status).toBe('warn');
    expect(checks['audit-chain']?.status).toBe('pass');
  });

  it('gives the same figures for a past month whenever it is run', () => {
    const first = reports.generate('2026-10');
    // November happens: more refunds on the same lines, new returns, a unit verified.
    store.db.prepare(`UPDATE units SET registered_at = '2026-11-04T00:00:00.000Z', stage = 'registered', stage_rank = 4 WHERE id = 'R-3:L-3:1'`).run();
    store.db.prepare(`UPDATE mirakl_returns SET state = 'CLOSED', last_updated = '2026-11-06T00:00:00Z' WHERE id = 'R-2'`).run();
    clock.set(Date.UTC(2026, 11, 15));
    const later = reports.generate('2026-10');
    expect({ ...later, generatedAt: first.generatedAt }).toEqual(first);
    const november = reports.generate('2026-11');
    expect(november.returns).toEqual({ opened: 1, received: 1, refunded: 1, closed: 1 });
    expect(november.money.find((m) => m.currency === 'GBP')).toMatchObject({ refunds: 1, refundedMinor: 500, unbackedRefunds: 0, accrualMinor: 0 });
  });

  it('marks a month that has not ended as provisional, as at now', () => {
    const report = reports.generate('2026-11');
    expect(report.isPeriodComplete).toBe(false);
    expect(report.asOf).toBe('2026-11-03T09:00:00.000Z');
    expect(report.checks.find((c) => c.id === 'data-complete')?.status).toBe('info');
    // The exception raised on 3 Nov at 00:00 is open now.
    expect(report.tables.openExceptions.map((e) => e.type)).toEqual(expect.arrayContaining(['STATUS_NOT_PUSHED']));
  });

  it('refuses a malformed period and a lock before the period ends', () => {
    expect(() => reports.generate('2026-13')).toThrow(/not a period/);
    expect(() => reports.generate('October')).toThrow(/YYYY-MM/);
    expect(() => reports.lock('2026-11')).toThrow(/has not ended yet/);
  });

  it('locks a month: audited, frozen, never locked twice', () => {
    const before = reports.generate('2026-10');
    const lock = reports.lock('2026-10', 'October close');
    expect(() => reports.lock('2026-10')).toThrow(/already locked/);
    const stored = store.db.prepare('SELECT * FROM period_locks').get() as { report: string; report_sha256: string; audit_seq: number };
    expect(sha256(stored.report)).toBe(lock.reportSha256);
    const audit = store.db.prepare('SELECT * FROM audit_log WHERE seq = ?').get(stored.audit_seq) as { action: string; actor: string; subject: string; reason: string; after: string };
    expect(audit).toMatchObject({ action: 'period.lock', actor: 'finance.lead', subject: 'period:2026-10', reason: 'October close' });
    expect(JSON.parse(audit.after)).toMatchObject({ reportSha256: lock.reportSha256, factsSha256: lock.factsSha256 });
    expect(() => store.db.prepare(`UPDATE period_locks SET report = '{}'`).run()).toThrow(/never edited/);
    expect(() => store.db.prepare(`DELETE FROM period_lock_facts`).run()).toThrow(/never edited/);

    const locked = reports.generate('2026-10');
    expect(locked.status).toBe('locked');
    expect(locked.lock).toMatchObject({ lockedBy: 'finance.lead', reason: 'October close', isIntact: true, reportSha256: lock.reportSha256 });
    expect(locked.money).toEqual(before.money);
    expect(locked.changesSinceLock).toEqual([]);
    expect(reports.list().periods.find((p) => p.period === '2026-10')?.lock?.reportSha256).toBe(lock.reportSha256);
  });

  it('shows a later change to a locked month as post-close adjustments, never as an edit', () => {
    reports.lock('2026-10');
    const locked = reports.generate('2026-10');
    clock.set(Date.UTC(2026, 10, 10, 12));
    // A back-office refund dated in October reaches the ledger after the lock.
    store.db
      .prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
        VALUES ('X-2', 'L-2', 'OR-X-2', 3000, 0, 1, '11', 'REFUNDED', '2026-10-30T10:00:00Z', '2026-11-10T12:00:00.000Z', '2026-11-10T12:00:00.000Z')`)
      .run();

    const rerun = reports.generate('2026-10');
    expect(rerun.money).toEqual(locked.money);
    expect(rerun.returns).toEqual(locked.returns);
    expect(rerun.tables).toEqual(locked.tables);
    expect(rerun.changesSinceLock.map((a) => [a.family, a.key, a.change, a.currency, a.amountMinor, a.reportedIn])).toEqual([
      ['return', 'R-2', 'changed', 'EUR', 0, '2026-11'],
      ['refund', 'X-2', 'added', 'EUR', 3000, '2026-11'],
      ['line', 'L-2', 'changed', 'EUR', -3000, '2026-11'],
    ]);
    expect(rerun.changesSinceLock.find((a) => a.key === 'X-2')?.description).toMatch(/Refund X-2 of EUR 30.00 on order line L-2, dated 2026-10-30T10:00:00Z, was not in the locked report \(\+EUR 30.00\)/);

    const november = reports.generate('2026-11');
    expect(november.tables.adjustments.map((a) => a.key)).toEqual(['R-2', 'X-2', 'L-2']);
    expect(november.money.find((m) => m.currency === 'EUR')).toMatchObject({ adjustedRefundsMinor: 3000, adjustedAccrualMinor: -3000 });
    expect(november.checks.find((c) => c.id === 'adjustments')?.status).toBe('warn');

    // Noticed again, recorded once; changed again, recorded from the last known state.
    reports.generate('2026-11');
    store.db.prepare(`UPDATE mirakl_refunds SET amount_minor = 2500 WHERE id = 'X-2'`).run();
    const again = reports.generate('2026-11');
    expect(again.tables.adjustments.map((a) => [a.key, a.change, a.amountMinor])).toEqual([
      ['R-2', 'changed', 0],
      ['X-2', 'added', 3000],
      ['L-2', 'changed', -3000],
      ['X-2', 'changed', -500],
      ['L-2', 'changed', 500],
    ]);
    expect(reports.generate('2026-10').money).toEqual(locked.money);
    expect(reports.list().periods.find((p) => p.period === '2026-10')?.changesSinceLock).toBe(5);
  });

  it('freezes the adjustments a month showed when that month is locked', () => {
    reports.lock('2026-10');
    store.db
      .prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
        VALUES ('X-2', 'L-2', 'OR-X-2', 3000, 0, 1, '11', 'REFUNDED', '2026-10-30T10:00:00Z', '2026-11-10T12:00:00.000Z', '2026-11-10T12:00:00.000Z')`)
      .run();
    clock.set(Date.UTC(2026, 11, 2));
    expect(reports.lock('2026-11').adjustments).toBe(3);
    // A change to October found now goes to December, the first month still open.
    store.db.prepare(`UPDATE mirakl_refunds SET amount_minor = 2000 WHERE id = 'X-2'`).run();
    const december = reports.generate('2026-12');
    // October's refund and receipt line moved; so did November's receipt line (refunded by the end of November).
    expect(december.tables.adjustments.map((a) => [a.period, a.key, a.amountMinor])).toEqual([
      ['2026-10', 'X-2', -1000],
      ['2026-10', 'L-2', 1000],
      ['2026-11', 'L-2', 1000],
    ]);
    expect(reports.generate('2026-11').tables.adjustments).toHaveLength(3);
  });
});
