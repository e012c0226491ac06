import type { Budget, Budgets } from '../http/budgets';
import { createBudgetState } from '../http/budgets';
import type { FaultProfile, FaultProfiles } from '../http/faults';
import { startSimServer, type SimServer } from '../http/sim-server';
import { codeForStatus, reboundErrorBody, simOnlyOperations, toResponse } from './routes';
import type { ReboundSim } from './sim';

// ReBound on loopback. Its modelled limit is per client across every operation (§6.6: 300 requests a minute), so it
// is charged here after the token names the client; per-operation budgets from the caller apply on top.

/** Key in `budgets` for the per-client window. */
export const REBOUND_CLIENT_BUDGET = 'perClient';

export function defaultReboundBudgets(): Budgets {
  const perClient: Budget = { kind: 'window', max: 300, windowMs: 60_000 };
  return { [REBOUND_CLIENT_BUDGET]: perClient };
}

export interface ReboundServerOptions {
  faults?: () => FaultProfiles;
  /** Per-operation budgets plus `perClient`; defaults to defaultReboundBudgets(). */
  budgets?: () => Budgets;
  port?: number;
}

const noFaults: FaultProfile = {
  latencyMs: [0, 0],
  serverErrorRate: 0,
  resetRate: 0,
  lostResponseRate: 0,
  rateLimitStormRate: 0,
  unknownEnumRate: 0,
  extraFieldsRate: 0,
  shapesRate: 0,
};

export function startReboundServer(sim: ReboundSim, options: ReboundServerOptions = {}): Promise<SimServer> {
  const budgets = options.budgets ?? defaultReboundBudgets;
  const faults = options.faults ?? (() => ({}));
  const perClient = createBudgetState();
  return startSimServer({
    routes: sim.routes,
    ctx: sim,
    clock: sim.clock,
    rng: sim.httpRng,
    // Test hooks must answer reliably whatever chaos the API is under.
    faults: () => ({ ...faults(), ...Object.fromEntries(simOnlyOperations.map((op) => [op, noFaults])) }),
    budgets,
    authenticate: (req) => {
      const auth = sim.authenticate(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
      if (!auth.ok) return toResponse(auth);
      const wait = perClient.charge(`client:${auth.value.clientId}`, budgets()[REBOUND_CLIENT_BUDGET], sim.clock.now());
      if (wait === 0) return null;
      return {
        status: 429,
        headers: { 'retry-after': String(wait), 'ratelimit-remaining': '0' },
        body: reboundErrorBody({ code: 'rate_limited', message: `Rate limit exceeded; retry after ${wait} s` }),
      };
    },
    errorBody: (status, message) => reboundErrorBody({ code: codeForStatus(status), message }),
    beforeEach: () => sim.advance(),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
}
