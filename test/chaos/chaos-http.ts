import { parse } from 'csv-parse/sync';
import type { FakeClock } from '../../core/adapters/fake-clock';
import { fetchHttp, NetworkError, type HttpPort, type HttpRequest, type HttpResponse } from '../../core/net/http';
import type { FaultProfile } from '../../core/sandbox/http/faults';
import type { Sandbox } from '../../core/sandbox/index';
import type { PushOperation } from '../../core/sandbox/world/mirakl-world';
import type { Rng } from '../../core/sandbox/rng';
import { SimulatedCrash } from '../../core/sync/execute';
import type { CallTarget, FaultKind, PlannedFault } from './plan';

// The engine's network port in a chaos run: the real fetch adapter to the real sandbox servers, with faults placed
// on chosen calls. Faults the sandbox already injects (reset, 5xx, lost response, 429 storm, unknown enum, shapes) are
// switched on for exactly one call; the others (timeouts on either side of the server, business rejections,
// pagination shifting mid-poll, clock jumps mid-call, a kill, a second instance) are made here.

export interface CallInfo {
  system: 'mirakl' | 'rebound';
  operation: string;
  isWrite: boolean;
  isUnsafeWrite: boolean;
  hasUnknownEnum: boolean;
  /** The sandbox's shapes fault reshapes this operation's answers. */
  isShaped: boolean;
}

/** A call whose answer the client never saw although the server applied it. */
export interface LostCall {
  at: number;
  instance: string;
  operation: string;
  body: string | null;
  how: 'timeoutAfterApply' | 'lostResponse';
}

/**
 * A call an engine sent, for the invariants that need who read or wrote what when: OR11 reads (which orders' refund
 * ledgers the engine could see from then on), and OR28 / STO01 sends (a paused engine sends none).
 */
export interface CallRecord {
  instance: string;
  /** Sandbox time when the call left. */
  at: number;
  operation: string;
  /** OR11: the orders asked for. */
  orderIds: string[];
  /** The answer reached the engine (2xx): for a read, the engine saw what it holds. */
  ok: boolean;
  /** OR28 / STO01: a FOREIGN_WRITE was open in the sender's database when the call left. */
  whilePaused: boolean;
  /** OR28: the refunds Mirakl made while the call was on its way (whatever answer reached the engine). */
  refundIds: string[];
}

/** Every refund id in Mirakl's ledger now. */
export function refundIdsNow(sandbox: Sandbox): Set<string> {
  return new Set(Object.values(sandbox.truth().mirakl.refundsByLine).flatMap((rs) => rs.map((r) => r.id)));
}

/**
 * Runs one call, noting in its record which refunds Mirakl made meanwhile (an OR28: the harness runs one call at a
 * time, and nothing else refunds while it is on its way).
 */
export async function madeDuring<T>(sandbox: Sandbox, record: CallRecord, send: () => Promise<T>): Promise<T> {
  if (record.operation !== 'OR28') return send();
  const before = refundIdsNow(sandbox);
  try {
    return await send();
  } finally {
    record.refundIds = [...refundIdsNow(sandbox)].filter((id) => !before.has(id));
  }
}

/** The record of one call, before its answer; `ok` is set once the answer reached the engine. */
export function recordCall(calls: CallRecord[], instance: string, at: number, request: HttpRequest, operation: string, isPaused: () => boolean): CallRecord {
  const orderIds = operation === 'OR11' ? (new URL(request.url).searchParams.get('order_ids') ?? '').split(',').filter(Boolean) : [];
  const whilePaused = (operation === 'OR28' || operation === 'STO01') && isPaused();
  const record: CallRecord = { instance, at, operation, orderIds, ok: false, whilePaused, refundIds: [] };
  calls.push(record);
  return record;
}

