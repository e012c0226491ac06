import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Clock } from '../../ports';
import type { Rng } from '../rng';
import { createBudgetState, type Budgets } from './budgets';
import { addExtraFields, planFaults, profileFor, type FaultKind, type FaultProfiles, type ShapeVariant } from './faults';
import { BadRequest, matchRoute, type Route, type SimRequest, type SimResponse } from './router';

// One loopback HTTP server per simulated system. Each request is matched to an API operation, authenticated,
// charged against that operation's budget, and run through the fault plan before and after the handler. The same
// pipeline is reachable without a socket (`dispatch`), so a client can be served in-process (in-process.ts) with the
// budgets, faults and counters of the HTTP path.

export interface OperationCounters {
  calls: number;
  byStatus: Record<string, number>;
  rateLimited: number;
  /** 429s because a client called sooner than the operation's budget allows (not storms). */
  overBudget: number;
  faults: Partial<Record<FaultKind, number>>;
  /** Records reshaped by the `shapes` fault, by variant (one call usually reshapes several records). */
  shapes: Partial<Record<ShapeVariant, number>>;
}
export type CallCounters = Record<string, OperationCounters>;

export interface SimServerOptions<Ctx> {
  routes: Route<Ctx>[];
  ctx: Ctx;
  clock: Clock;
  /** The stream fault decisions are drawn from. */
  rng: Rng;
  faults: () => FaultProfiles;
  budgets: () => Budgets;
  /** Null when the request may proceed; otherwise the refusal to send. */
  authenticate(req: SimRequest, route: Route<Ctx>): SimResponse | null;
  /** The API's own error body for a status and message. */
  errorBody(status: number, message: string): unknown;
  /** Runs before every request: the world catches up with the clock. */
  beforeEach?: () => void;
  port?: number;
}

/** A request as it reaches the pipeline: what an HTTP server would have parsed off the socket. */
export interface RawSimRequest {
  method: string;
  /** Path and query, e.g. `/api/returns?limit=100`. */
  url: string;
  /** Lower-case names, as Node's HTTP server gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What the pipeline answers: an HTTP response, or the connection cut before (`reset`) or after (`lost`) the handler ran. */
export type RawSimResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string | Buffer | undefined }
  | { kind: 'reset' }
  | { kind: 'lost' };

export interface SimServer {
  url: string;
  port: number;
  counters: CallCounters;
  /** The pipeline without the socket: what the HTTP server runs for each request it reads. */
  dispatch(request: RawSimRequest): Promise<RawSimResult>;
  close(): Promise<void>;
}

