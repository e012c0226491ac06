import type { Database, Statement } from 'better-sqlite3';
import { exceptionTypes } from '../exceptions/catalogue';
import { detectors, exceptionsInScope, watchesInScope, type Scope, type Within } from '../store/reconcile/detectors';
import { severityRank } from './exceptions';

// What the detectors found becomes exceptions here, and only here. The detectors (core/store/reconcile) only read:
// each writes the divergent subjects in the pass's scope into the temporary table `recon_found`. This ledger then
// keeps, in one place, the rules a person relies on:
// - a divergence is watched from when it was first seen and raised only once it has outlived its SLA;
// - never two open exceptions for one (type, subject): a fresh finding refreshes the open one's cause;
// - a subject in scope that no longer diverges has its watch dropped and its exception resolved with the reason;
// - a person's resolution (an accepted watch) is not raised again while the divergence it accepted still holds;
// - a snoozed exception opens again when its snooze ends.

const catalogue = Object.entries(exceptionTypes).map(([type, t]) => ({ type, severity: t.severity, rank: severityRank[t.severity], owner: t.owner, nextAction: t.nextAction }));

export function createFindingsLedger(db: Database) {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS recon_found (type TEXT NOT NULL, subject_key TEXT NOT NULL, scope_id TEXT NOT NULL, return_id TEXT,
    order_line_id TEXT, since TEXT NOT NULL, due_at TEXT NOT NULL, cause TEXT NOT NULL, PRIMARY KEY (type, subject_key)) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS exception_catalogue (type TEXT PRIMARY KEY, severity TEXT NOT NULL, rank INTEGER NOT NULL, owner TEXT NOT NULL,
      next_action TEXT NOT NULL) WITHOUT ROWID;
    DELETE FROM temp.exception_catalogue;`);
  // The catalogue as a table once per connection: raising reads it by type (parsing it as JSON per row cost more than the insert).
  const addType = db.prepare('INSERT INTO temp.exception_catalogue (type, severity, rank, owner, next_action) VALUES (@type, @severity, @rank, @owner, @nextAction)');
  for (const t of catalogue) addType.run(t);
  const clearFound = db.prepare('DELETE FROM temp.recon_found');
  const wake = db.prepare(`UPDATE exceptions SET state = 'open', snoozed_until = NULL, updated_at = @now WHERE state = 'snoozed' AND snoozed_until <= @now`);
  const raise = db.prepare(`INSERT INTO exceptions (type, subject_key, severity, severity_rank, owner_team, state, return_id, order_line_id, cause,
      next_action, detected_at, sla_due_at, updated_at)
    SELECT w.type, w.subject_key, c.severity, c.rank, c.owner, 'open', w.return_id, w.order_line_id, w.cause, c.next_action, @now, w.due_at, @now
    FROM recon_watch w INDEXED BY recon_watch_due CROSS JOIN temp.exception_catalogue c ON c.type = w.type
    WHERE w.state = 'waiting' AND w.due_at <= @now
      AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.type = w.type AND e.subject_key = w.subject_key AND e.state != 'resolved')`);
  const markRaised = db.prepare(`UPDATE recon_watch SET state = 'raised' WHERE state = 'waiting' AND due_at <= @now`);
  // Credentials refused by a system are fine again once a call to that system has succeeded since.
  const credentialsWork = db.prepare(`UPDATE exceptions SET state = 'resolved', resolved_at = @now, resolved_by = 'auto', updated_at = @now,
      resolution = 'auto: a call to ' || subject_key || ' has succeeded since'
    WHERE type = 'CREDENTIALS_INVALID' AND state != 'resolved'
      AND EXISTS (SELECT 1 FROM request_journal j WHERE j.at > exceptions.detected_at AND j.system = exceptions.subject_key AND j.status BETWEEN 200 AND 299)`);
  const settle = prepareSettle(db);

  return {
    /** Empties what the detectors found, before they look again. */
    clearFound(): void {
      clearFound.run();
    },
    /** Snoozes that have ended: the exception is open again. Returns how many. */
    wakeSnoozed(now: string): number {
      return wake.run({ now }).changes;
    },
    /**
     * Once the detectors of `scopes` have written what diverges `within` the pass's scope: watches and exceptions of
     * their types for subjects in scope that no longer diverge are dropped and resolved (with the type's reason); the
     * rest are kept with a fresh cause. Also resolves CREDENTIALS_INVALID for a system a call has succeeded with
     * since. `params` are the scope's bounds (a chunk's range). Returns how many exceptions were resolved.
     */
    settle(now: string, scopes: readonly Scope[], within: Within, params: Record<string, string | number> = {}): number {
      return settle(now, scopes, within, params) + credentialsWork.run({ now }).changes;
    },
    /** Raises what has diverged past its SLA and is not open already (never twice per type and subject). */
    raiseDue(now: string): number {
      const raised = raise.run({ now }).changes;
      markRaised.run({ now });
      return raised;
    },
  };
}

export type FindingsLedger = ReturnType<typeof createFindingsLedger>;

/** One statement per scope kind, not per detector: the cost is one index lookup per subject in scope (or one range). */
function prepareSettle(db: Database) {
  const reasons = JSON.stringify(detectors.map((d) => ({ type: d.type, reason: `auto: ${d.convergedBecause}` })));
  const statements = new Map<string, { converged: Statement; dropWatch: Statement }>();
  const byScope = (scope: Scope, within: Within) => {
    const key = `${scope}:${within.kind}`;
    let s = statements.get(key);
    if (!s) {
      const types = detectors.filter((d) => d.scope === scope).map((d) => `'${d.type}'`).join(', ');
      const exceptions = exceptionsInScope(scope, within);
      const watches = watchesInScope(scope, within);
      s = {
        converged: db.prepare(`UPDATE ${exceptions.table} SET state = 'resolved', resolved_at = @now, resolved_by = 'auto', updated_at = @now,
            resolution = (SELECT json_extract(value, '$.reason') FROM json_each(@reasons) WHERE json_extract(value, '$.type') = exceptions.type)
          WHERE ${exceptions.where} AND ${scope === 'return' ? '+type' : 'type'} IN (${types}) AND state != 'resolved'
            AND NOT EXISTS (SELECT 1 FROM temp.recon_found f WHERE f.type = exceptions.type AND f.subject_key = exceptions.subject_key)`),
        dropWatch: db.prepare(`DELETE FROM ${watches.table} WHERE ${watches.where} AND ${within.kind === 'range' && scope === 'intent' ? 'type' : '+type'} IN (${types})
            AND NOT EXISTS (SELECT 1 FROM temp.recon_found f WHERE f.type = recon_watch.type AND f.subject_key = recon_watch.subject_key)`),
      };
      statements.set(key, s);
    }
    return s;
  };
  const keepWatch = db.prepare(`INSERT INTO recon_watch (type, subject_key, scope_id, return_id, order_line_id, since, due_at, cause, state)
    SELECT type, subject_key, scope_id, return_id, order_line_id, since, due_at, cause, 'waiting' FROM temp.recon_found WHERE true
    ON CONFLICT (type, subject_key) DO UPDATE SET scope_id = excluded.scope_id, return_id = excluded.return_id, order_line_id = excluded.order_line_id,
      since = excluded.since, due_at = excluded.due_at, cause = excluded.cause
    WHERE recon_watch.cause != excluded.cause OR recon_watch.due_at != excluded.due_at OR recon_watch.since != excluded.since
      OR recon_watch.scope_id != excluded.scope_id`);
  // Driven from what was found (the open-exception index is searched per found row, never scanned).
  const foundCause = `(SELECT f.cause FROM temp.recon_found f WHERE f.type = exceptions.type AND f.subject_key = exceptions.subject_key)`;
  const refreshCause = db.prepare(`UPDATE exceptions INDEXED BY exceptions_one_open SET cause = ${foundCause}, updated_at = @now
    WHERE state != 'resolved' AND (type, subject_key) IN (SELECT type, subject_key FROM temp.recon_found) AND cause != ${foundCause}`);
  return (now: string, scopes: readonly Scope[], within: Within, params: Record<string, string | number>): number => {
    let resolved = 0;
    for (const scope of scopes) {
      const s = byScope(scope, within);
      resolved += s.converged.run({ ...params, now, reasons }).changes;
      s.dropWatch.run(params);
    }
    keepWatch.run();
    refreshCause.run({ now });
    return resolved;
  };
}
