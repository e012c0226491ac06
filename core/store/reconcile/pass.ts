import type { Database, Statement } from 'better-sqlite3';
import { exceptionTypes } from '../../exceptions/catalogue';
import { severityRank } from '../../ledger/exceptions';
import type { Policy } from '../../mappings/schemas';
import type { Clock } from '../../ports';
import { detectors, exceptionsInScope, fromAll, fromScope, watchesInScope, type Detector } from './detectors';
import { createMatchDecisions } from './matches-repo';
import { createMatcher } from './matcher';

// One reconciliation pass: the matcher, then every detector, over the subjects that changed since the last pass
// (triggers record them in recon_dirty) — or over everything when asked, or when the policy the SLA clocks were
// computed with has changed. Exceptions are raised only once a divergence has outlived its SLA, never twice for
// one (type, subject), and resolved with the reason as soon as the subject no longer diverges. The whole pass is
// one transaction: a crash leaves the previous state and the dirty set intact.

export interface PassReport {
  full: boolean;
  returns: number;
  refunds: number;
  intents: number;
  raised: number;
  resolved: number;
  reopened: number;
  ms: number;
  /** Milliseconds per step (matcher, each detector, raising), for the benchmark. */
  steps: Record<string, number>;
}

const catalogueJson = JSON.stringify(
  Object.entries(exceptionTypes).map(([type, t]) => ({ type, severity: t.severity, rank: severityRank[t.severity], owner: t.owner, nextAction: t.nextAction })),
);

