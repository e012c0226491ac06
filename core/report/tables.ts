import type { Report } from '../contract/reports';

// The report's tables as every export lays them out: one column list per table, each column typed, so the CSV, the
// XLSX sheets and the PDF agree. Money columns carry minor units and take their currency from the row.

export type ColumnType = 'text' | 'int' | 'money' | 'date' | 'bool';

export interface Column {
  header: string;
  type: ColumnType;
  /** Text for the PDF: wider columns get more room. */
  width: number;
  /** Added up in the PDF's total line (per currency where the table has one). */
  isSummed?: boolean;
  value(row: Row): string | number | boolean | null;
}

export type Row = Record<string, unknown>;

export interface TableSpec {
  /** File and sheet name: kebab-case. */
  id: string;
  title: string;
  /** Its XLSX sheet's name, when the title is longer than Excel's 31 characters (written short, never cut). */
  sheet?: string;
  /** What the table holds, in one sentence (PDF and the XLSX sheet's first note). */
  about: string;
  columns: Column[];
  rows(report: Report): Row[];
  /** The row's currency, for money columns. */
  currency?(row: Row): string | null;
}

const col = (header: string, type: ColumnType, field: string, width = 1, isSummed = false): Column => ({
  header,
  type,
  width,
  ...(isSummed ? { isSummed } : {}),
  value: (row) => (row[field] ?? null) as string | number | boolean | null,
});
const byCurrency = (row: Row) => (row.currency as string | null) ?? null;

export const summaryTable: TableSpec = {
  id: 'summary',
  title: 'Totals per currency',
  sheet: 'Totals',
  about: 'Refunds Mirakl dated in the period, how many are backed by a receipt ReBound verified before period end, and what was owed at period end.',
  currency: byCurrency,
  columns: [
    col('Currency', 'text', 'currency', 0.7),
    col('Refunds', 'int', 'refunds', 0.7),
    col('Refunded', 'money', 'refundedMinor'),
    col('Shipping refunded', 'money', 'shippingRefundedMinor'),
    col('Backed refunds', 'int', 'backedRefunds', 0.7),
    col('Backed', 'money', 'backedMinor'),
    col('Refunds without receipt', 'int', 'unbackedRefunds', 0.8),
    col('Without receipt', 'money', 'unbackedMinor'),
    col('Expected (verified units)', 'money', 'expectedMinor'),
    col('Refunded to period end', 'money', 'refundedToDateMinor'),
    col('Variance', 'money', 'varianceMinor'),
    col('Lines awaiting refund', 'int', 'accrualLines', 0.7),
    col('Awaiting refund (accrual)', 'money', 'accrualMinor'),
    col('Adjusted refunds', 'money', 'adjustedRefundsMinor'),
    col('Adjusted accrual', 'money', 'adjustedAccrualMinor'),
  ],
  rows: (r) => r.money,
};

export const checksTable: TableSpec = {
  id: 'checks',
  title: 'Checks',
  about: 'What the report proves, and what needs a person.',
  columns: [col('Check', 'text', 'label', 1.4), col('Result', 'text', 'status', 0.5), col('Detail', 'text', 'detail', 4)],
  rows: (r) => r.checks.map((c) => ({ ...c, status: c.status.toUpperCase() })),
};

const adjustmentColumns = [
  col('Locked period', 'text', 'period', 0.6),
  col('Reported in', 'text', 'reportedIn', 0.6),
  col('Kind', 'text', 'family', 0.5),
  col('Key', 'text', 'key', 1.2),
  col('Change', 'text', 'change', 0.6),
  col('Currency', 'text', 'currency', 0.5),
  col('Amount', 'money', 'amountMinor', 0.8, true),
  col('Found at', 'date', 'detectedAt', 1.1),
  col('What changed', 'text', 'description', 4),
];

