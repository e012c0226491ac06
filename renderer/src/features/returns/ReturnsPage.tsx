import { AgGridReact } from 'ag-grid-react';
import { getReturnRowId, returnColumns, type ReturnRow } from './columns';

const noRows: ReturnRow[] = [];

export function ReturnsPage() {
  return (
    <>
      <h1>Returns</h1>
      <p>Every ASOS Marketplace return next to its ReBound return order. Differences between the two are highlighted.</p>
      <div className="grid" data-testid="returns-grid">
        <AgGridReact<ReturnRow>
          rowData={noRows}
          columnDefs={returnColumns}
          getRowId={getReturnRowId}
          animateRows={false}
          overlayNoRowsTemplate="No returns yet. Returns raised on ASOS Marketplace appear here after the first sync."
        />
      </div>
    </>
  );
}
