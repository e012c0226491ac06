// Call budgets per operation. Mirakl publishes a maximum frequency per operation (specs NOTES §3): a call sooner
// than that gets 429 with Retry-After. ReBound's modelled limit is a count per window (NOTES §6.6).
export type Budget = { kind: 'interval'; minIntervalMs: number } | { kind: 'window'; max: number; windowMs: number };
export type Budgets = Record<string, Budget>;

export interface BudgetState {
  /** Seconds to wait, or 0 when the call may go ahead (and is then charged). */
  charge(key: string, budget: Budget | undefined, now: number): number;
}

export function createBudgetState(): BudgetState {
  const lastCall = new Map<string, number>();
  const windows = new Map<string, number[]>();
  return {
    charge(key, budget, now) {
      if (!budget) return 0;
      if (budget.kind === 'interval') {
        const last = lastCall.get(key);
        if (last !== undefined && now - last < budget.minIntervalMs) return Math.max(1, Math.ceil((budget.minIntervalMs - (now - last)) / 1000));
        lastCall.set(key, now);
        return 0;
      }
      const recent = (windows.get(key) ?? []).filter((t) => now - t < budget.windowMs);
      if (recent.length >= budget.max) {
        windows.set(key, recent);
        const oldest = recent[0] ?? now;
        return Math.max(1, Math.ceil((budget.windowMs - (now - oldest)) / 1000));
      }
      recent.push(now);
      windows.set(key, recent);
      return 0;
    },
  };
}