export const reportTables: TableSpec[] = [
  {
    id: 'refunds-without-receipt',
    title: 'Refunds without a verified receipt',
    sheet: 'Refunds without receipt',
    about: 'Refunds dated in the period on order lines with no unit ReBound verified before period end, one by one.',
    currency: byCurrency,
    columns: [
      col('Refund', 'text', 'refundId', 0.8),
      col('Order', 'text', 'orderId', 1.2),
      col('Order line', 'text', 'orderLineId', 1.3),
      col('Return', 'text', 'returnId', 1.6),
      col('Tied by', 'text', 'link', 0.7),
      col('Dated', 'date', 'dateCreated', 1.1),
      col('Currency', 'text', 'currency', 0.5),
      col('Amount', 'money', 'amountMinor', 0.8, true),
      col('State', 'text', 'state', 0.9),
      col('Reason', 'text', 'reasonCode', 0.5),
      col('Made by this app', 'bool', 'madeByApp', 0.6),
      col('Override', 'text', 'override', 1.5),
      col('Exception', 'int', 'exceptionId', 0.6),
    ],
    rows: (r) => r.tables.refundsWithoutReceipt,
  },
  {
    id: 'receipts-awaiting-refund',
    title: 'Receipts awaiting refund (accrual)',
    sheet: 'Awaiting refund (accrual)',
    about: 'Order lines whose units ReBound verified before period end, worth more than everything Mirakl refunded on them by then.',
    currency: byCurrency,
    columns: [
      col('Order line', 'text', 'orderLineId', 1.3),
      col('Order', 'text', 'orderId', 1.2),
      col('Return', 'text', 'returnId', 1.6),
      col('Offer SKU', 'text', 'offerSku', 0.9),
      col('First verified', 'date', 'firstVerifiedAt', 1.1),
      col('Verified units', 'int', 'verifiedUnits', 0.5, true),
      col('Currency', 'text', 'currency', 0.5),
      col('Expected', 'money', 'expectedMinor', 0.8, true),
      col('Refunded', 'money', 'refundedMinor', 0.8, true),
      col('Outstanding', 'money', 'outstandingMinor', 0.8, true),
      col('Age (days)', 'int', 'ageDays', 0.5),
    ],
    rows: (r) => r.tables.receiptsAwaitingRefund,
  },
  {
    id: 'variances',
    title: 'Variance between expected and refunded',
    sheet: 'Expected vs refunded',
    about: "Order lines refunded in the period whose refunds differ from the verified units' worth by more than the tolerance.",
    currency: byCurrency,
    columns: [
      col('Order line', 'text', 'orderLineId', 1.3),
      col('Order', 'text', 'orderId', 1.2),
      col('Return', 'text', 'returnId', 1.6),
      col('Currency', 'text', 'currency', 0.5),
      col('Verified units', 'int', 'verifiedUnits', 0.5, true),
      col('Expected', 'money', 'expectedMinor', 0.8, true),
      col('Refunded', 'money', 'refundedMinor', 0.8, true),
      col('Variance', 'money', 'varianceMinor', 0.8, true),
    ],
    rows: (r) => r.tables.variances,
  },
  {
    id: 'refunds-by-mirakl-reason',
    title: 'Refunds by Mirakl reason',
    about: "Refunds dated in the period by the customer's return reason in Mirakl and the refund reason sent with them.",
    currency: byCurrency,
    columns: [
      col('Return reason', 'text', 'reason', 2),
      col('Refund reason', 'text', 'refundReason', 0.7),
      col('Currency', 'text', 'currency', 0.5),
      col('Refunds', 'int', 'refunds', 0.6, true),
      col('Amount', 'money', 'amountMinor', 0.9, true),
    ],
    rows: (r) => r.tables.refundsByMiraklReason,
  },
  {
    id: 'refunds-by-rebound-reason',
    title: 'Refunds by ReBound reason',
    about: 'Refunds dated in the period by the reason ReBound recorded for the returned items.',
    currency: byCurrency,
    columns: [col('ReBound reason', 'text', 'reason', 2), col('Currency', 'text', 'currency', 0.5), col('Refunds', 'int', 'refunds', 0.6, true), col('Amount', 'money', 'amountMinor', 0.9, true)],
    rows: (r) => r.tables.refundsByReboundReason,
  },
  {
    id: 'stock-by-offer',
    title: 'Stock restored per offer',
    about: 'Sellable units put back on their Mirakl offer in the period, and those still waiting at period end.',
    columns: [
      col('Offer SKU', 'text', 'offerSku', 1.2),
      col('Restored', 'int', 'restored', 0.6, true),
      col('Awaiting at period end', 'int', 'awaiting', 0.8, true),
      col('Rejected', 'int', 'rejected', 0.6, true),
      col('Skipped', 'int', 'skipped', 0.6, true),
    ],
    rows: (r) => r.tables.stockByOffer,
  },
  {
    id: 'open-exceptions',
    title: 'Open exceptions at period end',
    about: 'Exceptions raised before period end and not resolved by then, most severe first, with their owner and age.',
    columns: [
      col('Id', 'int', 'id', 0.4),
      col('Type', 'text', 'type', 1.3),
      col('Severity', 'text', 'severity', 0.6),
      col('Owner', 'text', 'owner', 0.6),
      col('Assignee', 'text', 'assignee', 0.8),
      col('State now', 'text', 'state', 0.6),
      col('Return', 'text', 'returnId', 1.6),
      col('Raised', 'date', 'detectedAt', 1.1),
      col('Age (days)', 'int', 'ageDays', 0.5),
      col('SLA due', 'date', 'slaDueAt', 1.1),
      col('Overdue', 'bool', 'isOverdue', 0.5),
      col('Cause', 'text', 'cause', 3),
    ],
    rows: (r) => r.tables.openExceptions,
  },
  {
    id: 'adjustments',
    title: 'Post-close adjustments',
    about: 'Changes touching earlier locked periods, found while this period was open. The locked reports are not changed.',
    currency: byCurrency,
    columns: adjustmentColumns,
    rows: (r) => r.tables.adjustments,
  },
  {
    id: 'changes-since-lock',
    title: 'Changes since this period was locked',
    sheet: 'Changes since the lock',
    about: 'Changes touching this locked period found after it was locked; each is reported as an adjustment in the period named.',
    currency: byCurrency,
    columns: adjustmentColumns,
    rows: (r) => r.changesSinceLock,
  },
];

/** Every table of a report, summary and checks first; changes since lock only for a locked report. */
export function tablesOf(report: Report): TableSpec[] {
  return [summaryTable, checksTable, ...reportTables.filter((t) => t.id !== 'changes-since-lock' || report.status === 'locked')];
}

export function fileStem(report: Report): string {
  return `returns-report-${report.period}`;
}
