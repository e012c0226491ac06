// Retries are rows rescheduled on the injected clock (next_attempt_at), not sleeps: they survive a restart, never
// block the items behind them, and run a month of simulated time in a test. That is why this is a formula and
// not a retry library (those sleep on real timers inside the call).

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 30_000, capMs: 60 * 60_000 };

/** Capped exponential backoff with full jitter; `retryAfterMs` from a 429 is a floor. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
