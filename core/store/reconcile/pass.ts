import type { Database, Statement } from 'better-sqlite3';
import { createFindingsLedger } from '../../ledger/findings';
import type { Policy } from '../../mappings/schemas';
import type { Clock } from '../../ports';
import { changed, detectors, inRange, scopes, type Detector, type Scope, type Within } from './detectors';
import { createMatchDecisions } from './matches-repo';
import { createMatcher, type Params } from './matcher';

// One reconciliation pass: the matcher, then every detector, over the subjects that changed since the last pass
// (triggers record them in recon_dirty). Exceptions are raised only once a divergence has outlived its SLA, never
// twice for one (type, subject), and resolved with the reason as soon as the subject no longer diverges — by the
// findings ledger (core/ledger/findings.ts), the only writer of exceptions from what the detectors found; the matcher
// and the detectors only derive. A pass is one transaction: a crash leaves the previous state and the dirty set intact.
//
// Judging everything (a new or migrated database, more changes at once than a pass should take, or when asked) is a
// *full pass*, run in chunks: the returns in key order, a range at a time, then the refunds, then the intents, each
// chunk its own transaction. Where the full pass stands is stored with the policy it judges by, so it resumes after a
// restart, and between two chunks anything else on the command queue — a person's action, a sync cycle — runs
// (`onFullPassPending` is told when a chunk is owed). A change of the refund tolerance is not a full pass: only the
// returns whose money differs by more than the smaller of the two tolerances can be judged differently, and only those
// are judged again.

export interface PassReport {
  /** A full pass ran (at least one chunk of it) in this call. */
  full: boolean;
  /** A full pass is still under way: more chunks are owed. */
  pending: boolean;
  /** Subjects in the incremental part's scope. */
  returns: number;
  refunds: number;
  intents: number;
  /** Returns judged again because the refund tolerance changed. */
  rejudged: number;
  raised: number;
  resolved: number;
  reopened: number;
  ms: number;
  /** Chunks of the full pass run, and the longest one (how long the queue waited at most). */
  chunks: number;
  maxChunkMs: number;
  /** Milliseconds per step (matcher, each detector, raising), for the benchmark. */
  steps: Record<string, number>;
}

export interface RunOptions {
  /** Judge everything again, now: a new full pass, every chunk of it run before returning. */
  full?: boolean;
  /**
   * What to do about a full pass under way: run one chunk (the default), every chunk left (a report needs the whole
   * picture), or none (a person is waiting for this pass).
   */
  fullPass?: 'chunk' | 'finish' | 'none';
}

export interface ReconcilerOptions {
  /** Returns (or refunds) judged per chunk of a full pass. */
  chunkSize?: number;
  /** More changed subjects than this at once are judged by a full pass, in chunks, rather than in one transaction. */
  changedLimit?: number;
  /** Told whenever a pass leaves chunks of a full pass owed (the domain queues the next chunk). */
  onFullPassPending?: () => void;
}

/** Where a full pass stands: the next chunk starts after key `after` of `scope`'s subjects. */
interface Position {
  scope: Scope;
  after: string;
}

/** What the derived tables were judged with, and the full pass under way. Stored in sync_cursors. */
interface Basis {
  tolerance: number;
  sla: unknown;
  full: Position | null;
}

export const defaultChunkSize = 10_000;

