import type { MoneyTotals, Report } from '../../../../core/contract';
import { formatCount, formatDateTime, formatMoney } from '../../app/format';

// The report's tables as the Reports view shows them: the same tables, titles and columns as the exported files
// (CSV, XLSX, PDF), each cell already text for a finance analyst: money in its row's currency, dates in the locale.

export interface ReportColumn {
  header: string;
  isNumeric: boolean;
  /** Identifiers and dates stay on one line, so they read (and copy) whole; prose gets room to be read. */
  fit: 'normal' | 'nowrap' | 'wide';
}

export interface ReportTable {
  id: string;
  title: string;
  about: string;
  columns: ReportColumn[];
  /** Each row as the text of its cells, in column order. */
  rows(report: Report): string[][];
  /** Shown only for a locked report. */
  isLockedOnly?: boolean;
}

interface Column<Row> extends ReportColumn {
  cell(row: Row): string;
}

type Tables = Report['tables'];
type RowOf<K extends keyof Tables> = Tables[K][number];

const text = <Row>(header: string, get: (row: Row) => string | null): Column<Row> => ({ header, isNumeric: false, fit: 'normal', cell: (row) => get(row) ?? '—' });
const id = <Row>(header: string, get: (row: Row) => string | null): Column<Row> => ({ ...text(header, get), fit: 'nowrap' });
const prose = <Row>(header: string, get: (row: Row) => string | null): Column<Row> => ({ ...text(header, get), fit: 'wide' });
const int = <Row>(header: string, get: (row: Row) => number | null): Column<Row> => ({
  header,
  isNumeric: true,
  fit: 'nowrap',
  cell: (row) => {
    const n = get(row);
    return n === null ? '—' : formatCount(n);
  },
});
const money = <Row extends { currency: string | null }>(header: string, get: (row: Row) => number): Column<Row> => ({
  header,
  isNumeric: true,
  fit: 'nowrap',
  cell: (row) => formatMoney(get(row), row.currency),
});
const date = <Row>(header: string, get: (row: Row) => string | null): Column<Row> => ({ header, isNumeric: false, fit: 'nowrap', cell: (row) => formatDateTime(get(row)) });
const yesNo = <Row>(header: string, get: (row: Row) => boolean): Column<Row> => ({ header, isNumeric: false, fit: 'normal', cell: (row) => (get(row) ? 'Yes' : 'No') });

function table<Row>(spec: { id: string; title: string; about: string; columns: Column<Row>[]; rows(report: Report): Row[]; isLockedOnly?: boolean }): ReportTable {
  return {
    id: spec.id,
    title: spec.title,
    about: spec.about,
    columns: spec.columns.map(({ header, isNumeric, fit }) => ({ header, isNumeric, fit })),
    rows: (report) => spec.rows(report).map((row) => spec.columns.map((c) => c.cell(row))),
    ...(spec.isLockedOnly ? { isLockedOnly: true } : {}),
  };
}

export const linkLabels: Record<RowOf<'refundsWithoutReceipt'>['link'], string> = {
  exact: 'Made by this app',
  confirmed: 'Confirmed by a person',
  suggested: 'Suggested only',
  ambiguous: 'Ambiguous',
  order_line: 'Order line only',
  none: 'Not tied',
};

const adjustmentColumns: Column<RowOf<'adjustments'>>[] = [
  text('Locked period', (r) => r.period),
  text('Reported in', (r) => r.reportedIn),
  text('Kind', (r) => r.family),
  id('Key', (r) => r.key),
  text('Change', (r) => r.change),
  text('Currency', (r) => r.currency),
  money('Amount', (r) => r.amountMinor),
  date('Found at', (r) => r.detectedAt),
  prose('What changed', (r) => r.description),
];

