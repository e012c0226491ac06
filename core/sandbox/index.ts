import { createHash } from 'node:crypto';
import type { Clock } from '../ports';
import type { SteppedClock } from './clock';
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
  /** A SteppedClock makes sandbox time move only on POST /_sim/clock (a bench in another process drives it). */
  clock: Clock | SteppedClock;
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
  /** When ReBound next does something on its own (a parcel moves, a notification is due), or null. */
  nextEventAt(): number | null;
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
      // ReBound's counters too, from the one address a test of a running app can learn (the app's --json line).
      { operation: '_sim.calls', method: 'GET', pattern: '/_sim/rebound/calls', isTestHook: true, handler: () => ({ status: 200, body: reboundServer.counters }) },
      {
        // POST {"system": "mirakl"|"rebound", "operations": {"OR28": {"lostResponseRate": 1}}}: those operations' faults on top of
        // the profile the sandbox started with; {"operations": {}} goes back to it. For a browser test of a running app.
        operation: '_sim.faults',
        method: 'POST',
        pattern: '/_sim/faults',
        isTestHook: true,
        handler: (req) => {
          const { system, operations } = (req.json() ?? {}) as { system?: unknown; operations?: unknown };
          if ((system !== 'mirakl' && system !== 'rebound') || typeof operations !== 'object' || operations === null) {
            return { status: 400, body: { status: 400, message: 'Give "system" (mirakl or rebound) and "operations" (operation → fault profile)' } };
          }
          const start = (system === 'mirakl' ? options.miraklFaults : options.reboundFaults) ?? {};
          const profiles = { ...start, ...(operations as FaultProfiles) };
          if (system === 'mirakl') miraklFaults = profiles;
          else reboundFaults = profiles;
          return { status: 200, body: profiles };
        },
      },
      {
        operation: '_sim.summary',
        method: 'GET',
        pattern: '/_sim/summary',
        isTestHook: true,
        handler: (_r, w) => {
          const byState: Record<string, number> = {};
          for (const r of w.returnsList()) byState[r.state] = (byState[r.state] ?? 0) + 1;
          return { status: 200, body: { at: new Date(options.clock.now()).toISOString(), returns: w.returnsList().length, returnsByState: byState } };
        },
      },
      { operation: '_sim.clock', method: 'GET', pattern: '/_sim/clock', isTestHook: true, handler: () => ({ status: 200, body: clockView() }) },
      { operation: '_sim.clock', method: 'POST', pattern: '/_sim/clock', isTestHook: true, handler: (req) => moveClock(req.json()) },
      {
        operation: '_sim.process',
        method: 'GET',
        pattern: '/_sim/process',
        isTestHook: true,
        handler: () => {
          const usage = process.resourceUsage();
          return { status: 200, body: { maxRssKb: usage.maxRSS, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 } };
        },
      },
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
  const stepped = 'moveTo' in options.clock ? options.clock : null;
  const clockView = () => ({ now: options.clock.now(), isStepped: stepped !== null, nextEventAt: sim.nextEventAt() });

  /**
   * POST /_sim/clock `{"to": ms}` or `{"by": ms}`: lets the notifications already sent arrive, moves sandbox time,
   * brings both systems up to it and waits for the notifications that sends. Answers with the new time and the next
   * ReBound event, so a driver can step to it (the bench does).
   */
  async function moveClock(body: unknown) {
    const bad = (status: number, message: string) => ({ status, body: { status, message } });
    if (!stepped) return bad(409, 'The sandbox clock runs on its own; start the sandbox with --clock stepped to drive it');
    const { to, by } = (body ?? {}) as { to?: unknown; by?: unknown };
    const target = typeof to === 'number' ? to : typeof by === 'number' ? stepped.now() + by : Number.NaN;
    if (!Number.isFinite(target) || target < stepped.now()) return bad(400, `Give "to" (epoch ms, not before ${stepped.now()}) or "by" (ms ≥ 0)`);
    await sim.flushDeliveries();
    stepped.moveTo(target);
    advance();
    await sim.flushDeliveries();
    return { status: 200, body: clockView() };
  }
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
    nextEventAt: () => sim.nextEventAt(),
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
