import type { CellKeyDownEvent, ColDef, GridApi, GridReadyEvent, IDatasource, RowClickedEvent, RowSelectionOptions } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { themeQuartz } from 'ag-grid-community';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ReturnRow } from '../../../../core/contract';
import { refundStatuses } from '../../app/enums';
import { LoadError } from '../../app/EmptyState';
import { formatCount, refundStatusLabels } from '../../app/format';
import { getReturnRowId, returnColumnsSortedBy, sortFieldOfColumn } from './columns';
import { ReturnDetail } from './ReturnDetail';
import { blockSize, columnStateKey, savedColumnState, savedSortColumn, useReturnsStore, type ReturnsFilter } from './store';

const miraklStates = ['WAITING_ACCEPTANCE', 'IN_PROGRESS', 'RECEIVED', 'CLOSED', 'REFUSED', 'NO_RECEPTION', 'CANCELED'];
const reboundStatuses = ['CREATED', 'LABEL_ISSUED', 'IN_CARRIER_NETWORK', 'AT_HUB', 'ITEMS_REGISTERED', 'PROCESSED', 'DELIVERED_TO_CLIENT', 'EXPIRED', 'CANCELLED'];
// Props the grid compares by identity: created once, so a re-render of the page never makes it re-read its columns.
const defaultColDef: ColDef<ReturnRow> = { resizable: true, sortingOrder: ['asc', 'desc'] };
// Tighter cells than the default, so the comparison columns fit at 1440 px (issue 24).
const returnsTheme = themeQuartz.withParams({ cellHorizontalPadding: 8 });
const rowSelection: RowSelectionOptions<ReturnRow> = { mode: 'singleRow', checkboxes: false, enableClickSelection: true };

