import { ApiError } from '../net/api-error';
import { backoffDelay, defaultBackoff } from './backoff';
import type { EngineContext } from './context';
import type { Intent } from '../ledger/intents';
import { flowLookbackMs, releaseBatches } from './pacing';

// Sending intents: mark them `sending` (committed) before the call, then record what the call proved. Transient
// failures are rescheduled with backoff; a write that may have been applied becomes `uncertain` and is left to
// its probe; a rejection is final and handed to the caller to raise the right exception.
// Every call that changes Mirakl or ReBound goes out here, people's actions included (they plan intents the engine
// sends), so the write freeze (DESIGN row 27) is kept here: while it holds, nothing is marked sent and no call is made;
// the intents stay as they are (planned, or failed and due) and go out at the first cycle after it is lifted.

export type Verdict = { kind: 'rejected' | 'auth'; message: string } | null;

/** The crash hook the chaos and crash tests instrument; a no-op in the app. */
export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

/** Per engine: intents sent by this process whose outcome could not be written after the call (see recoverUnrecorded). */
const unrecorded = new WeakMap<EngineContext, Set<number>>();

function rememberUnrecorded(ctx: EngineContext, intents: Intent[]): void {
  const ids = unrecorded.get(ctx) ?? new Set<number>();
  for (const i of intents) ids.add(i.id);
  unrecorded.set(ctx, ids);
}

/**
 * Settles the intents whose outcome a failed write lost, once the database takes writes again; those it cannot
 * settle yet are kept for the next try. Called at the start of each cycle, when none of this process's calls is out.
 */
export function recoverUnrecorded(ctx: EngineContext, unsafeKinds: readonly string[]): number {
  const ids = unrecorded.get(ctx);
  if (!ids || ids.size === 0) return 0;
  const recovered = ctx.intents.recoverUnrecorded([...ids], unsafeKinds);
  ids.clear();
  return recovered;
}

/**
 * The storage failing under a write of ours (a full disk, an I/O error, a lock held too long): this database's, never
 * the server's, and gone once the disk is. Not SQLite's other errors (a constraint, a misused statement): those are
 * bugs that would fail the same way at every try.
 */
const storageErrorCodes = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CORRUPT|CANTOPEN|NOMEM|PROTOCOL)(_|$)/;
function isStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && storageErrorCodes.test(code);
}

/** Whether calls that change Mirakl or ReBound are held back now (the write freeze). Stages skip their sends while so. */
export function areWritesFrozen(ctx: EngineContext): boolean {
  return ctx.writes.current() !== null;
}

export async function sendIntents<R>(
  ctx: EngineContext,
  intents: Intent[],
  options: { isUnsafeWrite: boolean; call: () => Promise<R>; onResult: (result: R) => void; point: string },
): Promise<Verdict> {
  if (intents.length === 0) return null;
  if (areWritesFrozen(ctx)) return null;
  ctx.intents.markSending(intents.map((i) => i.id));
  ctx.crash?.(`${options.point}:before-call`);
  let result: R;
  try {
    result = await options.call();
  } catch (error) {
    if (error instanceof SimulatedCrash) throw error;
    // A write of ours that failed while the call was out (its request journal row, on a full disk) is no answer from
    // the server, and no refusal: the call may have been applied, and is settled next cycle like an answer not saved.
    if (isStorageError(error)) {
      rememberUnrecorded(ctx, intents);
      throw error;
    }
    try {
      return recordFailure(ctx, intents, error, options.isUnsafeWrite);
    } catch (writeError) {
      rememberUnrecorded(ctx, intents);
      throw writeError;
    }
  }
  ctx.crash?.(`${options.point}:after-call`);
  try {
    options.onResult(result);
  } catch (writeError) {
    // The call was answered (and may have changed something) but what it proved is not saved: settle it next cycle.
    if (!(writeError instanceof SimulatedCrash)) rememberUnrecorded(ctx, intents);
    throw writeError;
  }
  return null;
}

export function recordFailure(ctx: EngineContext, intents: Intent[], error: unknown, isUnsafeWrite: boolean): Verdict {
  const now = ctx.clock.now();
  const message = (error as Error).message ?? String(error);
  const api = error instanceof ApiError ? error : null;
  const maybeApplied = isUnsafeWrite && (!api || api.kind === 'uncertain' || api.kind === 'invalid_response');
  for (const intent of intents) {
    if (maybeApplied) {
      ctx.intents.markUncertain(intent.id, message);
    } else if (api && (api.isTransient || api.kind === 'invalid_response')) {
      ctx.intents.fail(intent.id, message, now + backoffDelay(intent.attempts + 1, defaultBackoff, () => ctx.random.next(), api.retryAfterMs));
    } else if (api?.kind === 'auth') {
      ctx.intents.fail(intent.id, message, now + defaultBackoff.capMs);
    } else {
      ctx.intents.fail(intent.id, message, null);
    }
  }
  if (api?.kind === 'auth') {
    ctx.exceptions.raise({ type: 'CREDENTIALS_INVALID', subjectKey: api.system, cause: `${api.system} refused our credentials: ${message}` });
    return { kind: 'auth', message };
  }
  if (!maybeApplied && (!api || api.kind === 'rejected' || api.kind === 'not_found')) return { kind: 'rejected', message };
  if (!maybeApplied && !api) ctx.log.error('intent call failed unexpectedly', { error: message });
  return null;
}

/**
 * The due intents of a batched stage that go now (see pacing.ts): every full call, and an unfull one unless more writes
 * are coming within the policy's batching window. A stage that holds some says until when, for nextDueAt.
 */
export function releaseDue<T>(ctx: EngineContext, kind: string, due: Intent<T>[], max = 100): Intent<T>[] {
  const now = ctx.clock.now();
  const { windowSeconds, fillSeconds } = ctx.mappings().policy.batching;
  const { send, heldUntil } =
    due.length === 0
      ? { send: due, heldUntil: null }
      : releaseBatches(due, { max, now, windowMs: windowSeconds * 1000, fillWindowMs: fillSeconds * 1000, recentlySent: ctx.intents.confirmedSince(kind, now - flowLookbackMs) });
  if (heldUntil === null) ctx.holds.delete(kind);
  else ctx.holds.set(kind, heldUntil);
  return send;
}