export function createReconciler(db: Database, clock: Clock) {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS scope_return (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS scope_refund (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS scope_intent (id INTEGER PRIMARY KEY);
    CREATE TEMP TABLE IF NOT EXISTS line_facts (return_id TEXT NOT NULL, order_line_id TEXT NOT NULL, requested INTEGER NOT NULL,
      verified INTEGER NOT NULL, first_verified_at TEXT, price_unit_minor INTEGER NOT NULL, missing INTEGER NOT NULL,
      sellable INTEGER NOT NULL, restocked INTEGER NOT NULL, refunded_done_minor INTEGER NOT NULL,
      refunded_all_minor INTEGER NOT NULL, links INTEGER NOT NULL, done_links INTEGER NOT NULL, last_refund_seen TEXT,
      PRIMARY KEY (return_id, order_line_id)) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS unit_facts (return_id TEXT NOT NULL, order_line_id TEXT NOT NULL, verified INTEGER NOT NULL,
      first_verified_at TEXT, missing INTEGER NOT NULL, sellable INTEGER NOT NULL, restocked INTEGER NOT NULL,
      PRIMARY KEY (return_id, order_line_id)) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS link_facts (return_id TEXT NOT NULL, order_line_id TEXT NOT NULL, done INTEGER, total INTEGER NOT NULL,
      links INTEGER NOT NULL, done_links INTEGER NOT NULL, seen TEXT, PRIMARY KEY (return_id, order_line_id)) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS recon_found (type TEXT NOT NULL, subject_key TEXT NOT NULL, scope_id TEXT NOT NULL, return_id TEXT,
      order_line_id TEXT, since TEXT NOT NULL, due_at TEXT NOT NULL, cause TEXT NOT NULL, PRIMARY KEY (type, subject_key)) WITHOUT ROWID;
  `);
  const matcher = createMatcher(db);
  const clearScope = ['scope_return', 'scope_refund', 'scope_intent'].map((t) => db.prepare(`DELETE FROM temp.${t}`));
  const fillAll = [
    db.prepare('INSERT INTO temp.scope_return SELECT id FROM mirakl_returns'),
    db.prepare('INSERT INTO temp.scope_refund SELECT id FROM mirakl_refunds'),
    db.prepare('INSERT INTO temp.scope_intent SELECT id FROM intents'),
  ];
  const fillDirty = [
    db.prepare(`INSERT INTO temp.scope_return SELECT id FROM recon_dirty WHERE scope = 'return'`),
    db.prepare(`INSERT INTO temp.scope_intent SELECT CAST(id AS INTEGER) FROM recon_dirty WHERE scope = 'intent'`),
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT id FROM recon_dirty WHERE scope = 'refund'`),
    // A refund is judged against the receipts of its order line and the return lines it may match: a new return
    // line, or a receipt appearing on a line, re-judges every refund of that line ('line' is marked by triggers).
    // CROSS JOIN keeps the (small) scope as the outer loop: the planner has no statistics for temp tables.
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT f.id FROM recon_dirty d
      CROSS JOIN mirakl_refunds f ON f.order_line_id = d.id WHERE d.scope = 'line'`),
    // A refund we made and that Mirakl confirmed gets its exact link in this pass.
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT json_extract(i.outcome, '$.refundId') FROM temp.scope_intent s
      CROSS JOIN intents i ON i.id = s.id WHERE i.kind = 'mirakl.refund' AND json_extract(i.outcome, '$.refundId') IS NOT NULL`),
    // What a line was refunded in all is judged per return line (REFUND_EXCEEDS_RECEIPT): a refund that appears or
    // changes — one made in the back office included — re-judges every return of its order line.
    db.prepare(`INSERT OR IGNORE INTO temp.scope_return SELECT DISTINCT l.return_id FROM temp.scope_refund s
      CROSS JOIN mirakl_refunds f ON f.id = s.id CROSS JOIN mirakl_return_lines l ON l.order_line_id = f.order_line_id`),
  ];
  const fillWatched = [
    db.prepare(`INSERT OR IGNORE INTO temp.scope_return SELECT DISTINCT return_id FROM recon_watch WHERE return_id IS NOT NULL`),
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT substr(subject_key, 8) FROM recon_watch WHERE subject_key LIKE 'refund:%'`),
    db.prepare(`INSERT OR IGNORE INTO temp.scope_intent SELECT CAST(substr(subject_key, 8) AS INTEGER) FROM recon_watch WHERE subject_key LIKE 'intent:%'`),
  ];
  const clearDirty = db.prepare('DELETE FROM recon_dirty');
  const counts = db.prepare(`SELECT (SELECT count(*) FROM temp.scope_return) AS returns, (SELECT count(*) FROM temp.scope_refund) AS refunds,
    (SELECT count(*) FROM temp.scope_intent) AS intents`);
  const clearFound = db.prepare('DELETE FROM temp.recon_found');
  const wake = db.prepare(`UPDATE exceptions SET state = 'open', snoozed_until = NULL, updated_at = @now WHERE state = 'snoozed' AND snoozed_until <= @now`);
  const raise = db.prepare(`INSERT INTO exceptions (type, subject_key, severity, severity_rank, owner_team, state, return_id, order_line_id, cause,
      next_action, detected_at, sla_due_at, updated_at)
    SELECT w.type, w.subject_key, c.severity, c.rank, c.owner, 'open', w.return_id, w.order_line_id, w.cause, c.nextAction, @now, w.due_at, @now
    FROM recon_watch w
    JOIN (SELECT json_extract(value, '$.type') AS type, json_extract(value, '$.severity') AS severity, json_extract(value, '$.rank') AS rank,
                 json_extract(value, '$.owner') AS owner, json_extract(value, '$.nextAction') AS nextAction FROM json_each(@catalogue)) c ON c.type = w.type
    WHERE w.state = 'waiting' AND w.due_at <= @now
      AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.type = w.type AND e.subject_key = w.subject_key AND e.state != 'resolved')`);
  // Credentials refused by a system are fine again once a call to that system has succeeded since.
  const credentialsWork = db.prepare(`UPDATE exceptions SET state = 'resolved', resolved_at = @now, resolved_by = 'auto', updated_at = @now,
      resolution = 'auto: a call to ' || subject_key || ' has succeeded since'
    WHERE type = 'CREDENTIALS_INVALID' AND state != 'resolved'
      AND EXISTS (SELECT 1 FROM request_journal j WHERE j.at > exceptions.detected_at AND j.system = exceptions.subject_key AND j.status BETWEEN 200 AND 299)`);
  const markRaised = db.prepare(`UPDATE recon_watch SET state = 'raised' WHERE state = 'waiting' AND due_at <= @now`);

  const perDetector = detectors.map((d) => ({ detector: d, ...prepareDetector(db, d) }));
  const settle = prepareSettle(db);
  let basis: string | null = null;
  let markDirty: Statement | undefined;

  return {
    /** People's decisions on the matcher's suggestions. */
    matches: createMatchDecisions(db, clock),

    /** The next pass judges this subject again, whatever the triggers saw (after a person acted on it). */
    rejudge(scope: 'return' | 'refund', id: string): void {
      (markDirty ??= db.prepare('INSERT INTO recon_dirty (scope, id) VALUES (?, ?) ON CONFLICT DO NOTHING')).run(scope, id);
    },

    /**
     * Reconciles what changed since the last pass (or everything with `full`, or when the policy changed).
     * Runs inside its own transaction.
     */
    run(policy: Policy, options: { full?: boolean } = {}): PassReport {
      const started = performance.now();
      const now = new Date(clock.now()).toISOString();
      // What the derived tables were computed with. The refund tolerance decides refund statuses and mismatches
      // everywhere, so changing it (or a first run) needs a full pass; the SLAs only date divergences, so changing
      // them re-judges just the subjects being watched.
      const policyBasis = JSON.stringify({ judged: [policy.refunds.toleranceMinor], sla: policy.sla });
      const stored = basis ?? (db.prepare(`SELECT value FROM sync_cursors WHERE feed = 'reconcile.basis'`).get() as { value: string } | undefined)?.value ?? null;
      const previous = parseBasis(stored);
      const full = options.full === true || previous === null || JSON.stringify(previous.judged) !== JSON.stringify([policy.refunds.toleranceMinor]);
      const slaChanged = !full && JSON.stringify(previous?.sla) !== JSON.stringify(policy.sla);
      let raised = 0;
      let resolved = 0;
      let reopened = 0;
      let scope = { returns: 0, refunds: 0, intents: 0 };
      const steps: Record<string, number> = {};
      const step = <T>(name: string, run: () => T): T => {
        const t = performance.now();
        const result = run();
        steps[name] = performance.now() - t;
        return result;
      };
      const commitStarted = { at: 0 };
      const txStarted = performance.now();
      db.transaction(() => {
        steps.begin = performance.now() - txStarted;
        step('scope', () => {
          for (const s of clearScope) s.run();
          for (const s of full ? fillAll : fillDirty) s.run();
          if (slaChanged) for (const s of fillWatched) s.run();
        });
        scope = step('counts', () => counts.get() as typeof scope);
        reopened = step('wake', () => wake.run({ now }).changes);
        step('matcher', () => matcher.run({ toleranceMinor: policy.refunds.toleranceMinor, now, full }, steps));
        clearFound.run();
        for (const d of perDetector) step(d.detector.type, () => d.find(policy, full));
        resolved = step('settle', () => settle(now));
        resolved += step('credentials', () => credentialsWork.run({ now }).changes);
        raised = step('raise', () => raise.run({ now, catalogue: catalogueJson }).changes);
        step('markRaised', () => markRaised.run({ now }));
        step('clearDirty', () => clearDirty.run());
        if (stored !== policyBasis) {
          db.prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES ('reconcile.basis', @value, @now)
            ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run({ value: policyBasis, now });
        }
        commitStarted.at = performance.now();
      })();
      steps.commit = performance.now() - commitStarted.at;
      basis = policyBasis;
      return { full, ...scope, raised, resolved, reopened, ms: performance.now() - started, steps };
    },
  };

  function prepareDetector(db: Database, d: Detector) {
    let compiled: { sql: string; find: Statement } | null = null;
    return {
      /** Adds this detector's divergent subjects in scope to temp.recon_found. */
      find(policy: Policy, full: boolean): void {
        const sql = d.sql(policy, full ? fromAll : fromScope);
        if (compiled?.sql !== sql) {
          compiled = { sql, find: db.prepare(`INSERT OR IGNORE INTO temp.recon_found SELECT '${d.type}', * FROM (${sql})`) };
        }
        compiled.find.run();
      },
    };
  }
}

/**
 * Once every detector has said what diverges in scope: watches and exceptions of their types for subjects in scope
 * that no longer diverge are dropped and resolved (with the type's reason), the rest are kept with a fresh cause.
 * One statement per scope kind, not per detector: the cost is one index lookup per subject in scope.
 */
function prepareSettle(db: Database) {
  const reasons = JSON.stringify(detectors.map((d) => ({ type: d.type, reason: `auto: ${d.convergedBecause}` })));
  const byScope = (['return', 'refund', 'intent'] as const).map((scope) => {
    const types = detectors.filter((d) => d.scope === scope).map((d) => `'${d.type}'`).join(', ');
    return {
      converged: db.prepare(`UPDATE ${exceptionsInScope(scope).table} SET state = 'resolved', resolved_at = @now, resolved_by = 'auto', updated_at = @now,
          resolution = (SELECT json_extract(value, '$.reason') FROM json_each(@reasons) WHERE json_extract(value, '$.type') = exceptions.type)
        WHERE ${exceptionsInScope(scope).where} AND ${scope === 'return' ? '+type' : 'type'} IN (${types}) AND state != 'resolved'
          AND NOT EXISTS (SELECT 1 FROM temp.recon_found f WHERE f.type = exceptions.type AND f.subject_key = exceptions.subject_key)`),
      dropWatch: db.prepare(`DELETE FROM ${watchesInScope(scope).table} WHERE ${watchesInScope(scope).where} AND +type IN (${types})
          AND NOT EXISTS (SELECT 1 FROM temp.recon_found f WHERE f.type = recon_watch.type AND f.subject_key = recon_watch.subject_key)`),
    };
  });
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
  return (now: string): number => {
    let resolved = 0;
    for (const s of byScope) {
      resolved += s.converged.run({ now, reasons }).changes;
      s.dropWatch.run();
    }
    keepWatch.run();
    refreshCause.run({ now });
    return resolved;
  };

}

function parseBasis(value: string | null): { judged: unknown; sla: unknown } | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === 'object' && 'judged' in parsed && 'sla' in parsed ? (parsed as { judged: unknown; sla: unknown }) : null;
  } catch {
    return null;
  }
}

export type Reconciler = ReturnType<typeof createReconciler>;
