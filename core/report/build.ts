import type { AdjustmentRow, MoneyTotals, Report, ReportCheck, ReportTables } from '../contract/reports';
import type { Store } from '../store/db';
import { createMoneyFigures } from '../store/money-figures';
import { createReportFigures } from '../store/report/figures-repo';
import { moneyList } from './money';
import type { Period } from './period';

// The report of one period, assembled from the facts in the temp tables (core/store/report/facts.ts must have been
// built for this period in the same transaction). Every figure is a sum or a count of those facts; money is summed
// per currency in SQL on integer minor units (core/store/report/figures-repo.ts).

const dayMs = 86_400_000;

export interface BuildOptions {
  period: Period;
  now: number;
  toleranceMinor: number;
  /** A verified receipt unrefunded for this long is stalled (policy sla.refundStalledHours). */
  refundStalledHours: number;
  mappingVersions: Record<string, string>;
  /** Post-close adjustments to earlier locked periods that this report shows. */
  adjustments: AdjustmentRow[];
  /** The audit log's own verification at generation time. */
  audit: { ok: boolean; entries: number; problems: { seq: number; detail: string }[] };
}

export function asOfOf(period: Period, now: number): { asOfMs: number; asOf: string; isComplete: boolean } {
  const isComplete = now >= period.toMs;
  const asOfMs = isComplete ? period.toMs : now;
  return { asOfMs, asOf: new Date(asOfMs).toISOString(), isComplete };
}

export function createReportBuilder(db: Store['db']) {
  const { returns, units, refundMoney, expectedMoney, accrualMoney, byMiraklReason, byReboundReason, unbacked, accrual, stock, exceptions, variances, unlinked, feeds } = createReportFigures(db);
  const moneyFigures = createMoneyFigures(db);

  return {
    build(options: BuildOptions): Report {
      const { period, now } = options;
      const { asOf, asOfMs, isComplete } = asOfOf(period, now);
      const ageDays = (at: string | null) => (at ? Math.max(0, Math.floor((asOfMs - Date.parse(at)) / dayMs)) : 0);

      const tables: ReportTables = {
        refundsByMiraklReason: byMiraklReason.all().map((r) => ({ reason: r.reason, refundReason: r.refund_reason, currency: r.currency, refunds: r.n, amountMinor: r.amount })),
        refundsByReboundReason: byReboundReason.all().map((r) => ({ reason: r.reason, currency: r.currency, refunds: r.n, amountMinor: r.amount })),
        refundsWithoutReceipt: unbacked.all().map((r) => ({
          refundId: r.id,
          orderId: r.order_id,
          orderLineId: r.order_line_id,
          returnId: r.return_id,
          link: r.link as ReportTables['refundsWithoutReceipt'][number]['link'],
          dateCreated: r.date_created,
          currency: r.currency,
          amountMinor: r.amount_minor,
          state: r.refund_state,
          reasonCode: r.reason_code,
          madeByApp: r.made_by_app === 1,
          override: r.override,
          exceptionId: r.exception_id,
        })),
        receiptsAwaitingRefund: accrual.all().map((r) => ({
          orderLineId: r.order_line_id,
          orderId: r.order_id,
          returnId: r.return_id,
          offerSku: r.offer_sku,
          firstVerifiedAt: r.first_verified_at,
          verifiedUnits: r.verified,
          currency: r.currency,
          expectedMinor: r.expected_minor,
          refundedMinor: r.refunded_minor,
          outstandingMinor: r.expected_minor - r.refunded_minor,
          ageDays: ageDays(r.first_verified_at),
        })),
        stockByOffer: stock.all().map((r) => ({ offerSku: r.offer_sku, restored: r.restored, awaiting: r.awaiting, rejected: r.rejected, skipped: r.skipped })),
        openExceptions: exceptions.all().map((r) => ({
          id: r.id,
          type: r.type,
          severity: r.severity,
          owner: r.owner_team,
          assignee: r.assignee,
          state: r.state,
          returnId: r.return_id,
          subjectKey: r.subject_key,
          detectedAt: r.detected_at,
          ageDays: ageDays(r.detected_at),
          slaDueAt: r.sla_due_at,
          isOverdue: r.sla_due_at !== null && Date.parse(r.sla_due_at) < asOfMs,
          cause: r.cause,
        })),
        variances: variances.all({ tolerance: options.toleranceMinor }).map((r) => ({
          orderLineId: r.order_line_id,
          orderId: r.order_id,
          returnId: r.return_id,
          currency: r.currency,
          verifiedUnits: r.verified,
          expectedMinor: r.expected_minor,
          refundedMinor: r.refunded_minor,
          varianceMinor: r.refunded_minor - r.expected_minor,
        })),
        adjustments: options.adjustments,
      };

      const money = moneyTotals(refundMoney.all(), expectedMoney.all(), accrualMoney.all(), options.adjustments);
      const u = units.get();
      const report: Report = {
        format: 'returns-workbench/report@1',
        period: period.id,
        from: period.from,
        to: period.to,
        asOf,
        isPeriodComplete: isComplete,
        generatedAt: new Date(now).toISOString(),
        status: 'live',
        lock: null,
        toleranceMinor: options.toleranceMinor,
        mappingVersions: options.mappingVersions,
        returns: returns.get(),
        units: { verified: u.verified, restocked: u.restocked, awaitingRestock: u.awaiting },
        money,
        figures: moneyFigures.at(asOf, period.from),
        checks: [],
        tables,
        changesSinceLock: [],
      };
      report.checks = checksOf(report, {
        unlinked: unlinked.get().n,
        feeds: feeds.get(),
        audit: options.audit,
        refundStalledDays: Math.max(1, Math.ceil(options.refundStalledHours / 24)),
      });
      return report;
    },
  };
}

