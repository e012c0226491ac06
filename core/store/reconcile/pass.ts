import type { Database, Statement } from 'better-sqlite3';
import { createFindingsLedger } from '../../ledger/findings';
import type { Policy } from '../../mappings/schemas';
import type { Clock } from '../../ports';
import { detectors, fromAll, fromScope, type Detector } from './detectors';
import { createMatchDecisions } from './matches-repo';
import { createMatcher } from './matcher';

// One reconciliation pass: the matcher, then every detector, over the subjects that changed since the last pass
// (triggers record them in recon_dirty) — or over everything when asked, or when the policy the SLA clocks were
// computed with has changed. Exceptions are raised only once a divergence has outlived its SLA, never twice for
// one (type, subject), and resolved with the reason as soon as the subject no longer diverges — by the findings
// ledger (core/ledger/findings.ts), the only writer of exceptions from what the detectors found; the matcher and
// the detectors only derive. The whole pass is one transaction: a crash leaves the previous state and the dirty set
// intact.

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
  `);
  const findings = createFindingsLedger(db);
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

  const perDetector = detectors.map((d) => ({ detector: d, ...prepareDetector(db, d) }));
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
        reopened = step('wake', () => findings.wakeSnoozed(now));
        step('matcher', () => matcher.run({ toleranceMinor: policy.refunds.toleranceMinor, now, full }, steps));
        findings.clearFound();
        for (const d of perDetector) step(d.detector.type, () => d.find(policy, full));
        resolved = step('settle', () => findings.settle(now));
        raised = step('raise', () => findings.raiseDue(now));
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
