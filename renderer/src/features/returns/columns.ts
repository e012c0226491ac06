import type { CellClassRules, ColDef, ColGroupDef, GetRowIdParams, ValueFormatterParams } from 'ag-grid-community';
import type { ReturnRow } from '../../../../core/contract';
import { formatDateTime, formatMoney, refundStatusLabels } from '../../app/format';
import type { SortField } from './store';

// Mirakl's view and ReBound's view of the same return side by side, one column group per system. A cell whose
// value the two systems disagree on (the row's driftFields) is highlighted on both sides.

type DriftField = ReturnRow['driftFields'][number];

const disagrees = (field: DriftField): CellClassRules<ReturnRow> => ({
  'cell-drift': (p) => Boolean(p.data?.driftFields.includes(field)),
});

const money = (p: ValueFormatterParams<ReturnRow, number>) => (p.value === null || p.value === undefined || !p.data ? '' : formatMoney(p.value, p.data.currency));
const dash = (p: ValueFormatterParams<ReturnRow>) => (p.value === null || p.value === undefined || p.value === '' ? '—' : String(p.value));

/** Column id → the contract's sort field; a column missing here cannot be sorted (SQL has no index for it). */
export const sortFieldOfColumn: Record<string, SortField> = {
  dateCreated: 'dateCreated',
  returnId: 'returnId',
  commercialId: 'commercialId',
  'mirakl.state': 'miraklState',
  'rebound.status': 'reboundStatus',
  refundStatus: 'refundStatus',
  refundedMinor: 'refundedMinor',
  expectedRefundMinor: 'expectedRefundMinor',
};

const sortable = (colId: string) => colId in sortFieldOfColumn;

function col(def: ColDef<ReturnRow> & { field: NonNullable<ColDef<ReturnRow>['field']> }): ColDef<ReturnRow> {
  return { sortable: sortable(def.field), ...def };
}