export interface ChaosHttpDeps {
  sandbox: Sandbox;
  worldClock: FakeClock;
  rng: Rng;
  background: FaultProfile;
  /** Fires the oldest armed fault of this kind whose target fits, or returns null. */
  take(kind: FaultKind, where: string, fits?: (f: PlannedFault) => boolean): PlannedFault | null;
  /** A sandbox fault switched on for a call did not happen (the call was refused earlier, e.g. 429): re-arm it. */
  rearm(fault: PlannedFault): void;
  kill(instance: string, where: string): void;
  isDead(instance: string): boolean;
  /** A storage fault that strikes while the answer of a write is being recorded. */
  strikeStorage(fault: PlannedFault): void;
  hasSecondInstance(): boolean;
  /** Opens a second engine on the same data directory and runs one cycle of it, while this call waits. */
  openSecondInstance(fault: PlannedFault): Promise<void>;
  lostCalls: LostCall[];
  /** Status pushes Mirakl refused for one return (a pushRejected fault) whose answer reached the engine's cycle. */
  pushRejections: PushRejection[];
  /** Calls each instance sent. */
  sent: Record<string, number>;
  /** Every call that left, in order (see CallRecord). */
  calls: CallRecord[];
  /** Whether a FOREIGN_WRITE is open in this instance's database now (refunds and stock imports are then paused). */
  isPausedByForeignWrite(instance: string): boolean;
  trace(line: string): void;
}

const pushOperations: readonly PushOperation[] = ['RT04', 'RT26', 'RT27'];
/** Business refusals, final ones: "invalid state" is not among them, the engine rightly retries that a few times. */
const pushRefusals: Record<PushOperation, string> = {
  RT04: 'The tracking number is not valid for this carrier',
  RT26: 'Compliance cannot be declared on this return',
  RT27: 'The return cannot be closed by the shop',
};

export interface PushRejection {
  at: number;
  instance: string;
  operation: PushOperation;
  returnId: string;
}

const miraklOperations: [method: string, pattern: RegExp, operation: string][] = [
  ['GET', /^\/api\/returns$/, 'RT11'],
  ['PUT', /^\/api\/returns$/, 'RT04'],
  ['PUT', /^\/api\/returns\/accept$/, 'RT21'],
  ['PUT', /^\/api\/returns\/receive$/, 'RT25'],
  ['PUT', /^\/api\/returns\/compliance$/, 'RT26'],
  ['PUT', /^\/api\/returns\/close$/, 'RT27'],
  ['GET', /^\/api\/orders$/, 'OR11'],
  ['PUT', /^\/api\/orders\/refund$/, 'OR28'],
  ['GET', /^\/api\/offers$/, 'OF21'],
  ['POST', /^\/api\/offers\/export\/async$/, 'OF52'],
  ['GET', /^\/api\/offers\/export\/async\/status\/[^/]+$/, 'OF53'],
  ['GET', /^\/api\/offers\/export\/async\/file\/[^/]+$/, 'OF54'],
  ['POST', /^\/api\/offers\/stock\/imports$/, 'STO01'],
  ['GET', /^\/api\/offers\/stock\/imports\/[^/]+\/status$/, 'STO02'],
  ['GET', /^\/api\/offers\/stock\/imports\/[^/]+\/error_report$/, 'STO03'],
];
const reboundOperations: [method: string, pattern: RegExp, operation: string][] = [
  ['POST', /^\/oauth\/token$/, 'oauth.token'],
  ['POST', /^\/sales-orders$/, 'salesOrders.create'],
  ['POST', /^\/return-orders$/, 'returnOrders.create'],
  ['GET', /^\/return-orders$/, 'returnOrders.list'],
  ['GET', /^\/return-orders\/[^/]+$/, 'returnOrders.get'],
];
const unsafeOperations = new Set(['OR28', 'STO01', 'returnOrders.create']);
const unknownEnumOperations = new Set(['RT11', 'OR11', 'STO02', 'OF53', 'returnOrders.get', 'returnOrders.list']);
const shapedOperations = new Set([
  'RT11',
  'RT04',
  'RT21',
  'RT25',
  'RT26',
  'RT27',
  'OR11',
  'OR28',
  'OF21',
  'STO02',
  'salesOrders.create',
  'returnOrders.create',
  'returnOrders.list',
  'returnOrders.get',
]);
// Asking for an offer export changes nothing on the marketplace: a read, whatever its method.
const readOnlyPosts = new Set(['oauth.token', 'OF52']);