export function ReturnsPage() {
  const { filter, generation, liveTick, total, totalIsCapped, error, openId, setFilter, fetchBlock, openReturn } = useReturnsStore(
    useShallow((s) => ({
      filter: s.filter,
      generation: s.generation,
      liveTick: s.liveTick,
      total: s.total,
      totalIsCapped: s.totalIsCapped,
      error: s.error,
      openId: s.openId,
      setFilter: s.setFilter,
      fetchBlock: s.fetchBlock,
      openReturn: s.openReturn,
    })),
  );
  const gridApi = useRef<GridApi<ReturnRow> | null>(null);
  // The saved sort is the grid's from the start, so its first request is already sorted (and is the one the store
  // asked for early); the rest of the saved column state is applied once the grid is ready.
  const columnDefs = useMemo(() => returnColumnsSortedBy(savedSortColumn()), []);
  const [isEmpty, setEmpty] = useState(false);

  // A new datasource per filter: the grid drops its blocks and asks again from the first row.
  const datasource = useMemo<IDatasource>(
    () => ({
      getRows: (params) => {
        const first = params.sortModel[0];
        const field = first ? sortFieldOfColumn[first.colId] : undefined;
        const limit = params.endRow - params.startRow;
        void fetchBlock(params.startRow, limit, field && first ? { field, direction: first.sort } : null).then((page) => {
          if (!page) return params.failCallback();
          const lastRow = page.rows.length < limit ? params.startRow + page.rows.length : page.totalIsCapped ? undefined : page.total;
          params.successCallback(page.rows, lastRow);
          if (params.startRow === 0) setEmpty(page.rows.length === 0);
        });
      },
    }),
    // generation changes with the filter; fetchBlock reads the filter when it runs.
    [generation, fetchBlock],
  );

  useEffect(() => {
    if (liveTick > 0) gridApi.current?.refreshInfiniteCache();
  }, [liveTick]);

  const saveColumns = useCallback(() => {
    const state = gridApi.current?.getColumnState();
    if (state) localStorage.setItem(columnStateKey, JSON.stringify(state));
  }, []);

  const onRowClicked = useCallback((e: RowClickedEvent<ReturnRow>) => e.data && openReturn(e.data.returnId), [openReturn]);
  const onCellKeyDown = useCallback(
    (e: CellKeyDownEvent<ReturnRow>) => {
      if ((e.event as KeyboardEvent | undefined)?.key === 'Enter' && e.data) openReturn(e.data.returnId);
    },
    [openReturn],
  );
  const onColumnChanged = useCallback((e: { finished?: boolean }) => e.finished !== false && saveColumns(), [saveColumns]);

  const onGridReady = useCallback((e: GridReadyEvent<ReturnRow>) => {
    gridApi.current = e.api;
    const saved = savedColumnState();
    // Without the sort, which the columns already start with: applying it again would make the grid ask again.
    if (saved) e.api.applyColumnState({ state: saved.map(({ sort: _sort, sortIndex: _sortIndex, ...rest }) => rest), applyOrder: true });
  }, []);

  return (
    <div className="with-panel">
      <div className="panel-main">
        <h1>Returns</h1>
        <p className="muted">
          Every ASOS Marketplace return next to its ReBound return order. Cells where the two systems disagree are highlighted; click a row
          for its timeline.
        </p>
        <ReturnsToolbar filter={filter} onChange={setFilter} />
        <ViewsBar gridApi={gridApi} onApplied={saveColumns} />
        <div className="grid-status" aria-live="polite">
          {error ? null : total === null ? 'Loading returns…' : `${formatCount(total, totalIsCapped)} return${total === 1 ? '' : 's'}`}
        </div>
        {error && <LoadError what="returns" message={error.message} onRetry={() => gridApi.current?.refreshInfiniteCache()} />}
        {isEmpty && !error && (
          <p className="empty-line" role="note">
            {Object.keys(filter).length
              ? 'No return matches these filters. The search finds any part (three characters or more, any case) of an order id, return id, RMA, tracking number, SKU or ReBound order, or the customer’s name or email.'
              : 'No returns yet. Returns raised on ASOS Marketplace appear here after the first sync.'}
          </p>
        )}
        <div className="grid" data-testid="returns-grid" role="region" aria-label="Returns, Mirakl and ReBound side by side">
          <AgGridReact<ReturnRow>
            columnDefs={columnDefs}
            defaultColDef={defaultColDef}
            theme={returnsTheme}
            rowModelType="infinite"
            datasource={datasource}
            cacheBlockSize={blockSize}
            maxBlocksInCache={20}
            infiniteInitialRowCount={1}
            getRowId={getReturnRowId}
            animateRows={false}
            suppressMultiSort
            rowSelection={rowSelection}
            onGridReady={onGridReady}
            onSortChanged={saveColumns}
            onColumnMoved={onColumnChanged}
            onColumnResized={onColumnChanged}
            onColumnVisible={saveColumns}
            onColumnPinned={saveColumns}
            onRowClicked={onRowClicked}
            onCellKeyDown={onCellKeyDown}
            overlayNoRowsTemplate="No returns to show."
          />
        </div>
      </div>
      {openId && <ReturnDetail />}
    </div>
  );
}

