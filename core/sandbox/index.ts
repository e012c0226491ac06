import { createHash } from 'node:crypto';
import type { Clock } from '../ports';
import type { Budgets } from './http/budgets';
import type { FaultProfile, FaultProfiles } from './http/faults';
import type { SimServer } from './http/sim-server';
import { defaultMiraklBudgets, startMiraklServer } from './mirakl/server';
import { createReboundSim, defaultReboundBudgets, startReboundServer, type ReboundSim } from './rebound';
import type { WebhookTransport } from './rebound/transport';
import { createRng } from './rng';
import { defaultScenario, type Scenario, type TaxMode } from './scenario';
import { createMiraklWorld, type MiraklWorld } from './world/mirakl-world';

// The sandbox: simulated Mirakl and ReBound on loopback, sharing one world, one seed and one clock. It is the
// app's Sandbox mode and the test double of every integration test. Ground truth is served under /_sim/ only.

export type FaultProfileName = 'none' | 'default' | 'harsh';

const defaultFaults: FaultProfile = {
  serverErrorRate: 0.02,
  resetRate: 0.01,
  lostResponseRate: 0.01,
  rateLimitStormRate: 0.002,
  rateLimitStormSeconds: 20,
  unknownEnumRate: 0.01,
  extraFieldsRate: 0.05,
  // Answers shaped like Mirakl's own examples rather than its schemas: often, as in real life.
  shapesRate: 0.3,
};

export const faultProfiles: Record<FaultProfileName, FaultProfiles> = {
  none: {},
  default: { '*': defaultFaults },
  harsh: {
    '*': { ...defaultFaults, serverErrorRate: 0.08, resetRate: 0.04, lostResponseRate: 0.05, rateLimitStormRate: 0.01, unknownEnumRate: 0.05, shapesRate: 0.6 },
  },
};

export interface SandboxOptions {
  seed: number;
  clock: Clock;
  scenario?: Partial<Scenario>;
  miraklFaults?: FaultProfiles;
  reboundFaults?: FaultProfiles;
  miraklBudgets?: Budgets;
  reboundBudgets?: Budgets;
  miraklPort?: number;
  reboundPort?: number;
  /** Advance the world on a real timer this often (Sandbox mode, the standalone CLI). Off in tests. */
  tickMs?: number;
  /** How ReBound notifications leave the simulator (real HTTP by default); the chaos harness holds and reorders them. */
  webhookTransport?: WebhookTransport;
}

export interface SandboxCredentials {
  mirakl: { baseUrl: string; apiKey: string; shopId: number };
  rebound: { baseUrl: string; clientId: string; clientSecret: string };
}

export interface Sandbox extends SandboxCredentials {
  world: MiraklWorld;
  rebound: SandboxCredentials['rebound'] & { sim: ReboundSim };
  miraklServer: SimServer;
  reboundServer: SimServer;
  /** Brings both systems up to the clock: returns appear, parcels move, notifications are queued and sent. */
  advance(): void;
  /** Waits for webhook deliveries in flight. */
  flush(): Promise<void>;
  truth(): { mirakl: ReturnType<MiraklWorld['truth']>; rebound: ReturnType<ReboundSim['truth']> };
  truthHash(): string;
  setFaults(system: 'mirakl' | 'rebound', profiles: FaultProfiles): void;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const scenario: Scenario = { ...defaultScenario, ...(options.scenario ?? {}) };
  const root = createRng(options.seed);
  const shopId = 2001;
  const credentials = {
    apiKey: `sandbox-mirakl-${options.seed}`,
    clientId: `sandbox-client-${options.seed}`,
    clientSecret: `sandbox-secret-${options.seed}`,
  };
  let miraklFaults = options.miraklFaults ?? {};
  let reboundFaults = options.reboundFaults ?? {};

  const world = createMiraklWorld({ clock: options.clock, rng: root.fork('mirakl'), scenario, shopId });
  const sim = createReboundSim({
    clock: options.clock,
    rng: root.fork('rebound'),
    scenario,
    credentials: { clientId: credentials.clientId, clientSecret: credentials.clientSecret },
    ...(options.webhookTransport ? { transport: options.webhookTransport } : {}),
    pickOtherSku: (rng, notSku) => {
      const others = world.offers().filter((o) => o.shopSku !== notSku);
      return rng.pick(others).shopSku;
    },
  });
  const miraklServer: SimServer = await startMiraklServer({
    world,
    clock: options.clock,
    rng: root.fork('mirakl-faults'),
    apiKey: credentials.apiKey,
    startMs: scenario.startMs,
    faults: () => miraklFaults,
    budgets: () => options.miraklBudgets ?? defaultMiraklBudgets,
    ...(options.miraklPort !== undefined ? { port: options.miraklPort } : {}),
    extraRoutes: [
      { operation: '_sim.truth', method: 'GET', pattern: '/_sim/truth', isTestHook: true, handler: (_r, w) => ({ status: 200, body: w.truth() }) },
      { operation: '_sim.calls', method: 'GET', pattern: '/_sim/calls', isTestHook: true, handler: () => ({ status: 200, body: miraklServer.counters }) },
    ],
  });
  const reboundServer = await startReboundServer(sim, {
    faults: () => reboundFaults,
    budgets: () => options.reboundBudgets ?? defaultReboundBudgets(),
    ...(options.reboundPort !== undefined ? { port: options.reboundPort } : {}),
  });

  const advance = () => {
    world.advance();
    sim.advance();
  };
  advance();
  const ticker = options.tickMs ? setInterval(advance, options.tickMs) : undefined;
  ticker?.unref();

  const truth = () => ({ mirakl: world.truth(), rebound: sim.truth() });
  const mirakl = { baseUrl: miraklServer.url, apiKey: credentials.apiKey, shopId };
  return {
    mirakl,
    rebound: { baseUrl: reboundServer.url, clientId: credentials.clientId, clientSecret: credentials.clientSecret, sim },
    world,
    miraklServer,
    reboundServer,
    advance,
    flush: () => sim.flushDeliveries(),
    truth,
    truthHash: () => createHash('sha256').update(JSON.stringify(truth())).digest('hex'),
    setFaults: (system, profiles) => {
      if (system === 'mirakl') miraklFaults = profiles;
      else reboundFaults = profiles;
    },
    close: async () => {
      if (ticker) clearInterval(ticker);
      await sim.flushDeliveries();
      await Promise.all([miraklServer.close(), reboundServer.close()]);
    },
  };
}

export { defaultScenario, type Scenario, type TaxMode };
