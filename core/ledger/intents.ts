import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';
import type { Lease } from './lease';

// Every side effect on Mirakl or ReBound is an intent first: written (with a unique key naming the real-world
// effect) before the call, and its outcome recorded after it. A key can be planned only once, so a crash, a retry
// or a second cycle can never plan the same refund or stock change twice. An intent found `sending` after a
// restart may have reached the server: it becomes `uncertain` and is probed before anything else happens to it.

export type IntentState = 'planned' | 'sending' | 'confirmed' | 'failed' | 'uncertain';

export interface Intent<P = unknown> {
  id: number;
  kind: string;
  key: string;
  subject: string;
  payload: P;
  state: IntentState;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  outcome: unknown;
  mappingVersion: string | null;
  createdAt: string;
  updatedAt: string;
}

interface IntentRow {
  id: number;
  kind: string;
  key: string;
  subject: string;
  payload: string;
  state: IntentState;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  outcome: string | null;
  mapping_version: string | null;
  created_at: string;
  updated_at: string;
}

const toIntent = <P>(r: IntentRow): Intent<P> => ({
  id: r.id,
  kind: r.kind,
  key: r.key,
  subject: r.subject,
  payload: JSON.parse(r.payload) as P,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  outcome: r.outcome === null ? null : (JSON.parse(r.outcome) as unknown),
  mappingVersion: r.mapping_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** `lease` fences claims: an engine another one has superseded on this database marks nothing sending (lease.ts). */
export function createIntents(db: Database, clock: Clock, lease?: Pick<Lease, 'assertHeld' | 'countClaim' | 'published'>) {
  const iso = () => new Date(clock.now()).toISOString();
  const insert = db.prepare(`INSERT INTO intents (kind, key, subject, payload, state, mapping_version, created_at, updated_at)
    VALUES (@kind, @key, @subject, @payload, 'planned', @mappingVersion, @now, @now) ON CONFLICT (key) DO NOTHING`);
  const byKey = db.prepare('SELECT * FROM intents WHERE key = ?');
  const byId = db.prepare('SELECT * FROM intents WHERE id = ?');
  // Two index lookups rather than one OR, which SQLite would answer by scanning every intent of the kind.
  const due = db.prepare(`SELECT * FROM (
      SELECT * FROM intents WHERE kind = @kind AND state = 'planned'
      UNION ALL
      SELECT * FROM intents WHERE kind = @kind AND state = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= @now
    ) ORDER BY id LIMIT @limit`);
  const firstPlanned = db.prepare(`SELECT created_at FROM intents WHERE kind = ? AND state = 'planned' ORDER BY id LIMIT 1`);
  const firstRetry = db.prepare(`SELECT min(next_attempt_at) AS at FROM intents WHERE kind = ? AND state = 'failed' AND next_attempt_at IS NOT NULL`);
  const confirmedSince = db.prepare(`SELECT count(*) AS n FROM intents WHERE kind = ? AND state = 'confirmed' AND updated_at >= ?`);
  const bySubject = db.prepare('SELECT * FROM intents WHERE subject = ? ORDER BY id');
  const bySubjectOfKind = db.prepare('SELECT * FROM intents WHERE subject = ? AND kind = ? ORDER BY id');
  const inState = db.prepare('SELECT * FROM intents WHERE kind = @kind AND state = @state ORDER BY id LIMIT @limit');
  const setState = db.prepare(`UPDATE intents SET state = @state, next_attempt_at = @nextAttemptAt, last_error = @lastError,
    outcome = COALESCE(@outcome, outcome), updated_at = @now WHERE id = @id AND state = @from`);
  const startSending = db.prepare(`UPDATE intents SET state = 'sending', attempts = attempts + 1, updated_at = @now
    WHERE id = @id AND (state = 'planned' OR state = 'failed')`);
  const observed = db.prepare(`UPDATE intents SET state = 'confirmed', outcome = @outcome, next_attempt_at = NULL, updated_at = @now
    WHERE id = @id AND state IN ('planned', 'failed', 'uncertain')`);
  const retry = db.prepare(`UPDATE intents SET next_attempt_at = @now, updated_at = @now WHERE id = @id AND state = 'failed'`);
  const updateOutcome = db.prepare('UPDATE intents SET outcome = @outcome, updated_at = @now WHERE id = @id');
  const replacePayload = db.prepare(`UPDATE intents SET payload = @payload, updated_at = @now WHERE id = @id AND state = 'planned'`);
  const replanFailed = db.prepare(`UPDATE intents SET payload = @payload, mapping_version = @mappingVersion, updated_at = @now WHERE id = @id AND state = 'failed'`);
  const orphanedUnsafe = db.prepare(`UPDATE intents SET state = 'uncertain', last_error = 'the app stopped while this call was in flight',
    updated_at = @now WHERE state = 'sending' AND updated_at <= @before AND kind IN (SELECT value FROM json_each(@kinds))`);
  const orphanedSafe = db.prepare(`UPDATE intents SET state = 'failed', next_attempt_at = @now,
    last_error = 'the app stopped while this call was in flight; safe to repeat', updated_at = @now WHERE state = 'sending' AND updated_at <= @before`);
  const unrecordedUnsafe = db.prepare(`UPDATE intents SET state = 'uncertain',
    last_error = 'the call was answered but its outcome could not be saved', updated_at = @now
    WHERE state = 'sending' AND id IN (SELECT value FROM json_each(@ids)) AND kind IN (SELECT value FROM json_each(@kinds))`);
  const unrecordedSafe = db.prepare(`UPDATE intents SET state = 'failed', next_attempt_at = @now,
    last_error = 'the call was answered but its outcome could not be saved; safe to repeat', updated_at = @now
    WHERE state = 'sending' AND id IN (SELECT value FROM json_each(@ids))`);

  function transition(id: number, from: IntentState, to: IntentState, fields: { nextAttemptAt?: string | null; lastError?: string | null; outcome?: unknown } = {}) {
    const changed = setState.run({
      id,
      from,
      state: to,
      nextAttemptAt: fields.nextAttemptAt ?? null,
      lastError: fields.lastError ?? null,
      outcome: fields.outcome === undefined ? null : JSON.stringify(fields.outcome),
      now: iso(),
    }).changes;
    if (changed !== 1) throw new Error(`intent ${id} is not ${from}; refusing to mark it ${to}`);
  }

  return {
    /** Plans an effect once. Returns the intent for that key, new or existing. */
    plan<P>(input: { kind: string; key: string; subject: string; payload: P; mappingVersion?: string | null }): Intent<P> {
      insert.run({ ...input, payload: JSON.stringify(input.payload), mappingVersion: input.mappingVersion ?? null, now: iso() });
      return toIntent<P>(byKey.get(input.key) as IntentRow);
    },
    get: <P>(id: number): Intent<P> | undefined => {
      const row = byId.get(id) as IntentRow | undefined;
      return row ? toIntent<P>(row) : undefined;
    },
    findByKey: <P>(key: string): Intent<P> | undefined => {
      const row = byKey.get(key) as IntentRow | undefined;
      return row ? toIntent<P>(row) : undefined;
    },
    due: <P>(kind: string, limit = 100): Intent<P>[] => (due.all({ kind, now: iso(), limit }) as IntentRow[]).map((r) => toIntent<P>(r)),
    /** When the first intent of a kind waiting to be sent became (or becomes) due; null when none waits. */
    nextDue(kind: string): number | null {
      const planned = firstPlanned.get(kind) as { created_at: string } | undefined;
      const retry = (firstRetry.get(kind) as { at: string | null }).at;
      const times = [planned ? Date.parse(planned.created_at) : null, retry ? Date.parse(retry) : null].filter((t): t is number => t !== null);
      return times.length ? Math.min(...times) : null;
    },
    /** Intents of a kind confirmed since `since`: a stage's recent flow. */
    confirmedSince: (kind: string, since: number): number => (confirmedSince.get(kind, new Date(since).toISOString()) as { n: number }).n,
    /** A subject's intents, oldest first: all of them, or of one kind (the others' rows are then not read in). */
    bySubject: <P>(subject: string, kind?: string): Intent<P>[] =>
      ((kind === undefined ? bySubject.all(subject) : bySubjectOfKind.all(subject, kind)) as IntentRow[]).map((r) => toIntent<P>(r)),
    inState: <P>(kind: string, state: IntentState, limit = 100): Intent<P>[] =>
      (inState.all({ kind, state, limit }) as IntentRow[]).map((r) => toIntent<P>(r)),
    /**
     * Marks intents as being sent. Must commit before the call goes out. Refused, changing nothing, when another engine
     * has started on this database since this one did (LeaseLostError).
     */
    markSending(ids: number[]): void {
      const now = iso();
      db.transaction(() => {
        lease?.assertHeld();
        lease?.countClaim();
        for (const id of ids) {
          if (startSending.run({ id, now }).changes !== 1) throw new Error(`intent ${id} cannot be sent from its current state`);
        }
      })();
      // Committed: the folder's marker now counts this claim, so a backup taken before it reads as older (lease.ts).
      lease?.published();
    },
    confirm: (id: number, outcome: unknown) => transition(id, 'sending', 'confirmed', { outcome }),
    confirmUncertain: (id: number, outcome: unknown) => transition(id, 'uncertain', 'confirmed', { outcome }),
    /** A failure: retried at `retryAt`, or never (null) when a person must act. */
    fail: (id: number, error: string, retryAt: number | null, from: IntentState = 'sending') =>
      transition(id, from, 'failed', { lastError: error, nextAttemptAt: retryAt === null ? null : new Date(retryAt).toISOString() }),
    markUncertain: (id: number, error: string) => transition(id, 'sending', 'uncertain', { lastError: error }),
    /**
     * A stock import Mirakl confirmed taking and no longer knows (its status now 404): unknown again, to be read back.
     * Never a refund: Mirakl's ledger of refunds settles those.
     */
    reopenAsUncertain(id: number, reason: string, outcome: unknown): void {
      const row = byId.get(id) as IntentRow | undefined;
      if (row?.kind !== 'stock.import') throw new Error(`intent ${id} is not a stock import; refusing to make it uncertain again`);
      // One seen run or settled keeps its outcome: its units are already applied or rejected.
      const status = (JSON.parse(row.outcome ?? '{}') as { status?: string }).status;
      if (status === 'COMPLETE' || status === 'FAILED' || status === 'SETTLED') throw new Error(`intent ${id} already ${status}; refusing to make it uncertain again`);
      transition(id, 'confirmed', 'uncertain', { lastError: reason, outcome });
    },
    /** What a planned call will send, settled before it is sent (never once it may have been): e.g. the units claimed. */
    setPayload(id: number, payload: unknown): void {
      if (replacePayload.run({ id, payload: JSON.stringify(payload), now: iso() }).changes !== 1) throw new Error(`intent ${id} is no longer planned; its payload cannot change`);
    },
    /**
     * Plans a failed call again from what is in force now (e.g. the mappings), before a person retries it. Only from
     * failed: such a call is not in flight and its last answer said it was not applied. One whose outcome is unknown
     * (`uncertain`) is never re-planned — it may have gone through, and is probed instead.
     */
    replan(id: number, payload: unknown, mappingVersion: string | null): void {
      if (replanFailed.run({ id, payload: JSON.stringify(payload), mappingVersion, now: iso() }).changes !== 1) {
        throw new Error(`intent ${id} is not failed; refusing to plan it again`);
      }
    },
    /** Records progress after confirmation (e.g. a stock import's status) without changing the state. */
    updateOutcome: (id: number, outcome: unknown) => void updateOutcome.run({ id, outcome: JSON.stringify(outcome), now: iso() }),
    /** The effect is already visible at the source of truth (e.g. Mirakl shows the return RECEIVED): done. */
    confirmObserved: (id: number, outcome: unknown): boolean =>
      observed.run({ id, outcome: JSON.stringify(outcome), now: iso() }).changes === 1,
    /** A person asks for a failed call to be tried again at the next cycle (only ever from failed: never a blind resend). */
    retryNow: (id: number): boolean =>
      retry.run({ id, now: iso() }).changes === 1,
    /**
     * A failed call a person wants tried again goes back to being checked first: failed → uncertain, so the source of
     * truth is read before anything is sent (a refund that went through after all is then recorded, not repeated).
     */
    recheck: (id: number, reason: string) => transition(id, 'failed', 'uncertain', { lastError: reason }),
    /** Back to planned after a probe proved the call was not applied: sending again is safe. */
    retryAfterProbe: (id: number, reason: string) => transition(id, 'uncertain', 'failed', { lastError: reason, nextAttemptAt: iso() }),
    /**
     * After a crash, anything left `sending` may have reached the server: unsafe writes become `uncertain` (to be
     * probed), calls that are safe to repeat are rescheduled now.
     */
    /**
     * Intents this process sent whose answer came back but could not be written (disk full, I/O error): unsafe
     * writes become `uncertain` (probed before anything is sent again), the others are rescheduled. Only these ids:
     * another process's calls in flight on the same database are left alone.
     */
    recoverUnrecorded(ids: readonly number[], unsafeKinds: readonly string[]): number {
      if (ids.length === 0) return 0;
      const now = iso();
      const params = { now, ids: JSON.stringify(ids), kinds: JSON.stringify(unsafeKinds) };
      return db.transaction(() => unrecordedUnsafe.run(params).changes + unrecordedSafe.run({ now, ids: params.ids }).changes)();
    },
    recoverOrphans(unsafeKinds: readonly string[], options: { sentBefore?: number } = {}): number {
      const now = iso();
      // At a start every `sending` intent is an orphan; while running, only those marked long before (a call is
      // out for at most its timeout), so another live process's call in flight is never taken for one.
      const before = options.sentBefore === undefined ? now : new Date(options.sentBefore).toISOString();
      return db.transaction(
        () => orphanedUnsafe.run({ now, before, kinds: JSON.stringify(unsafeKinds) }).changes + orphanedSafe.run({ now, before }).changes,
      )();
    },
  };
}

export type Intents = ReturnType<typeof createIntents>;
