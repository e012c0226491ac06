import { useState } from 'react';
import { LoadError, Loading } from '../../app/EmptyState';
import { formatDateTime, ownerLabels, severityLabels, stateLabels } from '../../app/format';
import { useAppStore } from '../../app/store';
import { useReturnsStore } from '../returns/store';
import { useSettingsStore } from '../settings/store';
import type { PendingAction } from './ActionDialog';
import { ExceptionActions, WithheldActions } from './ExceptionActions';
import { useExceptionsStore } from './store';
import { useCan } from '../team/store';

/** Indented when it is JSON (it usually is); shown as received otherwise. */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** One exception: what it means (the in-app help for its type), its cause, what to do, notes, and every action. */
export function ExceptionPanel({ onPending }: { onPending(p: PendingAction): void }) {
  const { openId, detail, detailError, help, helpErrors, offers, readOnly, open, comment, reopen } = useExceptionsStore();
  const navigate = useAppStore((s) => s.navigate);
  const openReturn = useReturnsStore((s) => s.openReturn);
  const [note, setNote] = useState('');
  const [reopenReason, setReopenReason] = useState('');
  const row = detail?.row;
  const typeHelp = row ? help[row.type] : undefined;
  const offered = row ? offers[row.id] : undefined;
  /** Whether the server offers this manual action now (resolve, assign, snooze, comment, reopen). */
  const can = (id: string) => Boolean(offered?.some((a) => a.id === id && a.isAllowed));
  const mayComment = useCan('exceptions.comment');

  return (
    <aside className="side-panel" role="region" aria-label={row ? `Exception ${row.id}: ${row.title}` : 'Exception'}>
      <div className="panel-head">
        <h2>{row ? row.title : `Exception ${openId}`}</h2>
        <button type="button" className="link" aria-label="Close exception panel" onClick={() => void open(null)}>
          Close
        </button>
      </div>
      {detailError && <LoadError what={`exception ${openId}`} message={detailError.message} onRetry={() => void open(openId)} />}
      {!detail && !detailError && <Loading what="the exception" />}
      {row && detail && (
        <div className="stack">
          <table className="facts compact" aria-label="Exception facts">
            <tbody>
              <tr>
                <th scope="row">State</th>
                <td data-testid="exception-state">
                  {stateLabels[row.state]}
                  {row.snoozedUntil && row.state === 'snoozed' ? ` until ${formatDateTime(row.snoozedUntil)}` : ''}
                </td>
              </tr>
              <tr>
                <th scope="row">Severity</th>
                <td>{severityLabels[row.severity]}</td>
              </tr>
              <tr>
                <th scope="row">Owner</th>
                <td>{ownerLabels[row.owner]}</td>
              </tr>
              <tr>
                <th scope="row">Assignee</th>
                <td>{row.assignee ?? 'nobody'}</td>
              </tr>
              <tr>
                <th scope="row">Detected</th>
                <td>{formatDateTime(row.detectedAt)}</td>
              </tr>
              <tr>
                <th scope="row">SLA due</th>
                <td>{formatDateTime(row.slaDueAt)}</td>
              </tr>
              {row.returnId && (
                <tr>
                  <th scope="row">Return</th>
                  <td>
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        openReturn(row.returnId);
                        navigate('returns');
                      }}
                    >
                      {row.returnId}
                    </button>
                    {row.orderLineId && <div className="muted small-text">order line {row.orderLineId}</div>}
                  </td>
                </tr>
              )}
              {row.offerSku && (
                <tr>
                  <th scope="row">Offer SKU</th>
                  <td>{row.offerSku}</td>
                </tr>
              )}
              {row.resolution && (
                <tr>
                  <th scope="row">Resolution</th>
                  <td>
                    {row.resolution}
                    {row.resolvedBy ? ` (by ${row.resolvedBy}, ${formatDateTime(row.resolvedAt)})` : ''}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <section aria-label="Cause and next action">
            <h3>Cause</h3>
            <p>{row.cause}</p>
            <h3>Next action</h3>
            <p>{row.nextAction}</p>
            {row.rawRecord !== undefined && (
              <>
                <h3>The record as it was sent</h3>
                <pre className="raw-record" data-testid="raw-record" tabIndex={0} aria-label="The record as it was sent">
                  {prettyJson(row.rawRecord)}
                </pre>
              </>
            )}
          </section>

          {readOnly ? (
            <p className="muted" data-testid="read-only-actions">
              {readOnly}
            </p>
          ) : row.state !== 'resolved' ? (
            <section aria-label="Actions">
              <h3>Actions</h3>
              <ExceptionActions row={row} offers={offered} onPending={onPending} />
              {row.type === 'UNMAPPED_REASON' && (
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    useSettingsStore.getState().setTab('reasons');
                    navigate('settings');
                  }}
                >
                  Add the reason in the mapping editor
                </button>
              )}
              {(row.type === 'OFFER_NOT_FOUND' || row.type === 'STOCK_REJECTED') && (
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    useSettingsStore.getState().setTab('skus');
                    navigate('settings');
                  }}
                >
                  Map the SKU to an offer in the mapping editor
                </button>
              )}
              <div className="row-actions">
                {can('resolve') && (
                  <button type="button" onClick={() => onPending({ ids: [row.id], action: 'resolve', label: 'Resolve', needsReason: true, help: 'Closes the exception by hand, whatever its type. Nothing is sent to either system.' })}>
                    Resolve by hand…
                  </button>
                )}
                {can('assign') && (
                  <button type="button" onClick={() => onPending({ ids: [row.id], action: 'assign', label: 'Assign', needsReason: false })}>
                    Assign…
                  </button>
                )}
                {can('snooze') && (
                  <button type="button" onClick={() => onPending({ ids: [row.id], action: 'snooze', label: 'Snooze', needsReason: false, help: 'Hides the exception from the working queue until then; it comes back by itself.' })}>
                    Snooze…
                  </button>
                )}
              </div>
              <WithheldActions offers={offered} />
            </section>
          ) : (
            can('reopen') && (
              <form
                className="stack"
                aria-label="Reopen"
                onSubmit={(e) => {
                  e.preventDefault();
                  void reopen(row.id, reopenReason).then((ok) => ok && setReopenReason(''));
                }}
              >
                <label>
                  Reason to reopen (kept in the audit log)
                  <input value={reopenReason} onChange={(e) => setReopenReason(e.target.value)} minLength={3} required />
                </label>
                <button type="submit">Reopen</button>
              </form>
            )
          )}

          <section aria-label={`Help: ${row.title}`}>
            <h3>What this means</h3>
            {typeHelp ? (
              <>
                <p>{typeHelp.meaning}</p>
                <p className="muted">
                  Owned by {ownerLabels[typeHelp.owner]}; raised {typeHelp.sla}.
                </p>
                <h4>Check first</h4>
                <ul>
                  {typeHelp.check.map((c) => (
                    <li key={c}>{c}</li>
                  ))}
                </ul>
                <h4>What each action does</h4>
                <dl>
                  {typeHelp.actions.map((a) => (
                    <div key={a.id}>
                      <dt>
                        {a.label}
                        {a.needsReason ? ' (needs a reason)' : ''}
                      </dt>
                      <dd>{a.help}</dd>
                    </div>
                  ))}
                </dl>
              </>
            ) : helpErrors[row.type] ? (
              <p className="error">No help for {row.type}: {helpErrors[row.type]}</p>
            ) : (
              <Loading what="help" />
            )}
          </section>

          <section aria-label="Notes">
            <h3>Notes</h3>
            {detail.notes.length === 0 && <p className="muted">No notes yet.</p>}
            <ol className="notes">
              {detail.notes.map((n) => (
                <li key={n.id}>
                  <div className="muted small-text">
                    {n.author}, {formatDateTime(n.at)}
                  </div>
                  <div>{n.body}</div>
                </li>
              ))}
            </ol>
            {can('comment') && !mayComment.isAllowed && <p className="muted small-text">Adding a comment: {mayComment.whyNot}</p>}
            {can('comment') && mayComment.isAllowed && (
            <form
              className="stack"
              onSubmit={(e) => {
                e.preventDefault();
                if (!note.trim()) return;
                void comment(row.id, note).then((ok) => ok && setNote(''));
              }}
            >
              <label>
                Add a comment
                <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} />
              </label>
              <button type="submit" disabled={!note.trim()}>
                Add comment
              </button>
            </form>
            )}
          </section>
        </div>
      )}
    </aside>
  );
}