function moneyTotals(
  refunds: { currency: string; n: number; amount: number; shipping: number; backed_n: number; backed: number }[],
  expected: { currency: string; expected: number; refunded: number }[],
  accrual: { currency: string; n: number; amount: number }[],
  adjustments: AdjustmentRow[],
): MoneyTotals[] {
  const currencies = [
    ...new Set([...refunds.map((r) => r.currency), ...expected.map((r) => r.currency), ...accrual.map((r) => r.currency), ...adjustments.flatMap((a) => (a.currency ? [a.currency] : []))]),
  ].sort();
  return currencies.map((currency) => {
    const r = refunds.find((x) => x.currency === currency);
    const e = expected.find((x) => x.currency === currency);
    const a = accrual.find((x) => x.currency === currency);
    const adjusted = (family: AdjustmentRow['family']) =>
      adjustments.filter((x) => x.currency === currency && x.family === family).reduce((s, x) => s + x.amountMinor, 0);
    return {
      currency,
      refunds: r?.n ?? 0,
      refundedMinor: r?.amount ?? 0,
      shippingRefundedMinor: r?.shipping ?? 0,
      backedRefunds: r?.backed_n ?? 0,
      backedMinor: r?.backed ?? 0,
      unbackedRefunds: (r?.n ?? 0) - (r?.backed_n ?? 0),
      unbackedMinor: (r?.amount ?? 0) - (r?.backed ?? 0),
      expectedMinor: e?.expected ?? 0,
      refundedToDateMinor: e?.refunded ?? 0,
      varianceMinor: (e?.refunded ?? 0) - (e?.expected ?? 0),
      accrualLines: a?.n ?? 0,
      accrualMinor: a?.amount ?? 0,
      adjustedRefundsMinor: adjusted('refund'),
      adjustedAccrualMinor: adjusted('line'),
    };
  });
}