export const reportTables: ReportTable[] = [
  table<RowOf<'refundsWithoutReceipt'>>({
    id: 'refunds-without-receipt',
    title: 'Refunds without a verified receipt',
    about: 'Refunds dated in the period on order lines with no unit ReBound verified before period end, one by one.',
    columns: [
      id('Refund', (r) => r.refundId),
      id('Order', (r) => r.orderId),
      id('Order line', (r) => r.orderLineId),
      id('Return', (r) => r.returnId),
      text('Tied by', (r) => linkLabels[r.link]),
      date('Dated', (r) => r.dateCreated),
      text('Currency', (r) => r.currency),
      money('Amount', (r) => r.amountMinor),
      text('State', (r) => r.state),
      text('Reason', (r) => r.reasonCode),
      yesNo('Made by this app', (r) => r.madeByApp),
      prose('Override', (r) => r.override),
      int('Exception', (r) => r.exceptionId),
    ],
    rows: (r) => r.tables.refundsWithoutReceipt,
  }),
  table<RowOf<'receiptsAwaitingRefund'>>({
    id: 'receipts-awaiting-refund',
    title: 'Receipts awaiting refund (accrual)',
    about: 'Order lines whose units ReBound verified before period end, worth more than everything Mirakl refunded on them by then.',
    columns: [
      id('Order line', (r) => r.orderLineId),
      id('Order', (r) => r.orderId),
      id('Return', (r) => r.returnId),
      id('Offer SKU', (r) => r.offerSku),
      date('First verified', (r) => r.firstVerifiedAt),
      int('Verified units', (r) => r.verifiedUnits),
      text('Currency', (r) => r.currency),
      money('Expected', (r) => r.expectedMinor),
      money('Refunded', (r) => r.refundedMinor),
      money('Outstanding', (r) => r.outstandingMinor),
      int('Age (days)', (r) => r.ageDays),
    ],
    rows: (r) => r.tables.receiptsAwaitingRefund,
  }),
  table<RowOf<'variances'>>({
    id: 'variances',
    title: 'Variance between expected and refunded',
    about: "Order lines refunded in the period whose refunds differ from the verified units' worth by more than the tolerance.",
    columns: [
      id('Order line', (r) => r.orderLineId),
      id('Order', (r) => r.orderId),
      id('Return', (r) => r.returnId),
      text('Currency', (r) => r.currency),
      int('Verified units', (r) => r.verifiedUnits),
      money('Expected', (r) => r.expectedMinor),
      money('Refunded', (r) => r.refundedMinor),
      money('Variance', (r) => r.varianceMinor),
    ],
    rows: (r) => r.tables.variances,
  }),
  table<RowOf<'refundsByMiraklReason'>>({
    id: 'refunds-by-mirakl-reason',
    title: 'Refunds by Mirakl reason',
    about: "Refunds dated in the period by the customer's return reason in Mirakl and the refund reason sent with them.",
    columns: [
      text('Return reason', (r) => r.reason),
      text('Refund reason', (r) => r.refundReason),
      text('Currency', (r) => r.currency),
      int('Refunds', (r) => r.refunds),
      money('Amount', (r) => r.amountMinor),
    ],
    rows: (r) => r.tables.refundsByMiraklReason,
  }),
  table<RowOf<'refundsByReboundReason'>>({
    id: 'refunds-by-rebound-reason',
    title: 'Refunds by ReBound reason',
    about: 'Refunds dated in the period by the reason ReBound recorded for the returned items.',
    columns: [text('ReBound reason', (r) => r.reason), text('Currency', (r) => r.currency), int('Refunds', (r) => r.refunds), money('Amount', (r) => r.amountMinor)],
    rows: (r) => r.tables.refundsByReboundReason,
  }),
  table<RowOf<'stockByOffer'>>({
    id: 'stock-by-offer',
    title: 'Stock restored per offer',
    about: 'Sellable units put back on their Mirakl offer in the period, and those still waiting at period end.',
    columns: [
      id('Offer SKU', (r) => r.offerSku),
      int('Restored', (r) => r.restored),
      int('Awaiting at period end', (r) => r.awaiting),
      int('Rejected', (r) => r.rejected),
      int('Skipped', (r) => r.skipped),
    ],
    rows: (r) => r.tables.stockByOffer,
  }),
  table<RowOf<'openExceptions'>>({
    id: 'open-exceptions',
    title: 'Open exceptions at period end',
    about: 'Exceptions raised before period end and not resolved by then, most severe first, with their owner and age.',
    columns: [
      int('Id', (r) => r.id),
      text('Type', (r) => r.type),
      text('Severity', (r) => r.severity),
      text('Owner', (r) => r.owner),
      text('Assignee', (r) => r.assignee),
      text('State now', (r) => r.state),
      id('Return', (r) => r.returnId),
      date('Raised', (r) => r.detectedAt),
      int('Age (days)', (r) => r.ageDays),
      date('SLA due', (r) => r.slaDueAt),
      yesNo('Overdue', (r) => r.isOverdue),
      prose('Cause', (r) => r.cause),
    ],
    rows: (r) => r.tables.openExceptions,
  }),
  table<RowOf<'adjustments'>>({
    id: 'adjustments',
    title: 'Post-close adjustments',
    about: 'Changes touching earlier locked periods, found while this period was open. The locked reports are not changed.',
    columns: adjustmentColumns,
    rows: (r) => r.tables.adjustments,
  }),
  table<RowOf<'adjustments'>>({
    id: 'changes-since-lock',
    title: 'Changes since this period was locked',
    about: 'Changes touching this locked period found after it was locked; each is reported as an adjustment in the period named.',
    columns: adjustmentColumns,
    rows: (r) => r.changesSinceLock,
    isLockedOnly: true,
  }),
];

