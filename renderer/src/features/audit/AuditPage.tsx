import { useEffect, useState } from 'react';
import { EmptyState, LoadError, Loading } from '../../app/EmptyState';
import { formatDateTime } from '../../app/format';
import { useAuditStore, type AuditFilter } from './store';

function brief(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 140 ? `${text.slice(0, 140)}…` : text;
}

export function AuditPage() {
  const { rows, total, offset, limit, error, hasLoaded, verify, verifyError, isVerifying, filter, load, setFilter, setPage, runVerify } = useAuditStore();
  const [draft, setDraft] = useState<AuditFilter>(filter);
  useEffect(() => {
    void load();
    void runVerify();
  }, [load, runVerify]);

  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">Every manual action and every change of settings or mappings: who, what, before, after and why. Entries are never changed or removed.</p>
      <section className="card" aria-label="Integrity">
        <h2>Integrity</h2>
        {verifyError && <LoadError what="the integrity check" message={verifyError.message} />}
        {!verify && !verifyError && <Loading what="the integrity check" />}
        {verify && (
          <p data-testid="audit-verify" className={verify.ok ? 'ok' : 'error'} role={verify.ok ? undefined : 'alert'}>
            {verify.ok
              ? `The hash chain is intact: ${verify.entries} entr${verify.entries === 1 ? 'y' : 'ies'} checked.`
              : `The hash chain is broken (${verify.problems.length} problem${verify.problems.length === 1 ? '' : 's'} in ${verify.entries} entries).`}
          </p>
        )}
        {verify && !verify.ok && (
          <ul className="error">
            {verify.problems.map((p) => (
              <li key={`${p.seq}-${p.kind}`}>
                Entry {p.seq}: {p.kind.replace(/_/g, ' ')} — {p.detail}
              </li>
            ))}
          </ul>
        )}
        <button type="button" disabled={isVerifying} onClick={() => void runVerify()}>
          {isVerifying ? 'Checking…' : 'Check again'}
        </button>
      </section>

      <form
        className="toolbar"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          const clean: AuditFilter = {};
          for (const k of ['subject', 'actor', 'action'] as const) if (draft[k]?.trim()) clean[k] = draft[k]?.trim();
          setFilter(clean);
        }}
      >
        <label>
          Subject
          <input value={draft.subject ?? ''} onChange={(e) => setDraft({ ...draft, subject: e.target.value })} placeholder="exception:12, return:…" />
        </label>
        <label>
          Who
          <input value={draft.actor ?? ''} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />
        </label>
        <label>
          Action
          <input value={draft.action ?? ''} onChange={(e) => setDraft({ ...draft, action: e.target.value })} placeholder="exception.resolve" />
        </label>
        <button type="submit">Filter</button>
      </form>

      {error && <LoadError what="the audit log" message={error.message} onRetry={() => void load()} />}
      {!hasLoaded && <Loading what="the audit log" />}
      {hasLoaded && !error && rows.length === 0 && (
        <EmptyState title="No audit entries">
          {Object.keys(filter).length ? 'Nothing matches these filters.' : 'Nobody has acted yet. Resolutions, assignments, comments, refunds and changes of settings or mappings are recorded here.'}
        </EmptyState>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="queue" aria-label="Audit entries">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Subject</th>
                <th scope="col">Why</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.seq} data-seq={r.seq}>
                  <td>{r.seq}</td>
                  <td>{formatDateTime(r.at)}</td>
                  <td>{r.actor}</td>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td>{r.subject}</td>
                  <td>{r.reason ?? <span className="muted">—</span>}</td>
                  <td className="change">
                    <details>
                      <summary>
                        {brief(r.before) ? `${brief(r.before)} → ` : ''}
                        {brief(r.after)}
                      </summary>
                      <pre>{JSON.stringify({ before: r.before, after: r.after }, null, 2)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > 0 && (
        <nav className="pager" aria-label="Pages of the audit log">
          <button type="button" disabled={offset === 0} onClick={() => setPage(offset - limit)}>
            Newer
          </button>
          <span>
            {offset + 1}–{offset + rows.length} of {total}
          </span>
          <button type="button" disabled={offset + rows.length >= total} onClick={() => setPage(offset + limit)}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}