export function describeCall(sandbox: Sandbox, request: HttpRequest): CallInfo {
  const url = new URL(request.url);
  const system = request.url.startsWith(sandbox.mirakl.baseUrl) ? 'mirakl' : 'rebound';
  const table = system === 'mirakl' ? miraklOperations : reboundOperations;
  const operation = table.find(([m, p]) => m === request.method && p.test(url.pathname))?.[2] ?? `${request.method} ${url.pathname}`;
  return {
    system,
    operation,
    isWrite: request.method !== 'GET' && !readOnlyPosts.has(operation),
    isUnsafeWrite: unsafeOperations.has(operation),
    hasUnknownEnum: unknownEnumOperations.has(operation),
    isShaped: shapedOperations.has(operation),
  };
}

export function fitsTarget(target: CallTarget, call: CallInfo): boolean {
  switch (target) {
    case 'unsafeWrite':
      return call.isUnsafeWrite;
    case 'write':
      return call.isWrite;
    case 'read':
      return !call.isWrite;
    case 'enumRead':
      return call.hasUnknownEnum;
    case 'shaped':
      return call.isShaped;
    case 'any':
      return true;
  }
}

type SandboxFault = 'reset' | 'serverError' | 'lostResponse' | 'rateLimitStorm' | 'unknownEnum' | 'shapes';

