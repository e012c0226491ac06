import { useEffect, useRef, useState } from 'react';
import type { ActionId, ExceptionRow } from '../../../../core/contract';
import { ageBuckets, exceptionSortFields, ownerTeams, severities } from '../../app/enums';
import { EmptyState, LoadError, Loading } from '../../app/EmptyState';
import { ageBucketLabels, formatCount, formatDateTime, ownerLabels, severityLabels, stateLabels } from '../../app/format';
import { ActionDialog, runPending, type PendingAction } from './ActionDialog';
import { asksFirst, ExceptionActions, offeredResolutions, pendingOf, useMayRun } from './ExceptionActions';
import { ExceptionPanel } from './ExceptionPanel';
import { useExceptionsStore } from './store';

const sortLabels: Record<(typeof exceptionSortFields)[number], string> = {
  detectedAt: 'Detected',
  severity: 'Severity',
  type: 'Type',
  owner: 'Owner',
  slaDueAt: 'SLA due',
  updatedAt: 'Last change',
};

export function ExceptionsPage() {
  const s = useExceptionsStore();
  const [pending, setPending] = useState<PendingAction | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);

  const { load, loadCounts } = s;
  useEffect(() => {
    // Loaded on entry; afterwards the store refreshes itself after actions and on live events.
    void load();
    void loadCounts();
  }, [load, loadCounts]);

  const current = s.rows[s.cursor];
  const selectedRows = s.rows.filter((r) => s.selected.includes(r.id));
  // A bulk action is offered only when the server offers it for every exception selected.
  const offeredToAll = (id: string) => selectedRows.length > 0 && selectedRows.every((r) => s.offers[r.id]?.some((a) => a.id === id && a.isAllowed));
  const bulkResolutions = offeredResolutions(selectedRows[0] ? s.offers[selectedRows[0].id] : undefined).filter((a) => offeredToAll(a.id));
  const isOffered = (row: ExceptionRow, id: string) => Boolean(s.offers[row.id]?.some((a) => a.id === id && a.isAllowed));
  // What the server offers may still be beyond the person's roles (a Viewer on a team server): the keys do nothing
  // then, and the bulk bar shows the buttons disabled with the reason.
  const mayRun = useMayRun();
  const bulkWhyNot = ['assign', 'resolve', 'snooze', ...bulkResolutions.map((a) => a.id)].filter(offeredToAll).map((id) => mayRun(id).whyNot).find(Boolean) ?? null;
  const serverNow = s.counts?.at ?? null;

  useEffect(() => {
    // The row under the cursor takes the focus, so a screen reader reads it as the person moves.
    if (tableRef.current?.contains(document.activeElement) && current) document.getElementById(`exception-row-${current.id}`)?.focus();
  }, [current]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (pending || e.altKey || e.ctrlKey || e.metaKey) return;
    if ((e.target as HTMLElement).closest('button, input, select, textarea')) return;
    const row = s.rows[s.cursor];
    const key = e.key;
    if (key === 'ArrowDown' || key === 'j') s.moveCursor(1);
    else if (key === 'ArrowUp' || key === 'k') s.moveCursor(-1);
    else if (key === 'Home') s.setCursor(0);
    else if (key === 'End') s.setCursor(s.rows.length - 1);
    else if (!row) return;
    else if (key === 'Enter') void s.open(row.id);
    else if (key === ' ' || key === 'x') s.toggleSelected(row.id);
    else if (key === 'r' && mayRun('resolve').isAllowed && (s.selected.length ? offeredToAll('resolve') : isOffered(row, 'resolve'))) setPending({ ids: s.selected.length ? s.selected : [row.id], action: 'resolve', label: 'Resolve', needsReason: true });
    else if (key === 'a' && mayRun('assign').isAllowed && (s.selected.length ? offeredToAll('assign') : isOffered(row, 'assign'))) setPending({ ids: s.selected.length ? s.selected : [row.id], action: 'assign', label: 'Assign', needsReason: false });
    else if (key === 's' && mayRun('snooze').isAllowed && (s.selected.length ? offeredToAll('snooze') : isOffered(row, 'snooze'))) setPending({ ids: s.selected.length ? s.selected : [row.id], action: 'snooze', label: 'Snooze', needsReason: false });
    else if (/^[1-9]$/.test(key) && row.state !== 'resolved') {
      const action = offeredResolutions(s.offers[row.id])[Number(key) - 1];
      if (!action || !mayRun(action.id).isAllowed) return;
      if (asksFirst(action)) setPending(pendingOf([row.id], action));
      else void s.act([row.id], action.id as ActionId, action.label);
    } else return;
    e.preventDefault();
  };

  const allOnPage = s.rows.length > 0 && s.rows.every((r) => s.selected.includes(r.id));
  const openCounts = new Map(s.counts?.openByType.map((t) => [t.type, t.count]) ?? []);
  const typeOptions = Object.entries(s.knownTypes)
    .map(([type, title]) => ({ type, title, count: openCounts.get(type) ?? 0 }))
    .sort((a, b) => b.count - a.count || a.title.localeCompare(b.title));

  return (
    <div className="with-panel">
      <div className="panel-main">
        <h1>Exceptions</h1>
        <BucketCounts />
        <form className="toolbar" role="search" aria-label="Filter exceptions" onSubmit={(e) => e.preventDefault()}>
          <label>
            Show
            <select aria-label="Show" value={s.filter.show} onChange={(e) => s.setFilter({ show: e.target.value as 'active' | 'resolved' })}>
              <option value="active">Open, in review and snoozed</option>
              <option value="resolved">Resolved</option>
            </select>
          </label>
          <label>
            Type
            <select aria-label="Type" value={s.filter.type ?? ''} onChange={(e) => s.setFilter({ type: e.target.value || undefined })}>
              <option value="">All types</option>
              {typeOptions.map((t) => (
                <option key={t.type} value={t.type}>
                  {t.title} ({t.count} open)
                </option>
              ))}
              {s.filter.type && !typeOptions.some((t) => t.type === s.filter.type) && <option value={s.filter.type}>{s.filter.type}</option>}
            </select>
          </label>
          <label>
            Owner
            <select aria-label="Owner" value={s.filter.owner ?? ''} onChange={(e) => s.setFilter({ owner: (e.target.value || undefined) as ExceptionRow['owner'] | undefined })}>
              <option value="">All teams</option>
              {ownerTeams.map((o) => (
                <option key={o} value={o}>
                  {ownerLabels[o]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Severity
            <select aria-label="Severity" value={s.filter.severity ?? ''} onChange={(e) => s.setFilter({ severity: (e.target.value || undefined) as ExceptionRow['severity'] | undefined })}>
              <option value="">Any severity</option>
              {severities.map((v) => (
                <option key={v} value={v}>
                  {severityLabels[v]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Age
            <select aria-label="Age" value={s.filter.ageBucket ?? ''} onChange={(e) => s.setFilter({ ageBucket: (e.target.value || undefined) as ExceptionRow['ageBucket'] | undefined })}>
              <option value="">Any age</option>
              {ageBuckets.map((b) => (
                <option key={b} value={b}>
                  {ageBucketLabels[b]}
                </option>
              ))}
            </select>
          </label>
          <AssigneeFilter />
          <label className="check">
            <input type="checkbox" checked={Boolean(s.filter.unassigned)} onChange={(e) => s.setFilter({ unassigned: e.target.checked || undefined })} />
            Unassigned only
          </label>
          <label>
            Sort by
            <select aria-label="Sort by" value={`${s.sort.field}:${s.sort.direction}`} onChange={(e) => {
              const [field, direction] = e.target.value.split(':') as [(typeof exceptionSortFields)[number], 'asc' | 'desc'];
              s.setSort(field, direction);
            }}>
              {exceptionSortFields.flatMap((f) => [
                <option key={`${f}:asc`} value={`${f}:asc`}>{`${sortLabels[f]} ${f === 'severity' ? '(lowest first)' : '(oldest first)'}`}</option>,
                <option key={`${f}:desc`} value={`${f}:desc`}>{`${sortLabels[f]} ${f === 'severity' ? '(most severe first)' : '(newest first)'}`}</option>,
              ])}
            </select>
          </label>
        </form>

        {s.selected.length > 0 && (
          <div className="bulk" role="region" aria-label="Bulk actions">
            <strong>{s.selected.length} selected</strong>
            {offeredToAll('assign') && (
              <>
                <button type="button" disabled={!mayRun('assign').isAllowed} title={mayRun('assign').whyNot ?? undefined} onClick={() => setPending({ ids: s.selected, action: 'assign', label: 'Assign', needsReason: false })}>
                  Assign…
                </button>
                <button type="button" disabled={!mayRun('assign').isAllowed} title={mayRun('assign').whyNot ?? undefined} onClick={() => void s.assign(s.selected, null)}>
                  Unassign
                </button>
              </>
            )}
            {offeredToAll('resolve') && (
              <button type="button" disabled={!mayRun('resolve').isAllowed} title={mayRun('resolve').whyNot ?? undefined} onClick={() => setPending({ ids: s.selected, action: 'resolve', label: 'Resolve', needsReason: true })}>
                Resolve…
              </button>
            )}
            {offeredToAll('snooze') && (
              <button type="button" disabled={!mayRun('snooze').isAllowed} title={mayRun('snooze').whyNot ?? undefined} onClick={() => setPending({ ids: s.selected, action: 'snooze', label: 'Snooze', needsReason: false })}>
                Snooze…
              </button>
            )}
            {bulkResolutions.map((a) => (
              <button
                key={a.id}
                type="button"
                disabled={!mayRun(a.id).isAllowed}
                title={mayRun(a.id).whyNot ?? a.help}
                onClick={() => (asksFirst(a) ? setPending(pendingOf(s.selected, a)) : void s.act(s.selected, a.id as ActionId, a.label))}
              >
                {a.label}
                {asksFirst(a) ? '…' : ''}
              </button>
            ))}
            {bulkWhyNot && (
              <span className="muted small-text" data-testid="bulk-why-not">
                Acting on them: {bulkWhyNot}
              </span>
            )}
            <button type="button" className="link" onClick={() => s.setSelected([])}>
              Clear selection
            </button>
          </div>
        )}

        <p className="muted keys" id="queue-keys">
          Keys: ↑/↓ move, Enter opens, Space selects, R resolves, A assigns, S snoozes, 1–9 run the row’s actions.
        </p>
        {s.error && <LoadError what="the exception queue" message={s.error.message} onRetry={() => void s.load()} />}
        {!s.hasLoaded && !s.error && <Loading what="exceptions" />}
        {s.hasLoaded && !s.error && s.rows.length === 0 && (
          <EmptyState title={s.filter.show === 'resolved' ? 'Nothing resolved yet' : 'No exceptions to handle'}>
            {s.filter.show === 'resolved'
              ? 'Exceptions closed by a person or by the systems converging appear here, with who resolved them and why.'
              : 'Nothing matches these filters. When Mirakl and ReBound disagree — a refund without a verified receipt, a return that never reached ReBound, a stalled parcel or refund, stock Mirakl rejected — each divergence appears here with its owner, age, cause and the actions that resolve it.'}
          </EmptyState>
        )}
        {s.rows.length > 0 && (
          <div className="table-wrap">
            <table
              ref={tableRef}
              className="queue"
              role="grid"
              aria-label="Exception queue"
              aria-describedby="queue-keys"
              aria-rowcount={s.total + 1}
              aria-multiselectable="true"
              onKeyDown={onKeyDown}
            >
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select every exception on this page"
                      checked={allOnPage}
                      onChange={() => s.setSelected(allOnPage ? [] : s.rows.map((r) => r.id))}
                    />
                  </th>
                  <th scope="col">Severity</th>
                  <th scope="col">Exception</th>
                  <th scope="col">Order</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Assignee</th>
                  <th scope="col">Age</th>
                  <th scope="col">Detected</th>
                  <th scope="col">{s.filter.show === 'resolved' ? 'Resolution' : 'Cause'}</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {s.rows.map((row, i) => {
                  const isSelected = s.selected.includes(row.id);
                  return (
                    <tr
                      key={row.id}
                      id={`exception-row-${row.id}`}
                      data-exception-id={row.id}
                      data-type={row.type}
                      tabIndex={i === s.cursor ? 0 : -1}
                      aria-rowindex={s.offset + i + 2}
                      aria-selected={isSelected}
                      aria-label={`${row.title}, ${severityLabels[row.severity]}, ${ownerLabels[row.owner]}, exception ${row.id}`}
                      className={`${i === s.cursor ? 'cursor' : ''} ${isSelected ? 'selected' : ''} ${s.openId === row.id ? 'opened' : ''}`}
                      onClick={() => s.setCursor(i)}
                      onDoubleClick={() => void s.open(row.id)}
                    >
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select exception ${row.id}`}
                          checked={isSelected}
                          onChange={() => s.toggleSelected(row.id)}
                          onClick={(e) => e.stopPropagation()}
                        />
                      </td>
                      <td>
                        <span className={`sev sev-${row.severity}`}>{severityLabels[row.severity]}</span>
                      </td>
                      <td>
                        <button type="button" className="link" onClick={() => void s.open(row.id)} aria-label={`Open exception ${row.id}: ${row.title}`}>
                          {row.title}
                        </button>
                        <div className="muted small-text">
                          #{row.id}
                          {row.state !== 'open' && ` · ${stateLabels[row.state]}`}
                          {row.notes > 0 && ` · ${row.notes} note${row.notes === 1 ? '' : 's'}`}
                        </div>
                      </td>
                      <td className="order-id">{row.orderId ?? <span className="muted">—</span>}</td>
                      <td>{ownerLabels[row.owner]}</td>
                      <td>{row.assignee ?? <span className="muted">—</span>}</td>
                      <td>{ageBucketLabels[row.ageBucket]}</td>
                      <td>{formatDateTime(row.detectedAt)}</td>
                      <td className="cause">{s.filter.show === 'resolved' ? row.resolution ?? '—' : row.cause}</td>
                      <td>
                        <ExceptionActions row={row} offers={s.offers[row.id]} onPending={setPending} compact />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {s.total > 0 && (
          <nav className="pager" aria-label="Pages of exceptions">
            <button type="button" disabled={s.offset === 0} onClick={() => s.setPage(s.offset - s.limit)}>
              Previous
            </button>
            <span data-testid="exceptions-range">
              {s.offset + 1}–{s.offset + s.rows.length} of {formatCount(s.total, s.totalIsCapped)}
            </span>
            <button type="button" disabled={s.offset + s.rows.length >= s.total && !s.totalIsCapped} onClick={() => s.setPage(s.offset + s.limit)}>
              Next
            </button>
            {s.isLoading && <span className="muted">Refreshing…</span>}
          </nav>
        )}
      </div>
      {s.openId !== null && <ExceptionPanel onPending={setPending} />}
      {pending && (
        <ActionDialog
          pending={pending}
          serverNow={serverNow}
          onCancel={() => setPending(null)}
          onConfirm={(answer) => runPending(pending, answer, s)}
        />
      )}
    </div>
  );
}

function AssigneeFilter() {
  const assignee = useExceptionsStore((s) => s.filter.assignee ?? '');
  const setFilter = useExceptionsStore((s) => s.setFilter);
  const [text, setText] = useState(assignee);
  return (
    <label>
      Assignee
      <input
        type="search"
        value={text}
        placeholder="exact name"
        onChange={(e) => setText(e.target.value)}
        onBlur={() => text !== assignee && setFilter({ assignee: text || undefined })}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            setFilter({ assignee: text || undefined });
          }
        }}
      />
    </label>
  );
}

/** Counts per bucket (age, owner team): each is also a one-click filter. */
function BucketCounts() {
  const counts = useExceptionsStore((s) => s.counts);
  const filter = useExceptionsStore((s) => s.filter);
  const setFilter = useExceptionsStore((s) => s.setFilter);
  if (!counts) return null;
  const total = counts.openByOwner.reduce((n, o) => n + o.count, 0);
  return (
    <section className="buckets" aria-label="Open exceptions per bucket">
      <div role="group" aria-label="By age">
        <span className="bucket-label">Age</span>
        {counts.ageing.map((b) => (
          <button
            key={b.bucket}
            type="button"
            className="chip"
            aria-pressed={filter.ageBucket === b.bucket}
            onClick={() => setFilter({ ageBucket: filter.ageBucket === b.bucket ? undefined : b.bucket, show: 'active' })}
          >
            {ageBucketLabels[b.bucket]} <span className="count">{b.count}</span>
          </button>
        ))}
      </div>
      <div role="group" aria-label="By owner team">
        <span className="bucket-label">Owner</span>
        {counts.openByOwner.map((o) => (
          <button
            key={o.owner}
            type="button"
            className="chip"
            aria-pressed={filter.owner === o.owner}
            onClick={() => setFilter({ owner: filter.owner === o.owner ? undefined : o.owner, show: 'active' })}
          >
            {ownerLabels[o.owner]} <span className="count">{o.count}</span>
            {o.critical > 0 && <span className="count critical"> {o.critical} critical</span>}
          </button>
        ))}
        <span className="muted" data-testid="open-total">
          {total} open in all
        </span>
      </div>
    </section>
  );
}
