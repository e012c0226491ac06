import type { Database, Statement } from 'better-sqlite3';
import { exceptionTypes } from '../exceptions/catalogue';
import { severityRank } from '../exceptions/store';
import type { Policy } from '../mappings/schemas';
import type { Clock } from '../ports';
import { detectors, exceptionScopeColumn, watchScopeColumn, type Detector } from './detectors';
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
    CREATE TEMP TABLE IF NOT EXISTS recon_found (subject_key TEXT PRIMARY KEY, scope_id TEXT NOT NULL, return_id TEXT, order_line_id TEXT,
      since TEXT NOT NULL, due_at TEXT NOT NULL, cause TEXT NOT NULL) WITHOUT ROWID;
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
    // A refund is judged against the receipts of its order line: a change on any return of that line re-judges it.
    // CROSS JOIN keeps the (small) scope as the outer loop: the planner has no statistics for temp tables.
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT f.id FROM temp.scope_return s
      CROSS JOIN mirakl_return_lines l ON l.return_id = s.id CROSS JOIN mirakl_refunds f ON f.order_line_id = l.order_line_id`),
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT f.id FROM temp.scope_return s
      CROSS JOIN units u ON u.return_id = s.id CROSS JOIN mirakl_refunds f ON f.order_line_id = u.order_line_id`),
    db.prepare(`INSERT OR IGNORE INTO temp.scope_refund SELECT m.subject FROM recon_matches m INDEXED BY recon_matches_return
      WHERE m.kind = 'refund_line' AND m.return_id IN (SELECT id FROM temp.scope_return)`),
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
  const markRaised = db.prepare(`UPDATE recon_watch SET state = 'raised' WHERE state = 'waiting' AND due_at <= @now`);

  const perDetector = detectors.map((d) => ({ detector: d, ...prepareDetector(db, d) }));
  let basis: string | null = null;

  return {
    /**
     * Reconciles what changed since the last pass (or everything with `full`, or when the policy changed).
     * Runs inside its own transaction.
     */
    run(policy: Policy, options: { full?: boolean } = {}): PassReport {
      const started = performance.now();
      const now = new Date(clock.now()).toISOString();
      const policyBasis = JSON.stringify([policy.sla, policy.refunds.toleranceMinor, policy.refunds.trigger]);
      const stored = basis ?? (db.prepare(`SELECT value FROM sync_cursors WHERE feed = 'reconcile.basis'`).get() as { value: string } | undefined)?.value ?? null;
      const full = options.full === true || stored !== policyBasis;
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
      db.transaction(() => {
        step('scope', () => {
          for (const s of clearScope) s.run();
          for (const s of full ? fillAll : fillDirty) s.run();
        });
        scope = counts.get() as typeof scope;
        reopened = wake.run({ now }).changes;
        step('matcher', () => matcher.run({ toleranceMinor: policy.refunds.toleranceMinor, now }, steps));
        for (const d of perDetector) resolved += step(d.detector.type, () => d.apply(policy, now));
        raised = step('raise', () => raise.run({ now, catalogue: catalogueJson }).changes);
        markRaised.run({ now });
        clearDirty.run();
        if (stored !== policyBasis) {
          db.prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES ('reconcile.basis', @value, @now)
            ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run({ value: policyBasis, now });
        }
      })();
      basis = policyBasis;
      return { full, ...scope, raised, resolved, reopened, ms: performance.now() - started, steps };
    },
  };

  function prepareDetector(db: Database, d: Detector) {
    const scopeTable = `temp.scope_${d.scope}`;
    const converged = db.prepare(`UPDATE exceptions SET state = 'resolved', resolved_at = @now, resolved_by = 'auto', resolution = @reason, updated_at = @now
      WHERE type = @type AND state != 'resolved' AND ${exceptionScopeColumn(d.scope)} IN (SELECT id FROM ${scopeTable})
        AND NOT EXISTS (SELECT 1 FROM temp.recon_found f WHERE f.subject_key = exceptions.subject_key)`);
    const dropWatch = db.prepare(`DELETE FROM recon_watch WHERE type = @type AND ${watchScopeColumn(d.scope)} IN (SELECT id FROM ${scopeTable})
        AND NOT EXISTS (SELECT 1 FROM temp.recon_found f WHERE f.subject_key = recon_watch.subject_key)`);
    const keepWatch = db.prepare(`INSERT INTO recon_watch (type, subject_key, scope_id, return_id, order_line_id, since, due_at, cause, state)
      SELECT @type, subject_key, scope_id, return_id, order_line_id, since, due_at, cause, 'waiting' FROM temp.recon_found WHERE true
      ON CONFLICT (type, subject_key) DO UPDATE SET scope_id = excluded.scope_id, return_id = excluded.return_id, order_line_id = excluded.order_line_id,
        since = excluded.since, due_at = excluded.due_at, cause = excluded.cause`);
    const refreshCause = db.prepare(`UPDATE exceptions SET cause = f.cause, updated_at = @now FROM temp.recon_found f
      WHERE exceptions.type = @type AND exceptions.subject_key = f.subject_key AND exceptions.state != 'resolved' AND exceptions.cause != f.cause`);
    let compiled: { sql: string; find: Statement } | null = null;
    return {
      apply(policy: Policy, now: string): number {
        const sql = d.sql(policy);
        if (compiled?.sql !== sql) compiled = { sql, find: db.prepare(`INSERT OR IGNORE INTO temp.recon_found ${sql}`) };
        clearFound.run();
        compiled.find.run();
        const type = d.type;
        const resolvedNow = converged.run({ type, now, reason: `auto: ${d.convergedBecause}` }).changes;
        dropWatch.run({ type });
        keepWatch.run({ type });
        refreshCause.run({ type, now });
        return resolvedNow;
      },
    };
  }
}

export type Reconciler = ReturnType<typeof createReconciler>;
