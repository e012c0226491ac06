import { useEffect, useState } from 'react';
import { intentKinds, intentStates, type OutgoingRow } from '../../../../core/contract';
import { EmptyState, LoadError, Loading } from '../../app/EmptyState';
import { formatCount, formatDateTime, formatMoney } from '../../app/format';
import { FreezeDialog } from '../writes/WriteFreeze';
import { useWritesStore } from '../writes/store';
import { useAppStore } from '../../app/store';
import { useOutgoingStore, type OutgoingFilter } from './store';
import { useCan } from '../team/store';

const stateWords: Record<OutgoingRow['state'], string> = {
  planned: 'Waiting to be sent',
  sending: 'Being sent',
  confirmed: 'Done',
  failed: 'Failed',
  uncertain: 'Outcome unknown',
};

const kindOptions = Object.entries(intentKinds) as [keyof typeof intentKinds, { system: string; label: string }][];

export function OutgoingPage() {
  const { rows, total, isCapped, uncertain, offset, limit, error, hasLoaded, filter, load, setFilter, setPage } = useOutgoingStore();
  const frozen = useWritesStore((s) => s.status?.frozen ?? null);
  const [isFreezing, setFreezing] = useState(false);
  const mayFreeze = useCan('writes.freeze');
  // An evidence bundle never writes: no switch to offer.
  const isBundle = useAppStore((s) => Boolean(s.info?.bundle));
  useEffect(() => {
    void load();
  }, [load]);
  const isUnknownOnly = filter.states?.length === 1 && filter.states[0] === 'uncertain';
  const set = (patch: Partial<OutgoingFilter>) => {
    const next: OutgoingFilter = { ...filter, ...patch };
    for (const key of Object.keys(next) as (keyof OutgoingFilter)[]) if (next[key] === undefined) delete next[key];
    setFilter(next);
  };

  return (
    <>
      <h1>Outgoing calls</h1>
      <p className="muted">
        Every refund, stock update, status update and ReBound call the app makes, newest first: each is written down before it is sent, and what the
        call proved after it. A call whose outcome is unknown (the answer was lost) is checked against Mirakl or ReBound before anything is sent again.
      </p>
      {!isBundle && (
        <section className="card" aria-label="Write freeze">
          <h2>Write freeze</h2>
          {frozen ? (
            <p>
              Writes are frozen since {formatDateTime(frozen.at)} by {frozen.by}. Unfreeze from the banner above.
            </p>
          ) : (
            <>
              <p className="muted">For month-end close or an incident: stop every call that changes Mirakl or ReBound. Reads go on; nothing planned is lost.</p>
              <button type="button" className="danger" disabled={!mayFreeze.isAllowed} title={mayFreeze.whyNot ?? undefined} onClick={() => setFreezing(true)}>
                Freeze writes…
              </button>
            </>
          )}
          {isFreezing && <FreezeDialog to="freeze" onClose={() => setFreezing(false)} />}
        </section>
      )}

      <form className="toolbar" role="search" aria-label="Filter the outgoing calls" onSubmit={(e) => e.preventDefault()}>
        <label className="check">
          <input
            type="checkbox"
            checked={isUnknownOnly}
            onChange={(e) => set({ states: e.target.checked ? ['uncertain'] : undefined })}
          />
          Outcome unknown only ({formatCount(uncertain)})
        </label>
        <label>
          State
          <select
            aria-label="State"
            value={filter.states?.length === 1 ? filter.states[0] : ''}
            onChange={(e) => set({ states: e.target.value ? [e.target.value as OutgoingRow['state']] : undefined })}
          >
            <option value="">Any</option>
            {intentStates.map((s) => (
              <option key={s} value={s}>
                {stateWords[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Call
          <select aria-label="Call" value={filter.kind ?? ''} onChange={(e) => set({ kind: (e.target.value || undefined) as OutgoingFilter['kind'] })}>
            <option value="">Any</option>
            {kindOptions.map(([kind, k]) => (
              <option key={kind} value={kind}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          System
          <select aria-label="System" value={filter.system ?? ''} onChange={(e) => set({ system: (e.target.value || undefined) as OutgoingFilter['system'] })}>
            <option value="">Both</option>
            <option value="mirakl">Mirakl</option>
            <option value="rebound">ReBound</option>
          </select>
        </label>
        <ReturnFilter value={filter.returnId ?? ''} onChange={(returnId) => set({ returnId: returnId || undefined })} />
      </form>

      {error && <LoadError what="the outgoing calls" message={error.message} onRetry={() => void load()} />}
      {!hasLoaded && <Loading what="the outgoing calls" />}
      {hasLoaded && !error && rows.length === 0 && (
        <EmptyState title="No outgoing calls">
          {Object.keys(filter).length ? 'No call matches these filters.' : 'The sync has not sent anything yet.'}
        </EmptyState>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="queue" aria-label="Outgoing calls">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Call</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Return</th>
                <th scope="col">Amount</th>
                <th scope="col">Last error</th>
                <th scope="col">Probe</th>
                <th scope="col">Planned</th>
                <th scope="col">Last change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-intent={r.id} data-state={r.state}>
                  <td>{r.id}</td>
                  <td>
                    {r.label}
                    <div className="muted">{r.system === 'mirakl' ? 'Mirakl' : 'ReBound'}</div>
                  </td>
                  <td>
                    <span className={`state state-${r.state}`}>{stateWords[r.state]}</span>
                    {r.state === 'failed' && r.nextAttemptAt && <div className="muted">retried {formatDateTime(r.nextAttemptAt)}</div>}
                  </td>
                  <td>{r.attempts}</td>
                  <td>{r.returnId ?? <span className="muted">{r.subject}</span>}</td>
                  <td>{r.amountMinor !== null ? formatMoney(r.amountMinor, r.currency) : ''}</td>
                  <td>{r.lastError ?? ''}</td>
                  <td>{r.probe ?? ''}</td>
                  <td>{formatDateTime(r.createdAt)}</td>
                  <td>{formatDateTime(r.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > 0 && (
        <nav className="pager" aria-label="Pages of the outgoing calls">
          <button type="button" disabled={offset === 0} onClick={() => setPage(offset - limit)}>
            Newer
          </button>
          <span>
            {offset + 1}–{offset + rows.length} of {formatCount(total, isCapped)}
          </span>
          <button type="button" disabled={offset + rows.length >= total} onClick={() => setPage(offset + limit)}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}

/** The return filter applies when submitted (Enter), not at each key. */
function ReturnFilter({ value, onChange }: { value: string; onChange(value: string): void }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <label>
      Return
      <input
        value={draft}
        placeholder="return id"
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onChange(draft.trim());
        }}
        onBlur={() => onChange(draft.trim())}
      />
    </label>
  );
}