export async function startSimServer<Ctx>(options: SimServerOptions<Ctx>): Promise<SimServer> {
  const counters: CallCounters = {};
  const budgets = createBudgetState();
  const stormUntil = new Map<string, number>();

  const count = (operation: string): OperationCounters => {
    const existing = counters[operation];
    if (existing) return existing;
    const created: OperationCounters = { calls: 0, byStatus: {}, rateLimited: 0, overBudget: 0, faults: {}, shapes: {} };
    counters[operation] = created;
    return created;
  };
  const noteFault = (c: OperationCounters, kind: FaultKind) => {
    c.faults[kind] = (c.faults[kind] ?? 0) + 1;
  };

  async function dispatch(raw: RawSimRequest): Promise<RawSimResult> {
    try {
      return await handle(raw);
    } catch (error) {
      return render({ status: 500, body: options.errorBody(500, `sandbox failure: ${(error as Error).message}`) }, options.clock.now());
    }
  }

  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => dispatch({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }))
      .then(
        (result) => {
          if (result.kind !== 'response') {
            req.socket.destroy();
            return;
          }
          res.writeHead(result.status, result.headers);
          res.end(result.body);
        },
        () => req.socket.destroy(),
      );
  });

  async function handle(raw: RawSimRequest): Promise<RawSimResult> {
    const url = new URL(raw.url, 'http://127.0.0.1');
    const method = raw.method;
    const body = raw.body;
    const simReq: SimRequest = {
      method,
      path: url.pathname,
      params: {},
      query: url.searchParams,
      headers: raw.headers,
      body,
      json: () => {
        try {
          return JSON.parse(body.toString('utf8'));
        } catch {
          throw new BadRequest('The request body is not valid JSON');
        }
      },
      form: () => new Response(Readable.toWeb(Readable.from([body])) as ReadableStream, { headers: { 'content-type': String(raw.headers['content-type'] ?? '') } }).formData(),
    };
    const matched = matchRoute(options.routes, method, url.pathname, url.searchParams);
    if (!matched) return render({ status: 404, body: options.errorBody(404, `No operation at ${method} ${url.pathname}`) }, options.clock.now());
    const { route } = matched;
    simReq.params = matched.params;
    const c = count(route.operation);
    c.calls++;
    const finish = (response: SimResponse): RawSimResult => {
      c.byStatus[response.status] = (c.byStatus[response.status] ?? 0) + 1;
      return render(response, options.clock.now());
    };

    if (route.isTestHook) {
      options.beforeEach?.();
      return finish(await route.handler(simReq, options.ctx));
    }
    if (!route.isPublic) {
      const refusal = options.authenticate(simReq, route);
      if (refusal) return finish(refusal);
    }
    options.beforeEach?.();
    const now = options.clock.now();

    const stormEnd = stormUntil.get(route.operation) ?? 0;
    if (now < stormEnd) {
      c.rateLimited++;
      return finish(tooMany(Math.ceil((stormEnd - now) / 1000)));
    }
    const isContinuation = route.isContinuation?.(simReq) ?? false;
    const wait = isContinuation ? 0 : budgets.charge(route.operation, options.budgets()[route.operation], now);
    if (wait > 0) {
      c.rateLimited++;
      c.overBudget++;
      return finish(tooMany(wait));
    }

    const profile = profileFor(options.faults(), route.operation);
    const plan = planFaults(profile, options.rng);
    if (plan.latencyMs > 0) {
      noteFault(c, 'latency');
      await new Promise((r) => setTimeout(r, plan.latencyMs));
    }
    if (plan.before === 'serverError') {
      noteFault(c, 'serverError');
      const status = options.rng.pick([500, 502, 503]);
      return finish({ status, body: options.errorBody(status, 'Internal error (injected by the sandbox)') });
    }
    if (plan.before === 'reset') {
      noteFault(c, 'reset');
      c.byStatus.reset = (c.byStatus.reset ?? 0) + 1;
      return { kind: 'reset' };
    }
    if (plan.before === 'rateLimitStorm') {
      noteFault(c, 'rateLimitStorm');
      const seconds = profile.rateLimitStormSeconds ?? 30;
      stormUntil.set(route.operation, now + seconds * 1000);
      c.rateLimited++;
      return finish(tooMany(seconds));
    }

    let response: SimResponse;
    try {
      response = await route.handler(simReq, options.ctx);
    } catch (error) {
      if (error instanceof BadRequest) response = { status: 400, body: options.errorBody(400, error.message) };
      else throw error;
    }
    if (plan.isLostResponse) {
      noteFault(c, 'lostResponse');
      c.byStatus.lost = (c.byStatus.lost ?? 0) + 1;
      return { kind: 'lost' };
    }
    if (isJsonBody(response) && response.status < 300) {
      // Before the other answer faults, so a reshaped record can still get an unknown enum or extra fields on top.
      if (plan.hasShapes && route.withShapes) {
        const applied = route.withShapes(response.body, options.rng);
        if (applied.length > 0) {
          noteFault(c, 'shapes');
          for (const variant of applied) c.shapes[variant] = (c.shapes[variant] ?? 0) + 1;
        }
      }
      if (plan.hasUnknownEnum && route.withUnknownEnum) {
        noteFault(c, 'unknownEnum');
        route.withUnknownEnum(response.body);
      }
      if (plan.hasExtraFields) {
        noteFault(c, 'extraFields');
        addExtraFields(response.body);
      }
    }
    return finish(response);

    function tooMany(seconds: number): SimResponse {
      return { status: 429, headers: { 'retry-after': String(seconds) }, body: options.errorBody(429, 'Too many requests') };
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counters,
    dispatch,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isJsonBody(response: SimResponse): boolean {
  return response.body !== undefined && typeof response.body === 'object' && !Buffer.isBuffer(response.body);
}

/** Every answer carries the simulated time in its Date header, as a real server's carries its clock (RFC 9110). */
function render(response: SimResponse, now: number): RawSimResult {
  const headers: Record<string, string> = { date: new Date(now).toUTCString(), ...(response.headers ?? {}) };
  let payload: string | Buffer | undefined;
  if (response.body === undefined) payload = undefined;
  else if (typeof response.body === 'string' || Buffer.isBuffer(response.body)) {
    payload = response.body;
    headers['content-type'] = response.contentType ?? 'text/plain; charset=utf-8';
  } else {
    payload = JSON.stringify(response.body);
    headers['content-type'] = response.contentType ?? 'application/json';
  }
  return { kind: 'response', status: response.status, headers, body: payload };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
