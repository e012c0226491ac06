import { join } from 'node:path';
import type { FakeClock } from '../../core/adapters/fake-clock';
import { silentLogger } from '../../core/adapters/logger';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { createMiraklClient } from '../../core/mirakl/client';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { createReboundClient } from '../../core/rebound/client';
import type { Sandbox } from '../../core/sandbox/index';
import type { Rng } from '../../core/sandbox/rng';
import { createSqliteBudgetStore } from '../../core/store/budget-repo';
import { openStore, type Store } from '../../core/store/db';
import { createSqliteJournal } from '../../core/store/journal-repo';
import { sourceMigrationsDir } from '../../core/store/paths';
import { createEngineContext } from '../../core/sync/context';
import { createEngine, type Engine } from '../../core/sync/engine';
import { describeCall, madeDuring, recordCall, type CallRecord } from './chaos-http';

// A second installation of the app (a secondEngineOwnDb fault): a colleague's desktop with Live credentials and a
// database of its own, syncing the same shop for a while. Its network is the colleague's: no planned fault strikes
// its calls (the sandbox's background faults still do), and it receives no ReBound notifications (a desktop behind
// NAT). What it writes to Mirakl is told apart in the ground truth by the calls that made it: every refund and stock
// import that appeared while one of its OR28 / STO01 calls was on its way is its own (the harness runs one call at a
// time, and nothing else refunds or imports meanwhile).

export interface SecondEngineWrites {
  /** Mirakl refund ids the second installation made. */
  refunds: Set<string>;
  /** Mirakl stock import ids the second installation made. */
  imports: Set<string>;
  /** ReBound return orders the second installation created. */
  returnOrders: Set<string>;
}

export interface SecondEngine {
  store: Store;
  engine: Engine;
  /** Runs one cycle; an error escaping it ends this installation (its owner sees the error and closes the app). */
  runCycle(): Promise<unknown>;
  close(): void;
}

export function openSecondEngine(options: {
  dataDir: string;
  sandbox: Sandbox;
  clock: FakeClock;
  random: Rng;
  calls: CallRecord[];
  writes: SecondEngineWrites;
  name: string;
}): SecondEngine {
  const { sandbox, clock, calls, writes, name } = options;
  const store = openStore({ dataDir: join(options.dataDir, 'data'), migrationsDir: sourceMigrationsDir, clock });
  const isPaused = () => store.db.prepare(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND state != 'resolved' LIMIT 1`).get() !== undefined;
  const importIds = () => new Set(sandbox.world.importsList().map((i) => i.importId));
  const returnOrderIds = () => new Set(sandbox.rebound.sim.truth().returnOrders.map((ro) => ro.reboundOrderId));
  const http: HttpPort = async (request) => {
    const call = describeCall(sandbox, request);
    const record = recordCall(calls, name, clock.now(), request, call.operation, isPaused);
    const before = call.operation === 'STO01' ? importIds() : call.operation === 'returnOrders.create' ? returnOrderIds() : null;
    try {
      const response = await madeDuring(sandbox, record, () => fetchHttp(request));
      record.ok = response.status < 300;
      return response;
    } finally {
      // Whatever the answer (a lost one too): what Mirakl made meanwhile is this installation's.
      for (const id of record.refundIds) writes.refunds.add(id);
      if (before && call.operation === 'STO01') for (const id of importIds()) if (!before.has(id)) writes.imports.add(id);
      if (before && call.operation === 'returnOrders.create') for (const id of returnOrderIds()) if (!before.has(id)) writes.returnOrders.add(id);
    }
  };
  const common = { clock, http, journal: createSqliteJournal(store.db), budgets: createSqliteBudgetStore(store.db), timeoutMs: 10_000 };
  const mappings = loadMappings(shippedMappingsDir);
  const ctx = createEngineContext({
    db: store.db,
    clock,
    random: { next: () => options.random.float() },
    log: silentLogger,
    events: null,
    mirakl: createMiraklClient({ ...common, baseUrl: sandbox.mirakl.baseUrl, apiKey: async () => sandbox.mirakl.apiKey, shopId: sandbox.mirakl.shopId }),
    rebound: createReboundClient({ ...common, baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: async () => sandbox.rebound.clientSecret }),
    mappings: () => mappings,
    webhook: null,
  });
  const engine = createEngine(ctx, { holder: `chaos ${name}` });
  return {
    store,
    engine,
    runCycle: () => engine.runCycle(),
    close: () => store.close(),
  };
}