// At 1440 px (issue 24) the columns that matter fit without scrolling beside the navigation: each system's state, the
// units requested / verified / missing / restocked, the money expected and paid, the refund's status and the drift.
// Ids other than the order, tracking numbers and the customer are hidden by default (the panel shows them; the column menu brings them back).
export const returnColumns: (ColDef<ReturnRow> | ColGroupDef<ReturnRow>)[] = [
  {
    headerName: 'Return',
    groupId: 'return',
    children: [
      col({ field: 'commercialId', headerName: 'Order', width: 170, pinned: 'left', tooltipField: 'commercialId' }),
      col({ field: 'dateCreated', headerName: 'Created', width: 150, hide: true, valueFormatter: (p) => formatDateTime(p.value as string) }),
      col({ field: 'returnId', headerName: 'Return id', width: 170, hide: true }),
      col({ field: 'rma', headerName: 'RMA', width: 120, hide: true, valueFormatter: dash }),
      col({ field: 'customer', headerName: 'Customer', width: 120, hide: true, valueFormatter: dash, headerTooltip: 'Masked: enough to check it is the right person' }),
      col({ field: 'customerEmail', headerName: 'Customer email', width: 150, hide: true, valueFormatter: dash, headerTooltip: 'Mirakl’s anonymised address for the customer, masked; paste the whole address in the search to find their returns' }),
    ],
  },
  {
    headerName: 'Mirakl',
    groupId: 'mirakl',
    children: [
      col({ field: 'mirakl.state', headerName: 'State', width: 115, cellClassRules: disagrees('state'), headerTooltip: 'The return’s state on ASOS Marketplace (Mirakl)' }),
      col({ field: 'mirakl.trackingNumber', headerName: 'Mirakl tracking', width: 160, hide: true, valueFormatter: dash, cellClassRules: disagrees('tracking') }),
      col({ field: 'mirakl.requestedUnits', headerName: 'Requested', width: 90, type: 'numericColumn', cellClassRules: disagrees('quantity'), headerTooltip: 'Units the customer asked to return' }),
    ],
  },
  {
    headerName: 'ReBound',
    groupId: 'rebound',
    children: [
      col({ field: 'rebound.status', headerName: 'Status', width: 130, valueFormatter: (p) => (p.value ? String(p.value) : 'not in ReBound'), cellClassRules: disagrees('state') }),
      col({ field: 'rebound.trackingNumber', headerName: 'ReBound tracking', width: 160, hide: true, valueFormatter: dash, cellClassRules: disagrees('tracking') }),
      col({
        field: 'rebound.unitsArrived',
        headerName: 'Verified',
        width: 80,
        type: 'numericColumn',
        cellClassRules: disagrees('quantity'),
        headerTooltip: 'Units ReBound registered at the hub with the SKU that was sold (a verified receipt)',
      }),
      col({ field: 'rebound.unitsMissing', headerName: 'Missing', width: 75, type: 'numericColumn', cellClassRules: disagrees('quantity') }),
      col({ field: 'rebound.unitsSellable', headerName: 'Sellable', width: 90, hide: true, type: 'numericColumn' }),
      col({ field: 'unitsRestocked', headerName: 'Restocked', width: 90, type: 'numericColumn', headerTooltip: 'Units put back on sale on the Mirakl offer' }),
      col({ field: 'rebound.orderId', headerName: 'ReBound order', width: 150, valueFormatter: dash, hide: true }),
    ],
  },
  {
    headerName: 'Money',
    groupId: 'money',
    children: [
      col({
        field: 'expectedRefundMinor',
        headerName: 'Expected',
        headerTooltip: "Units ReBound verified (the SKU sold, registered at the hub) × the line's unit price",
        width: 95,
        type: 'numericColumn',
        valueFormatter: money,
        cellClassRules: disagrees('refund'),
      }),
      col({
        field: 'refundedMinor',
        headerName: 'Paid',
        headerTooltip: 'Refunds of this return that Mirakl shows paid (REFUNDED). One Mirakl accepted and has not paid yet (WAITING_REFUND) is not in this column yet: the panel shows it.',
        width: 90,
        type: 'numericColumn',
        valueFormatter: money,
        cellClassRules: disagrees('refund'),
      }),
      col({
        field: 'refundStatus',
        headerName: 'Refund',
        width: 105,
        valueFormatter: (p) => (p.value ? refundStatusLabels[p.value as ReturnRow['refundStatus']] : ''),
        cellClassRules: disagrees('refund'),
      }),
    ],
  },
  col({
    field: 'drift',
    headerName: 'Drift',
    width: 100,
    tooltipValueGetter: (p) => (p.data?.drift ? `The two systems disagree on: ${p.data.driftFields.join(', ') || 'something'}` : null),
    valueFormatter: (p) => (p.data?.drift ? p.data.driftFields.join(', ') || 'yes' : ''),
    cellClassRules: { 'cell-drift-flag': (p) => Boolean(p.data?.drift) },
  }),
  col({ field: 'openExceptions', headerName: 'Exceptions', width: 100, hide: true, type: 'numericColumn', valueFormatter: (p) => (p.value ? String(p.value) : '') }),
];

export const getReturnRowId = (p: GetRowIdParams<ReturnRow>) => p.data.returnId;

/** The columns, with the grid's first sort on one of them: the grid's first request is then already sorted. */
export function returnColumnsSortedBy(sorted: { colId: string; sort: 'asc' | 'desc' } | null): typeof returnColumns {
  if (!sorted) return returnColumns;
  const mark = (c: ColDef<ReturnRow> | ColGroupDef<ReturnRow>): ColDef<ReturnRow> | ColGroupDef<ReturnRow> =>
    'children' in c ? { ...c, children: c.children.map(mark) } : (c.colId ?? c.field) === sorted.colId ? { ...c, initialSort: sorted.sort } : c;
  return returnColumns.map(mark);
}