export function createChaosHttp(deps: ChaosHttpDeps, instance: string, shared: { isNested: boolean; paging: boolean }): HttpPort {
  const { sandbox, worldClock } = deps;
  const noFault = { serverErrorRate: 0, resetRate: 0, rateLimitStormRate: 0, lostResponseRate: 0, unknownEnumRate: 0, shapesRate: 0 };

  async function withSandboxFault(call: CallInfo, fault: SandboxFault, profile: FaultProfile, send: () => Promise<HttpResponse>): Promise<{ response: HttpResponse; happened: boolean }> {
    const server = call.system === 'mirakl' ? sandbox.miraklServer : sandbox.reboundServer;
    const before = server.counters[call.operation]?.faults[fault] ?? 0;
    sandbox.setFaults(call.system, { '*': { ...deps.background, ...noFault, ...profile } });
    try {
      const response = await send();
      return { response, happened: (server.counters[call.operation]?.faults[fault] ?? 0) > before };
    } catch (error) {
      if ((server.counters[call.operation]?.faults[fault] ?? 0) > before) throw error;
      throw Object.assign(error as Error, { chaosFaultMissed: true });
    } finally {
      sandbox.setFaults(call.system, { '*': deps.background });
    }
  }

  function rejection(call: CallInfo, request: HttpRequest): HttpResponse {
    const json = (status: number, body: unknown): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (call.system === 'rebound') {
      return json(422, { error: { code: 'validation_failed', message: 'The request failed validation (refused by the chaos harness)' } });
    }
    if (call.operation === 'OR28') return json(400, { status: 400, message: 'Refund amount exceeds the refundable amount of the order line (refused by the chaos harness)' });
    if (call.operation === 'STO01') return json(400, { status: 400, message: 'The stock file was refused (refused by the chaos harness)' });
    // Mirakl's batch calls refuse item by item inside a 200.
    const items = (JSON.parse(typeof request.body === 'string' ? request.body : '{"returns":[]}') as { returns: { id: string }[] }).returns;
    return json(200, { return_success: [], return_errors: items.map((i) => ({ id: i.id, message: 'Return is in invalid state' })) });
  }

  /** The sale a salesDuringImport fault makes: `amount` units (as many as are left) of one offer the import sets. */
  async function saleOf(fault: PlannedFault, request: HttpRequest): Promise<() => void> {
    const file = request.body instanceof FormData ? request.body.get('file') : null;
    if (!file || typeof file === 'string') return () => undefined;
    const [header = [], ...rows] = parse(await file.text(), { delimiter: ';', relax_column_count: true, skip_empty_lines: true }) as string[][];
    const skus = rows.map((r) => r[header.indexOf('offer-sku')] ?? '').filter(Boolean);
    if (skus.length === 0) return () => undefined;
    const sku = deps.rng.pick(skus);
    return () => {
      const units = Math.min(fault.amount, sandbox.world.offerBySku(sku)?.quantity ?? 0);
      if (units === 0) return;
      const order = sandbox.world.sellNow(sku, units);
      deps.trace(`  ${units} unit(s) of ${sku} sold ${fault.variant} the stock import (order ${order.orderId})`);
    };
  }

  return async (request) => {
    const call = describeCall(sandbox, request);
    const where = `${instance} ${call.operation}`;
    if (deps.isDead(instance)) throw new SimulatedCrash(`${where}: the process is dead`);
    const fits = (f: PlannedFault) => fitsTarget(f.target, call);

    if (!shared.isNested && !deps.hasSecondInstance()) {
      const second = deps.take('secondInstance', where, fits);
      if (second) {
        shared.isNested = true;
        try {
          await deps.openSecondInstance(second);
        } finally {
          shared.isNested = false;
        }
        if (deps.isDead(instance)) throw new SimulatedCrash(`${where}: the process is dead`);
      }
    }
    const jump = deps.take('clockJumpMidCall', where, fits);
    if (jump) {
      worldClock.advance(jump.amount);
      sandbox.advance();
    }

    // An RT11 poll read in small pages while the world moves on between them.
    let sent = request;
    const url = new URL(request.url);
    if (call.operation === 'RT11') {
      if (!url.searchParams.has('page_token')) {
        const shift = deps.take('paginationShift', where);
        shared.paging = shift !== null;
        if (shift) {
          url.searchParams.set('limit', String(shift.amount));
          sent = { ...request, url: url.toString() };
        }
      } else if (shared.paging) {
        worldClock.advance(deps.rng.int(1, 20) * 60_000);
        sandbox.advance();
      }
    }

    const killBefore = deps.take('killAtCall', where, (f) => fits(f) && f.variant === 'before');
    if (killBefore) {
      deps.kill(instance, `before ${where}`);
      throw new SimulatedCrash(`killed before ${where}`);
    }
    if (deps.take('timeoutBeforeApply', where, fits)) throw new NetworkError(`${request.method} ${url.pathname}: TimeoutError`, true);
    if (call.isWrite && deps.take('businessRejection', where, fits)) return rejection(call, request);

    // Customers buy units of an offer this stock import sets, after the read it was computed from: just before it
    // leaves, or just after Mirakl took it (while it waits to run). Either way the import will overwrite those sales.
    // Mirakl refuses one return of this status push (the first of the batch), item by item inside a 200.
    const pushOperation = pushOperations.find((o) => o === call.operation) ?? null;
    const push = pushOperation ? deps.take('pushRejected', where, fits) : null;
    const pushed = push && pushOperation && typeof request.body === 'string' ? (JSON.parse(request.body) as { returns?: { id?: string }[] }).returns?.[0]?.id : undefined;
    if (push && pushOperation && pushed) sandbox.world.rejectNextPush(pushOperation, pushed, `${pushRefusals[pushOperation]} (refused by the chaos harness)`);
    else if (push) deps.rearm(push);
    const pushRefusal = push && pushOperation && pushed ? { operation: pushOperation, returnId: pushed } : null;

    const stall = call.operation === 'STO01' ? deps.take('importStalled', where, fits) : null;
    const importsBefore = sandbox.world.counters.importSeq;
    const sale = call.operation === 'STO01' ? deps.take('salesDuringImport', where, fits) : null;
    const sell = sale ? await saleOf(sale, request) : () => undefined;
    if (sale?.variant === 'before') sell();

    const server = call.system === 'mirakl' ? sandbox.miraklServer : sandbox.reboundServer;
    const lostBefore = server.counters[call.operation]?.byStatus.lost ?? 0;
    const body = typeof request.body === 'string' ? request.body : null;
    const noteLost = () => {
      if ((server.counters[call.operation]?.byStatus.lost ?? 0) > lostBefore && call.isWrite) {
        deps.lostCalls.push({ at: worldClock.now(), instance, operation: call.operation, body, how: 'lostResponse' });
      }
    };

    let response: HttpResponse;
    deps.sent[instance] = (deps.sent[instance] ?? 0) + 1;
    const record = recordCall(deps.calls, instance, worldClock.now(), sent, call.operation, () => deps.isPausedByForeignWrite(instance));
    const oneShot: [SandboxFault, FaultKind, FaultProfile][] = [
      ['reset', 'connectionReset', { resetRate: 1 }],
      ['serverError', 'serverError', { serverErrorRate: 1 }],
      ['lostResponse', 'lostResponse', { lostResponseRate: 1 }],
      ['unknownEnum', 'unknownEnum', { unknownEnumRate: 1 }],
      ['shapes', 'shapes', { shapesRate: 1 }],
      ['rateLimitStorm', 'rateLimitStorm', { rateLimitStormRate: 1 }],
    ];
    let chosen: { fault: SandboxFault; profile: FaultProfile; planned: PlannedFault } | null = null;
    for (const [fault, kind, profile] of oneShot) {
      const planned = deps.take(kind, where, fits);
      if (planned) {
        chosen = { fault, profile, planned };
        break;
      }
    }
    try {
      if (chosen) {
        const planned = chosen.planned;
        const profile = chosen.fault === 'rateLimitStorm' ? { ...chosen.profile, rateLimitStormSeconds: planned.amount } : chosen.profile;
        try {
          const { response: r, happened } = await withSandboxFault(call, chosen.fault, profile, () => madeDuring(sandbox, record, () => fetchHttp(sent)));
          if (!happened) deps.rearm(planned);
          response = r;
        } catch (error) {
          if ((error as { chaosFaultMissed?: boolean }).chaosFaultMissed) deps.rearm(planned);
          throw error;
        }
      } else {
        response = await madeDuring(sandbox, record, () => fetchHttp(sent));
      }
    } finally {
      noteLost();
      // A call that never reached the server leaves the refusal armed: the fault waits for another push.
      if (pushRefusal && sandbox.world.cancelPushRejection(pushRefusal.operation, pushRefusal.returnId) && push) deps.rearm(push);
      if (sale?.variant === 'after') sell();
      // Mirakl's queue stalls on the import this call made, if it made one (whatever answer reached the engine).
      if (stall) {
        const made = sandbox.world.counters.importSeq > importsBefore ? String(5000 + sandbox.world.counters.importSeq) : null;
        if (made && sandbox.world.holdImport(made, worldClock.now() + stall.amount * 1000)) deps.trace(`  Mirakl's import queue stalls on import ${made} for ${stall.amount / 3600} h`);
        else deps.rearm(stall);
      }
    }

    const killAfter = deps.take('killAtCall', where, (f) => fits(f) && f.variant === 'after');
    if (killAfter) {
      deps.kill(instance, `after ${where}`);
      throw new SimulatedCrash(`killed after ${where}`);
    }
    if (response.status < 300 && call.isWrite) {
      const storage = deps.take('ioError', where, (f) => f.variant === 'afterCall' && fits(f)) ?? deps.take('diskFull', where, (f) => f.variant === 'afterCall' && fits(f));
      if (storage) deps.strikeStorage(storage);
    }
    if (response.status < 300 && deps.take('timeoutAfterApply', where, fits)) {
      if (call.isWrite) deps.lostCalls.push({ at: worldClock.now(), instance, operation: call.operation, body, how: 'timeoutAfterApply' });
      throw new NetworkError(`${request.method} ${url.pathname}: TimeoutError`, true);
    }
    if (pushRefusal && response.status === 200) {
      deps.pushRejections.push({ at: worldClock.now(), instance, ...pushRefusal });
      deps.trace(`  Mirakl refused ${pushRefusal.operation} for return ${pushRefusal.returnId}`);
    }
    record.ok = response.status < 300;
    return response;
  };
}