function checksOf(
  report: Report,
  context: { unlinked: number; feeds: { feeds: number; oldest: string | null }; audit: BuildOptions['audit']; refundStalledDays: number },
): ReportCheck[] {
  const t = report.tables;
  const per = (pick: (m: MoneyTotals) => number) => moneyList(report.money.map((m) => ({ currency: m.currency, minor: pick(m) })));
  const refunds = report.money.reduce((s, m) => s + m.refunds, 0);
  const checks: ReportCheck[] = [];
  const unbacked = t.refundsWithoutReceipt.length;
  checks.push({
    id: 'refunds-backed',
    label: 'Every refund is backed by a verified receipt',
    status: unbacked === 0 ? 'pass' : 'fail',
    detail:
      unbacked === 0
        ? `All ${refunds} refund(s) dated in the period are on order lines ReBound verified before period end.`
        : `${unbacked} of ${refunds} refund(s), ${per((m) => m.unbackedMinor)}, have no receipt verified by period end: listed one by one under "Refunds without a verified receipt".`,
  });
  const variances = t.variances.length;
  checks.push({
    id: 'refund-amounts',
    label: 'Refunded amounts match the verified units',
    status: variances === 0 ? 'pass' : 'fail',
    detail:
      variances === 0
        ? `On every order line refunded in the period, the refunds match the verified units' worth within ${report.toleranceMinor} minor unit(s).`
        : `${variances} order line(s) differ by more than ${report.toleranceMinor} minor unit(s); net variance ${per((m) => m.varianceMinor)}.`,
  });
  checks.push({
    id: 'refunds-linked',
    label: 'Every refund is tied to its return',
    status: context.unlinked === 0 ? 'pass' : 'warn',
    detail:
      context.unlinked === 0
        ? 'Every refund was made by this app or matched to its return line by a person.'
        : `${context.unlinked} refund(s) were not made by this app and no person has confirmed which return they belong to (the report uses the suggested or latest return of the order line).`,
  });
  const accrualLines = t.receiptsAwaitingRefund.length;
  const stale = t.receiptsAwaitingRefund.filter((r) => r.ageDays >= context.refundStalledDays).length;
  checks.push({
    id: 'receipts-refunded',
    label: 'Verified receipts are refunded',
    status: accrualLines === 0 ? 'pass' : stale > 0 ? 'warn' : 'info',
    detail:
      accrualLines === 0
        ? 'No verified receipt was waiting for its refund at period end.'
        : `${accrualLines} order line(s) with verified receipts were not fully refunded at period end: ${per((m) => m.accrualMinor)} to accrue${stale ? `; ${stale} of them verified ${context.refundStalledDays} or more days before` : ''}.`,
  });
  const critical = t.openExceptions.filter((e) => e.severity === 'critical').length;
  checks.push({
    id: 'exceptions',
    label: 'Open exceptions at period end',
    status: critical > 0 ? 'warn' : 'info',
    detail: `${t.openExceptions.length} exception(s) open${critical ? `, ${critical} critical` : ''}; ${t.openExceptions.filter((e) => e.isOverdue).length} past their SLA.`,
  });
  checks.push({
    id: 'audit-chain',
    label: 'Audit log is intact',
    status: context.audit.ok ? 'pass' : 'fail',
    detail: context.audit.ok
      ? `All ${context.audit.entries} audit entries chain correctly.`
      : `The audit log's hash chain breaks at ${context.audit.problems.map((p) => `entry ${p.seq} (${p.detail})`).join('; ')}.`,
  });
  const synced = context.feeds.feeds > 0 && context.feeds.oldest ? context.feeds.oldest : null;
  checks.push({
    id: 'data-complete',
    label: 'Data synced after period end',
    status: !report.isPeriodComplete ? 'info' : synced && synced >= report.to ? 'pass' : 'warn',
    detail: !report.isPeriodComplete
      ? `The period has not ended: figures are as at ${report.asOf} and will change.`
      : synced && synced >= report.to
        ? `Every feed has synced successfully since period end (the oldest at ${synced}).`
        : synced
          ? `A feed last synced successfully at ${synced}, before period end: refunds or receipts dated in the period may still arrive.`
          : 'No feed has synced successfully yet: the figures may be incomplete.',
  });
  if (t.adjustments.length > 0) {
    checks.push({
      id: 'adjustments',
      label: 'Post-close adjustments',
      status: 'warn',
      detail: `${t.adjustments.length} change(s) touching locked period(s) ${[...new Set(t.adjustments.map((a) => a.period))].join(', ')} were found after they were locked: refunds ${per((m) => m.adjustedRefundsMinor)}, receipts awaiting refund ${per((m) => m.adjustedAccrualMinor)}.`,
    });
  }
  return checks;
}