export interface MoneyMeasure {
  label: string;
  cell(totals: MoneyTotals): string;
  /** A figure a finance analyst must look at (a refund with no receipt, a variance). */
  isAlert?(totals: MoneyTotals, toleranceMinor: number): boolean;
}

const refunds = (n: number) => `${formatCount(n)} refund${n === 1 ? '' : 's'}`;

/** The money totals, one row per measure and one column per currency (never summed across currencies). */
export const moneyMeasures: MoneyMeasure[] = [
  { label: 'Refunds dated in the period', cell: (m) => formatCount(m.refunds) },
  { label: 'Refunded (goods)', cell: (m) => formatMoney(m.refundedMinor, m.currency) },
  { label: 'Shipping refunded', cell: (m) => formatMoney(m.shippingRefundedMinor, m.currency) },
  { label: 'Backed by a verified receipt', cell: (m) => `${formatMoney(m.backedMinor, m.currency)} (${refunds(m.backedRefunds)})` },
  {
    label: 'Not backed by a verified receipt',
    cell: (m) => `${formatMoney(m.unbackedMinor, m.currency)} (${refunds(m.unbackedRefunds)})`,
    isAlert: (m) => m.unbackedRefunds > 0,
  },
  { label: 'Expected for the verified units', cell: (m) => formatMoney(m.expectedMinor, m.currency) },
  { label: 'Refunded on those lines by period end', cell: (m) => formatMoney(m.refundedToDateMinor, m.currency) },
  { label: 'Variance', cell: (m) => formatMoney(m.varianceMinor, m.currency), isAlert: (m, tolerance) => Math.abs(m.varianceMinor) > tolerance },
  {
    label: 'Awaiting refund (accrual)',
    cell: (m) => `${formatMoney(m.accrualMinor, m.currency)} (${formatCount(m.accrualLines)} line${m.accrualLines === 1 ? '' : 's'})`,
  },
  { label: 'Adjusted refunds (earlier locked periods)', cell: (m) => formatMoney(m.adjustedRefundsMinor, m.currency) },
  { label: 'Adjusted accrual (earlier locked periods)', cell: (m) => formatMoney(m.adjustedAccrualMinor, m.currency) },
];

export const checkStatusLabels: Record<Report['checks'][number]['status'], string> = { pass: 'Pass', fail: 'Fail', warn: 'Warning', info: 'Info' };
