import { ApiError } from '../net/api-error';
import type { Clock } from '../ports';
import type { Intent } from '../ledger/intents';

// Pacing: how the engine spends the call budgets it shares, as plain functions of counts and the injected clock (no
// timers), so a test can drive them call by call.
//
// - Write batching. Mirakl's batch writes (RT04, RT21, RT25, RT26, RT27, OR28) carry up to 100 items a call. Items
//   trickle through a stage, so a stage's writes may wait for more to join their call — but only while more are
//   coming: a short window while at least one more write is expected in it, a longer one while the call is expected to
//   fill. A write with nothing behind it goes at once, so a lone receipt is never held for a call that would not fill.
// - ReBound's rate limit is one window per client (300 calls a minute by default) that every stage shares: each stage
//   asks how many calls are left before it spends them, so the stages that unblock others can go first.

/** How far back the recent flow of a stage is counted, to tell whether more writes are coming. */
export const flowLookbackMs = 5 * 60_000;

export interface BatchFacts {
  /** Writes waiting to go. */
  size: number;
  /** Most a call carries. */
  max: number;
  /** When the oldest waiting write became due. */
  oldestAt: number;
  now: number;
  /** How long a write may wait while at least one more is expected to join it. */
  windowMs: number;
  /** How long a write may wait while its call is expected to fill (a busy stage: a backlog). */
  fillWindowMs?: number;
  /** Writes of the same stage sent within the last `lookbackMs`: the flow that fills a batch. */
  recentlySent: number;
  lookbackMs: number;
}

/**
 * Send now, or wait (until when) for a fuller call. A full call goes at once. An unfull one waits, from its oldest
 * write, up to the fill window while the stage's recent flow says the call will fill before it closes, and up to the
 * (shorter) window while at least one more write will join it before that closes.
 */
export function batchRelease(b: BatchFacts): { send: true } | { send: false; until: number } {
  if (b.size <= 0 || b.size >= b.max) return { send: true };
  const perMs = (b.recentlySent + b.size) / b.lookbackMs;
  const fillUntil = b.oldestAt + (b.fillWindowMs ?? 0);
  if (b.now < fillUntil && b.size + perMs * (fillUntil - b.now) >= b.max) return { send: false, until: fillUntil };
  const until = b.oldestAt + b.windowMs;
  if (b.windowMs > 0 && b.now < until && perMs * (until - b.now) >= 1) return { send: false, until };
  return { send: true };
}

/** When a due intent became due: planned at its creation, or due again at its retry time. */
export const dueSince = (intent: Pick<Intent, 'createdAt' | 'nextAttemptAt'>): number =>
  Math.max(Date.parse(intent.createdAt), intent.nextAttemptAt ? Date.parse(intent.nextAttemptAt) : 0);

/**
 * Which of a stage's due intents (oldest first) go now: every full call, and the rest unless batchRelease says wait.
 * Returns them and, when some wait, until when.
 */
export function releaseBatches<T extends Pick<Intent, 'createdAt' | 'nextAttemptAt'>>(
  due: T[],
  facts: { max: number; now: number; windowMs: number; fillWindowMs?: number; recentlySent: number; lookbackMs?: number },
): { send: T[]; heldUntil: number | null } {
  const full = Math.floor(due.length / facts.max) * facts.max;
  const rest = due.slice(full);
  if (rest.length === 0) return { send: due, heldUntil: null };
  const decision = batchRelease({
    size: rest.length,
    max: facts.max,
    oldestAt: Math.min(...rest.map(dueSince)),
    now: facts.now,
    windowMs: facts.windowMs,
    ...(facts.fillWindowMs !== undefined ? { fillWindowMs: facts.fillWindowMs } : {}),
    recentlySent: facts.recentlySent,
    lookbackMs: facts.lookbackMs ?? flowLookbackMs,
  });
  return decision.send ? { send: due, heldUntil: null } : { send: due.slice(0, full), heldUntil: decision.until };
}

/**
 * A rate limit of `max()` calls per sliding window, counted on the injected clock. A clock that moved back forgets the
 * calls it now places in the future (the server's own 429 remains the backstop).
 */
export function createCallWindow(max: () => number, windowMs: number) {
  const calls: number[] = [];
  const prune = (now: number) => {
    while (calls.length > 0 && (calls[0] as number) <= now - windowMs) calls.shift();
    while (calls.length > 0 && (calls[calls.length - 1] as number) > now) calls.pop();
  };
  return {
    /** Calls that may still be made now. */
    left(now: number): number {
      prune(now);
      return Math.max(0, max() - calls.length);
    },
    spend(now: number): void {
      prune(now);
      calls.push(now);
    },
    /** When the next call may be made (now, if one is left). */
    freeAt(now: number): number {
      prune(now);
      const over = calls.length - max();
      return over < 0 ? now : (calls[over] as number) + windowMs;
    },
  };
}

export type CallWindow = ReturnType<typeof createCallWindow>;

/**
 * Wraps an API so every call is counted in `window` and refused (rate_limited, nothing sent) when none is left: the
 * stages check `left()` before they spend, this is the backstop.
 */
export function paced<A extends object>(api: A, system: 'mirakl' | 'rebound', window: CallWindow, clock: Clock): A {
  return new Proxy(api, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const now = clock.now();
        if (window.left(now) <= 0) {
          const wait = window.freeAt(now) - now;
          return Promise.reject(new ApiError(system, String(key), 'rate_limited', `call budget: wait ${Math.ceil(wait / 1000)} s`, undefined, wait));
        }
        window.spend(now);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
