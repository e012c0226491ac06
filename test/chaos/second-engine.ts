import type { FakeClock } from '../../core/adapters/fake-clock';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import type { Sandbox } from '../../core/sandbox/index';
import type { Rng } from '../../core/sandbox/rng';
import type { Store } from '../../core/store/db';
import type { Engine } from '../../core/sync/engine';
import { buildEngine } from '../support/engine-harness';
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
  // Read at each call, once the engine below has opened its database.
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
  const { store, engine } = buildEngine({
    dataDir: options.dataDir,
    clock,
    http,
    targets: sandbox,
    random: options.random,
    mappings: loadMappings(shippedMappingsDir),
    webhook: null,
    holder: `chaos ${name}`,
  });
  return {
    store,
    engine,
    runCycle: () => engine.runCycle(),
    close: () => store.close(),
  };
}
