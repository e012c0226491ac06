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

export const returnColumns: (ColDef<ReturnRow> | ColGroupDef<ReturnRow>)[] = [
  {
    headerName: 'Return',
    groupId: 'return',
    children: [
      col({ field: 'dateCreated', headerName: 'Created', width: 150, valueFormatter: (p) => formatDateTime(p.value as string) }),
      col({ field: 'commercialId', headerName: 'Order', width: 150, pinned: 'left' }),
      col({ field: 'returnId', headerName: 'Return id', width: 170 }),
      col({ field: 'rma', headerName: 'RMA', width: 120, valueFormatter: dash }),
    ],
  },
  {
    headerName: 'ASOS Marketplace (Mirakl)',
    groupId: 'mirakl',
    children: [
      col({ field: 'mirakl.state', headerName: 'Mirakl state', width: 140, cellClassRules: disagrees('state') }),
      col({ field: 'mirakl.trackingNumber', headerName: 'Mirakl tracking', width: 160, valueFormatter: dash, cellClassRules: disagrees('tracking') }),
      col({ field: 'mirakl.requestedUnits', headerName: 'Requested', width: 110, type: 'numericColumn', cellClassRules: disagrees('quantity') }),
    ],
  },
  {
    headerName: 'ReBound',
    groupId: 'rebound',
    children: [
      col({ field: 'rebound.status', headerName: 'ReBound status', width: 170, valueFormatter: (p) => (p.value ? String(p.value) : 'not in ReBound'), cellClassRules: disagrees('state') }),
      col({ field: 'rebound.trackingNumber', headerName: 'ReBound tracking', width: 160, valueFormatter: dash, cellClassRules: disagrees('tracking') }),
      col({ field: 'rebound.unitsArrived', headerName: 'Arrived', width: 95, type: 'numericColumn', cellClassRules: disagrees('quantity') }),
      col({ field: 'rebound.unitsMissing', headerName: 'Missing', width: 95, type: 'numericColumn', cellClassRules: disagrees('quantity') }),
      col({ field: 'rebound.unitsSellable', headerName: 'Sellable', width: 95, type: 'numericColumn' }),
      col({ field: 'rebound.orderId', headerName: 'ReBound order', width: 150, valueFormatter: dash, hide: true }),
    ],
  },
  {
    headerName: 'Refund and stock',
    groupId: 'money',
    children: [
      col({
        field: 'expectedRefundMinor',
        headerName: 'Expected refund',
        headerTooltip: "Units ReBound verified (the SKU sold, registered at the hub) × the line's unit price",
        width: 140,
        type: 'numericColumn',
        valueFormatter: money,
        cellClassRules: disagrees('refund'),
      }),
      col({
        field: 'refundedMinor',
        headerName: 'Paid (REFUNDED)',
        headerTooltip: 'Refunds of this return that Mirakl shows paid (REFUNDED). One Mirakl accepted and has not paid yet (WAITING_REFUND) is not in this column yet: the panel shows it.',
        width: 145,
        type: 'numericColumn',
        valueFormatter: money,
        cellClassRules: disagrees('refund'),
      }),
      col({
        field: 'refundStatus',
        headerName: 'Refund',
        width: 140,
        valueFormatter: (p) => (p.value ? refundStatusLabels[p.value as ReturnRow['refundStatus']] : ''),
        cellClassRules: disagrees('refund'),
      }),
      col({ field: 'unitsRestocked', headerName: 'Restocked', width: 105, type: 'numericColumn' }),
    ],
  },
  col({
    field: 'drift',
    headerName: 'Drift',
    width: 170,
    valueFormatter: (p) => (p.data?.drift ? `Drift: ${p.data.driftFields.join(', ') || 'yes'}` : ''),
    cellClassRules: { 'cell-drift-flag': (p) => Boolean(p.data?.drift) },
  }),
  col({ field: 'openExceptions', headerName: 'Exceptions', width: 110, type: 'numericColumn', valueFormatter: (p) => (p.value ? String(p.value) : '') }),
];

export const getReturnRowId = (p: GetRowIdParams<ReturnRow>) => p.data.returnId;

/** The columns, with the grid's first sort on one of them: the grid's first request is then already sorted. */
export function returnColumnsSortedBy(sorted: { colId: string; sort: 'asc' | 'desc' } | null): typeof returnColumns {
  if (!sorted) return returnColumns;
  const mark = (c: ColDef<ReturnRow> | ColGroupDef<ReturnRow>): ColDef<ReturnRow> | ColGroupDef<ReturnRow> =>
    'children' in c ? { ...c, children: c.children.map(mark) } : (c.colId ?? c.field) === sorted.colId ? { ...c, initialSort: sorted.sort } : c;
  return returnColumns.map(mark);
}