export function createReconciler(db: Database, clock: Clock, options: ReconcilerOptions = {}) {
  const chunkSize = options.chunkSize ?? defaultChunkSize;
  const changedLimit = options.changedLimit ?? 2 * chunkSize;
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS scope_return (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS scope_refund (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS scope_intent (id INTEGER PRIMARY KEY);
  `);
  const findings = createFindingsLedger(db);
  const matcher = createMatcher(db);
  const clearScope = ['scope_return', 'scope_refund', 'scope_intent'].map((t) => db.prepare(`DELETE FROM temp.${t}`));
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
  // Only returns whose money differs by more than a tolerance can be judged differently under another one.
  const fillTolerance = db.prepare(`INSERT OR IGNORE INTO temp.scope_return SELECT return_id FROM recon_verdicts WHERE gap_minor > @below`);
  const clearDirty = db.prepare('DELETE FROM recon_dirty');
  const tooManyChanged = db.prepare(`SELECT count(*) FROM (SELECT 1 FROM recon_dirty LIMIT @limit)`).pluck();
  const counts = db.prepare(`SELECT (SELECT count(*) FROM temp.scope_return) AS returns, (SELECT count(*) FROM temp.scope_refund) AS refunds,
    (SELECT count(*) FROM temp.scope_intent) AS intents`);
  const readBasis = db.prepare(`SELECT value FROM sync_cursors WHERE feed = 'reconcile.basis'`).pluck();
  const writeBasis = db.prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES ('reconcile.basis', @value, @now)
    ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  // The next chunk of a scope: up to `size` keys after `after`, and the last of them.
  const nextKeys: Record<Exclude<Scope, 'intent'>, Statement> = {
    return: db.prepare(`SELECT count(*) AS n, max(id) AS hi FROM (SELECT id FROM mirakl_returns WHERE id > @after ORDER BY id LIMIT @size)`),
    refund: db.prepare(`SELECT count(*) AS n, max(id) AS hi FROM (SELECT id FROM mirakl_refunds WHERE id > @after ORDER BY id LIMIT @size)`),
  };

  const detectorStatements = new Map<string, Statement>();
  const find = (d: Detector, policy: Policy, within: Within, params: Params) => {
    const sql = `INSERT OR IGNORE INTO temp.recon_found SELECT '${d.type}', * FROM (${d.sql(policy, within.from, within.has)})`;
    let statement = detectorStatements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      detectorStatements.set(sql, statement);
    }
    statement.run(params);
  };

  let basis: Basis | null | undefined;
  let markDirty: Statement | undefined;
  let isNotifyScheduled = false;

  /** The matcher, the detectors of `kinds`, then the findings ledger, over the subjects `within` (bounded by `params`). */
  function judge(kinds: readonly Scope[], within: Within, params: Params, policy: Policy, now: string, steps: Record<string, number>) {
    const step = <T>(name: string, run: () => T): T => {
      const t = performance.now();
      const result = run();
      steps[name] = (steps[name] ?? 0) + performance.now() - t;
      return result;
    };
    const bound = { ...params, tolerance: policy.refunds.toleranceMinor };
    if (kinds.includes('refund')) step('matcher.refunds', () => matcher.suggestRefunds(within, bound));
    if (kinds.includes('return')) {
      step('matcher.items', () => matcher.suggestItems(within, bound));
      step('matcher.verdicts', () => matcher.judgeReturns(within, bound));
    }
    findings.clearFound();
    for (const d of detectors) if (kinds.includes(d.scope)) step(d.type, () => find(d, policy, within, bound));
    const resolved = step('settle', () => findings.settle(now, kinds, within, bound));
    const raised = step('raise', () => findings.raiseDue(now));
    return { resolved, raised };
  }

  /** One chunk of the full pass at `position`, in its own transaction; returns where the next one starts (null: done). */
  function runChunk(position: Position, policy: Policy, steps: Record<string, number>) {
    const now = new Date(clock.now()).toISOString();
    let at: Position | null = position;
    let raised = 0;
    let resolved = 0;
    db.transaction(() => {
      let budget = chunkSize;
      while (at && budget > 0) {
        if (at.scope === 'intent') {
          // Every intent at once: its one detector reads the few uncertain ones from a partial index.
          const r = judge(['intent'], inRange, {}, policy, now, steps);
          raised += r.raised;
          resolved += r.resolved;
          budget -= 1;
          at = null;
          break;
        }
        const size = budget;
        const { n, hi } = nextKeys[at.scope].get({ after: at.after, size }) as { n: number; hi: string | null };
        if (n > 0 && hi !== null) {
          const r = judge([at.scope], inRange, { lo: at.after, hi }, policy, now, steps);
          raised += r.raised;
          resolved += r.resolved;
          budget -= n;
        }
        // A full range may have more keys after it; a short one was the last of its scope.
        at = n === size && hi !== null ? { scope: at.scope, after: hi } : { scope: at.scope === 'return' ? 'refund' : 'intent', after: '' };
      }
      write({ tolerance: policy.refunds.toleranceMinor, sla: policy.sla, full: at }, now);
    })();
    basis = { tolerance: policy.refunds.toleranceMinor, sla: policy.sla, full: at };
    return { next: at, raised, resolved };
  }

  /** Stores the basis inside a pass's transaction (the caller remembers it once the transaction has committed). */
  function write(next: Basis, now: string): void {
    if (basis && JSON.stringify(basis) === JSON.stringify(next)) return;
    writeBasis.run({ value: JSON.stringify(next), now });
  }

  function stored(): Basis | null {
    if (basis === undefined) basis = parseBasis((readBasis.get() as string | undefined) ?? null);
    return basis;
  }

  return {
    /** People's decisions on the matcher's suggestions. */
    matches: createMatchDecisions(db, clock),

    /** The next pass judges this subject again, whatever the triggers saw (after a person acted on it). */
    rejudge(scope: 'return' | 'refund', id: string): void {
      (markDirty ??= db.prepare('INSERT INTO recon_dirty (scope, id) VALUES (?, ?) ON CONFLICT DO NOTHING')).run(scope, id);
    },

    /** A full pass is under way (chunks are owed). */
    isFullPassPending(): boolean {
      return stored()?.full != null;
    },

    /**
     * Reconciles what changed since the last pass, what a changed tolerance may judge differently, and — with SLAs
     * changed — what is watched; then, if a full pass is under way, as `options.fullPass` says. Starts a full pass on
     * a database never judged, when more changed than a pass should take at once, or with `full`.
     */
    run(policy: Policy, runOptions: RunOptions = {}): PassReport {
      const started = performance.now();
      const now = new Date(clock.now()).toISOString();
      const tolerance = policy.refunds.toleranceMinor;
      const previous = stored();
      const isTooMuch = !runOptions.full && previous !== null && (tooManyChanged.get({ limit: changedLimit + 1 }) as number) > changedLimit;
      const restart = runOptions.full === true || previous === null || isTooMuch;
      let position: Position | null = restart ? { scope: 'return', after: '' } : (previous?.full ?? null);
      const toleranceBefore = !restart && previous && previous.tolerance !== tolerance ? previous.tolerance : null;
      const slaChanged = !restart && JSON.stringify(previous?.sla) !== JSON.stringify(policy.sla);
      const steps: Record<string, number> = {};
      let scope = { returns: 0, refunds: 0, intents: 0 };
      let rejudged = 0;
      let raised = 0;
      let resolved = 0;
      let reopened = 0;

      const txStarted = performance.now();
      const commitStarted = { at: 0 };
      db.transaction(() => {
        steps.begin = performance.now() - txStarted;
        const t = performance.now();
        for (const s of clearScope) s.run();
        // A full pass judges everything that changed: the dirty set is only emptied.
        if (!restart) for (const s of fillDirty) s.run();
        if (toleranceBefore !== null) {
          const before = (counts.get() as typeof scope).returns;
          fillTolerance.run({ below: Math.min(toleranceBefore, tolerance) });
          rejudged = (counts.get() as typeof scope).returns - before;
        }
        if (slaChanged) for (const s of fillWatched) s.run();
        steps.scope = performance.now() - t;
        scope = counts.get() as typeof scope;
        reopened = findings.wakeSnoozed(now);
        const r = judge(scopes, changed, {}, policy, now, steps);
        raised += r.raised;
        resolved += r.resolved;
        clearDirty.run();
        write({ tolerance, sla: policy.sla, full: position }, now);
        commitStarted.at = performance.now();
      })();
      steps.commit = performance.now() - commitStarted.at;
      basis = { tolerance, sla: policy.sla, full: position };

      const mode = runOptions.full ? 'finish' : (runOptions.fullPass ?? 'chunk');
      let chunks = 0;
      let maxChunkMs = 0;
      while (position && mode !== 'none' && (mode === 'finish' || chunks === 0)) {
        const t = performance.now();
        const chunk = runChunk(position, policy, steps);
        position = chunk.next;
        raised += chunk.raised;
        resolved += chunk.resolved;
        chunks++;
        maxChunkMs = Math.max(maxChunkMs, performance.now() - t);
      }
      if (position && options.onFullPassPending && !isNotifyScheduled) {
        // Told once the caller has the report: the next chunk is queued behind what is waiting now.
        isNotifyScheduled = true;
        queueMicrotask(() => {
          isNotifyScheduled = false;
          options.onFullPassPending?.();
        });
      }
      return {
        full: restart || chunks > 0,
        pending: position !== null,
        ...scope,
        rejudged,
        raised,
        resolved,
        reopened,
        ms: performance.now() - started,
        chunks,
        maxChunkMs,
        steps,
      };
    },
  };
}

function parseBasis(value: string | null): Basis | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as Partial<Basis> | null;
    if (!parsed || typeof parsed.tolerance !== 'number' || !('sla' in parsed)) return null;
    const full = parsed.full && (['return', 'refund', 'intent'] as unknown[]).includes(parsed.full.scope) && typeof parsed.full.after === 'string' ? parsed.full : null;
    return { tolerance: parsed.tolerance, sla: parsed.sla, full };
  } catch {
    return null;
  }
}

export type Reconciler = ReturnType<typeof createReconciler>;