function ReturnsToolbar({ filter, onChange }: { filter: ReturnsFilter; onChange(f: ReturnsFilter): void }) {
  const [search, setSearch] = useState(filter.search ?? '');
  useEffect(() => setSearch(filter.search ?? ''), [filter.search]);
  const patch = (p: Partial<ReturnsFilter>) => {
    const next: Record<string, unknown> = { ...filter, ...p };
    for (const k of Object.keys(next)) if (next[k] === undefined || next[k] === '') delete next[k];
    onChange(next as ReturnsFilter);
  };
  return (
    <form
      className="toolbar"
      role="search"
      aria-label="Find returns"
      onSubmit={(e) => {
        e.preventDefault();
        patch({ search: search.trim() || undefined });
      }}
    >
      <label className="grow">
        Search
        <input
          type="search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder="Order id, return id, RMA, tracking, SKU, ReBound order, customer name or email"
          aria-describedby="search-hint"
        />
      </label>
      <button type="submit">Search</button>
      <span id="search-hint" className="visually-hidden">
        Matches the whole id exactly. Press Enter to search.
      </span>
      <label>
        Mirakl state
        <select aria-label="Mirakl state" value={filter.miraklState ?? ''} onChange={(e) => patch({ miraklState: e.target.value || undefined })}>
          <option value="">Any</option>
          {miraklStates.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      </label>
      <label>
        ReBound status
        <select aria-label="ReBound status" value={filter.reboundStatus ?? ''} onChange={(e) => patch({ reboundStatus: e.target.value || undefined })}>
          <option value="">Any</option>
          {reboundStatuses.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      </label>
      <label>
        Refund
        <select aria-label="Refund" value={filter.refundStatus ?? ''} onChange={(e) => patch({ refundStatus: (e.target.value || undefined) as ReturnsFilter['refundStatus'] })}>
          <option value="">Any</option>
          {refundStatuses.map((v) => (
            <option key={v} value={v}>
              {refundStatusLabels[v]}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={filter.drift === true} onChange={(e) => patch({ drift: e.target.checked ? true : undefined })} />
        Drifting only
      </label>
      <label>
        Created from
        <input type="date" value={filter.createdFrom ?? ''} onChange={(e) => patch({ createdFrom: e.target.value || undefined })} />
      </label>
      <label>
        Created before
        <input type="date" value={filter.createdTo ?? ''} onChange={(e) => patch({ createdTo: e.target.value || undefined })} />
      </label>
      {Object.keys(filter).length > 0 && (
        <button type="button" className="link" onClick={() => onChange({})}>
          Clear filters
        </button>
      )}
    </form>
  );
}

/** Named views (filters, column order, widths, visibility and sort) kept in this browser, plus a column chooser. */
function ViewsBar({ gridApi, onApplied }: { gridApi: React.RefObject<GridApi<ReturnRow> | null>; onApplied(): void }) {
  const { views, filter, saveView, deleteView, setFilter } = useReturnsStore();
  const [chosen, setChosen] = useState('');
  const [name, setName] = useState('');
  const [showColumns, setShowColumns] = useState(false);
  const [, setTick] = useState(0);
  const apply = (viewName: string) => {
    setChosen(viewName);
    const view = views.find((v) => v.name === viewName);
    if (!view) return;
    setFilter(view.filter);
    gridApi.current?.applyColumnState({ state: view.columns, applyOrder: true });
    onApplied();
  };
  const leafColumns = gridApi.current?.getColumns() ?? [];
  return (
    <div className="toolbar views" role="group" aria-label="Saved views">
      <label>
        View
        <select aria-label="View" value={chosen} onChange={(e) => apply(e.target.value)}>
          <option value="">Choose a saved view</option>
          {views.map((v) => (
            <option key={v.name}>{v.name}</option>
          ))}
        </select>
      </label>
      {chosen && (
        <button
          type="button"
          onClick={() => {
            deleteView(chosen);
            setChosen('');
          }}
        >
          Delete view
        </button>
      )}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const trimmed = name.trim();
          if (!trimmed) return;
          saveView({ name: trimmed, filter, columns: gridApi.current?.getColumnState() ?? [] });
          setChosen(trimmed);
          setName('');
        }}
      >
        <label>
          Save current view as
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="view name" />
        </label>
        <button type="submit" disabled={!name.trim()}>
          Save view
        </button>
      </form>
      <button type="button" aria-expanded={showColumns} onClick={() => setShowColumns(!showColumns)}>
        Columns
      </button>
      {showColumns && (
        <fieldset className="column-chooser">
          <legend>Shown columns</legend>
          {leafColumns.map((c) => (
            <label key={c.getColId()} className="check">
              <input
                type="checkbox"
                checked={c.isVisible()}
                onChange={(e) => {
                  gridApi.current?.setColumnsVisible([c.getColId()], e.target.checked);
                  setTick((t) => t + 1);
                }}
              />
              {c.getColDef().headerName}
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}
