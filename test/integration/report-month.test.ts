import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../core/audit/log';
import type { Report } from '../../core/contract/reports';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { createReconciler } from '../../core/store/reconcile/pass';
import { createReports, type Reports } from '../../core/report/service';
import { defaultScenario } from '../../core/sandbox/scenario';
import type { Sandbox } from '../../core/sandbox/index';
import { createResolutions } from '../../core/reconcile/resolutions';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// A sandbox October run through the real engine, then its month-end report checked against the sandbox's own ground
// truth: what Mirakl really holds (returns, refunds, their dates), what ReBound physically received and when, what
// stock came back. The truth is captured at the stroke of midnight on 31 October, so "as at period end" figures are
// checked against the world as it was then, while the report is made days later.

const hour = 3_600_000;
const day = 24 * hour;
const start = defaultScenario.startMs; // 2026-10-01T00:00Z
const periodEnd = Date.UTC(2026, 10, 1);
const inOctober = (iso: string) => Date.parse(iso) >= start && Date.parse(iso) < periodEnd;
type Truth = ReturnType<Sandbox['truth']>;

describe('month-end report of a sandbox October', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let reports: Reports;
  let atEnd: Truth;
  let october: Report;
  const injected: { october: string; backdated: string } = { october: '', backdated: '' };
  const mappings = loadMappings(shippedMappingsDir);

  /** A refund made in Mirakl's back office on a return line ReBound will never receive (the parcel was never sent). */
  function backOfficeRefund(truth: Truth, skip: string[]): { lineId: string; amountMinor: number } {
    for (const ro of truth.rebound.returnOrders) {
      if (!ro.anomalies.includes('parcelNeverSent')) continue;
      const ret = truth.mirakl.returns.find((r) => r.orderId === ro.clientOrderId);
      const lineId = ret?.lines.map((l) => l.orderLineId).find((id) => !skip.includes(id) && !truth.mirakl.refundsByLine[id]);
      const line = lineId ? h.sandbox.world.findLine(lineId)?.line : undefined;
      if (lineId && line) return { lineId, amountMinor: line.priceUnitMinor };
    }
    throw new Error('the scenario has no return whose parcel was never sent: pick another seed');
  }

  beforeAll(async () => {
    temp = makeTempDir();
    h = await startHarness({
      seed: 8,
      dataDir: temp.dir,
      scenario: { historyDays: 0, ordersPerDay: 120, ordersUntilMs: start + 2 * day, returnAfterDays: [1, 5] },
    });
    const stepUntil = async (until: number, stepMs: number) => {
      while (h.clock.now() < until) await h.step(Math.min(stepMs, until - h.clock.now()));
    };
    // Parcels move for the first three weeks; after that only refunds settle and returns close, so longer steps do.
    await stepUntil(start + 12 * day, 2 * hour);
    const first = backOfficeRefund(h.sandbox.truth(), []);
    injected.october = h.sandbox.world.refund([{ order_line_id: first.lineId, amount: first.amountMinor / 100, shipping_amount: 0, reason_code: '11' }])[0]?.id ?? '';
    // Someone else refunded the shop: refunds and stock updates pause (FOREIGN_WRITE) until finance acknowledges it.
    await stepUntil(start + 13 * day, 2 * hour);
    const foreign = (h.store.db.prepare(`SELECT id FROM exceptions WHERE type = 'FOREIGN_WRITE' AND subject_key = ? AND state != 'resolved'`).all(`refund:${injected.october}`) as { id: number }[]).map((r) => r.id);
    if (foreign.length !== 1) throw new Error(`the back-office refund ${injected.october} raised ${foreign.length} FOREIGN_WRITE exception(s), expected 1`);
    createResolutions(h.ctx, createAuditLog(h.store.db, h.clock)).act(foreign, { action: 'acknowledge', reason: 'goodwill refund agreed by customer service' }, 'finance.lead');
    await stepUntil(start + 21 * day, 2 * hour);
    // The last step lands a millisecond before midnight: the truth then is the world as at period end.
    await stepUntil(periodEnd - 1, 6 * hour);
    atEnd = h.sandbox.truth();
    await stepUntil(periodEnd + 2 * day, 6 * hour);
    createReconciler(h.store.db, h.clock).run(mappings.policy);
    reports = createReports({ db: h.store.db, clock: h.clock, audit: createAuditLog(h.store.db, h.clock), mappings: () => mappings, actor: () => 'finance.lead', appVersion: 'test' });
    october = reports.generate('2026-10');
    console.info(JSON.stringify({ returns: october.returns, units: october.units, money: october.money.map((m) => [m.currency, m.refunds, m.refundedMinor, m.accrualMinor]) }));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    temp?.remove();
  });

  /** When ReBound registered each return order's parcel (its first registered status), per Mirakl return. */
  const registeredAt = (truth: Truth) => {
    const byReturn = new Map<string, { at: string; received: number }>();
    for (const ro of truth.rebound.returnOrders) {
      const at = ro.statusHistory.find((s) => s.status === 'ITEMS_REGISTERED' || s.status === 'PROCESSED')?.at;
      const received = ro.units.filter((u) => u.isReceived && u.fate === 'announced').length;
      const ret = truth.mirakl.returns.find((r) => r.orderId === ro.clientOrderId);
      if (at && ret) byReturn.set(ret.id, { at, received });
    }
    return byReturn;
  };
  const receivedByLine = (truth: Truth) => {
    const lines = new Map<string, number>();
    for (const ro of truth.rebound.returnOrders) {
      for (const u of ro.units) if (u.isReceived && u.fate === 'announced') lines.set(u.clientItemId, (lines.get(u.clientItemId) ?? 0) + 1);
    }
    return lines;
  };
  const lineOf = (id: string) => {
    const found = h.sandbox.world.findLine(id);
    if (!found) throw new Error(`no order line ${id} in the sandbox`);
    return { currency: found.order.currency as string, priceUnitMinor: found.line.priceUnitMinor };
  };

  it('runs in a quiet month end, so the engine saw everything ReBound did before midnight', () => {
    // The report dates a receipt by when the engine recorded it; the truth by when ReBound made it. They agree as
    // long as nothing physical happened in the last hours of the month, which this scenario guarantees.
    const late = [...registeredAt(atEnd).values()].filter((r) => Date.parse(r.at) > periodEnd - 12 * hour);
    expect(late).toEqual([]);
    expect(atEnd.mirakl.returns.length).toBeGreaterThan(20);
  });

  it("counts returns opened, received, refunded and closed as Mirakl's and ReBound's records say", () => {
    const truth = h.sandbox.truth();
    const opened = truth.mirakl.returns.filter((r) => inOctober(r.createdAt)).length;
    const closed = truth.mirakl.returns.filter((r) => r.history.some((x) => x.includes('>CLOSED') && inOctober(x.split(' ')[0] ?? ''))).length;
    const received = [...registeredAt(truth).values()].filter((r) => r.received > 0 && inOctober(r.at)).length;
    const refunded = truth.mirakl.returns.filter((r) => r.lines.some((l) => (truth.mirakl.refundsByLine[l.orderLineId] ?? []).some((f) => inOctober(f.createdAt)))).length;
    expect(october.returns).toEqual({ opened, received, refunded, closed });
    expect(closed).toBeGreaterThan(0);
  });

  it('totals the refunds Mirakl dated in October per currency, backed or not by a receipt verified before midnight', () => {
    const truth = h.sandbox.truth();
    const received = receivedByLine(atEnd);
    const expected = new Map<string, { refunds: number; refundedMinor: number; shippingRefundedMinor: number; backedRefunds: number; backedMinor: number; unbacked: string[] }>();
    for (const [lineId, refunds] of Object.entries(truth.mirakl.refundsByLine)) {
      const { currency } = lineOf(lineId);
      for (const f of refunds.filter((x) => inOctober(x.createdAt))) {
        const e = expected.get(currency) ?? { refunds: 0, refundedMinor: 0, shippingRefundedMinor: 0, backedRefunds: 0, backedMinor: 0, unbacked: [] };
        e.refunds++;
        e.refundedMinor += f.amountMinor;
        e.shippingRefundedMinor += f.shippingMinor;
        if ((received.get(lineId) ?? 0) > 0) {
          e.backedRefunds++;
          e.backedMinor += f.amountMinor;
        } else e.unbacked.push(f.id);
        expected.set(currency, e);
      }
    }
    for (const [currency, e] of expected) {
      expect(october.money.find((m) => m.currency === currency)).toMatchObject({
        currency,
        refunds: e.refunds,
        refundedMinor: e.refundedMinor,
        shippingRefundedMinor: e.shippingRefundedMinor,
        backedRefunds: e.backedRefunds,
        backedMinor: e.backedMinor,
      });
    }
    expect(october.money.filter((m) => m.refunds > 0).map((m) => m.currency).sort()).toEqual([...expected.keys()].sort());
    // The back-office refund is the one refund without a receipt, listed on its own.
    expect([...expected.values()].flatMap((e) => e.unbacked)).toEqual([injected.october]);
    expect(october.tables.refundsWithoutReceipt.map((r) => r.refundId)).toEqual([injected.october]);
    expect(october.checks.find((c) => c.id === 'refunds-backed')?.status).toBe('fail');
  });

  it('lists the receipts awaiting refund at midnight and the variance of the lines refunded, from the world as it was then', () => {
    const received = receivedByLine(atEnd);
    const refundedBy = (lineId: string) => (atEnd.mirakl.refundsByLine[lineId] ?? []).reduce((s, f) => s + f.amountMinor, 0);
    const accrual = [...received]
      .map(([lineId, units]) => ({ lineId, ...lineOf(lineId), outstanding: units * lineOf(lineId).priceUnitMinor - refundedBy(lineId) }))
      .filter((l) => l.outstanding > 0);
    expect(october.tables.receiptsAwaitingRefund.map((r) => [r.orderLineId, r.outstandingMinor]).sort()).toEqual(accrual.map((l) => [l.lineId, l.outstanding]).sort());
    const refundedLines = Object.entries(h.sandbox.truth().mirakl.refundsByLine).filter(([, fs]) => fs.some((f) => inOctober(f.createdAt)));
    for (const m of october.money) {
      const lines = refundedLines.filter(([id]) => lineOf(id).currency === m.currency);
      expect(m.expectedMinor).toBe(lines.reduce((s, [id]) => s + (received.get(id) ?? 0) * lineOf(id).priceUnitMinor, 0));
      expect(m.refundedToDateMinor).toBe(lines.reduce((s, [id]) => s + refundedBy(id), 0));
      expect(m.accrualMinor).toBe(accrual.filter((l) => l.currency === m.currency).reduce((s, l) => s + l.outstanding, 0));
    }
    expect(october.units.verified).toBe([...received.values()].reduce((s, n) => s + n, 0));
  });

  it('restocks per offer exactly the sellable units ReBound graded in October', () => {
    const sellable = new Map<string, number>();
    for (const ro of atEnd.rebound.returnOrders) {
      if (!ro.statusHistory.some((s) => s.status === 'PROCESSED')) continue;
      for (const u of ro.units) {
        if (u.isReceived && u.fate === 'announced' && (u.grade === 'A_SELLABLE' || u.grade === 'B_SELLABLE_MINOR')) sellable.set(u.sku, (sellable.get(u.sku) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(october.tables.stockByOffer.map((s) => [s.offerSku, s.restored]))).toEqual(Object.fromEntries(sellable));
    expect(october.units.restocked).toBe([...sellable.values()].reduce((s, n) => s + n, 0));
  });

  it('shows a refund dated in October that reaches the ledger after the lock as a post-close adjustment', async () => {
    const locked = reports.lock('2026-10', 'October close');
    const { lineId, amountMinor } = backOfficeRefund(h.sandbox.truth(), []);
    const found = h.sandbox.world.findLine(lineId);
    if (!found) throw new Error('line vanished');
    // Mirakl's back office records a refund dated 31 October; the bridge reads it on its next pass over the order.
    const backdated = Date.UTC(2026, 9, 31, 12);
    injected.backdated = '99001';
    found.line.refunds.push({ id: injected.backdated, orderRefundId: 'ORF-BO', orderLineId: lineId, createdAt: backdated, amountMinor, shippingMinor: 0, taxMinor: 0, quantity: 1, reasonCode: '11', state: 'REFUNDED', settledAt: backdated });
    found.line.lastUpdated = h.clock.now();
    for (let i = 0; i < 6; i++) await h.step(2 * hour);

    const rerun = reports.generate('2026-10');
    expect(rerun.status).toBe('locked');
    expect(rerun.lock?.reportSha256).toBe(locked.reportSha256);
    expect(rerun.money).toEqual(october.money);
    expect(rerun.changesSinceLock.find((a) => a.family === 'refund')).toMatchObject({ key: injected.backdated, change: 'added', amountMinor: amountMinor, reportedIn: '2026-11' });
    const november = reports.generate('2026-11');
    expect(november.tables.adjustments.find((a) => a.key === injected.backdated)).toMatchObject({ period: '2026-10', amountMinor });
  });
});
