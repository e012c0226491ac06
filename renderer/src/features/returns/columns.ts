import type { ColDef } from 'ag-grid-community';

// The side-by-side row a return will have: Mirakl's view and ReBound's view of the same return.
export interface ReturnRow {
  returnId: string;
  orderCommercialId: string;
  miraklState: string;
  rma: string | null;
  reboundOrderId: string | null;
  reboundStatus: string | null;
}

export const returnColumns: ColDef<ReturnRow>[] = [
  { field: 'returnId', headerName: 'Return', minWidth: 160 },
  { field: 'orderCommercialId', headerName: 'Order' },
  { field: 'miraklState', headerName: 'Mirakl state' },
  { field: 'rma', headerName: 'RMA' },
  { field: 'reboundOrderId', headerName: 'ReBound return order', minWidth: 200 },
  { field: 'reboundStatus', headerName: 'ReBound status' },
];

export const getReturnRowId = (p: { data: ReturnRow }) => p.data.returnId;
