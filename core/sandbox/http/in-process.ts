import { NetworkError, type HttpPort, type HttpRequest, type HttpResponse } from '../../net/http';
import type { RawSimRequest, RawSimResult } from './sim-server';

// The engine's HTTP port served straight by the simulators' pipelines, with no socket and no HTTP parsing: what a
// call costs the client is then its own work only (the bench measures the engine's CPU this way). A request is
// encoded as fetch would send it (a FormData body becomes multipart bytes with its boundary), and a cut connection
// fails as fetch fails: a NetworkError that may have been sent.

/** One simulator reachable at `url` (its loopback base URL, which the clients are configured with). */
export interface SocketlessTarget {
  url: string;
  dispatch(request: RawSimRequest): Promise<RawSimResult>;
}

/** The request as the pipeline reads it: lower-case header names, the body as bytes. */
export async function toRawRequest(request: HttpRequest): Promise<{ origin: string; raw: RawSimRequest }> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  // fetch always sends Host, and the simulators build absolute links (OF53's file urls) from it.
  headers.host ??= url.host;
  let body = Buffer.alloc(0);
  if (typeof request.body === 'string') {
    body = Buffer.from(request.body, 'utf8');
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (request.body !== undefined) {
    const encoded = new Request(url, { method: request.method, body: request.body });
    body = Buffer.from(await encoded.arrayBuffer());
    headers['content-type'] = encoded.headers.get('content-type') ?? '';
  }
  if (body.length > 0) headers['content-length'] = String(body.length);
  return { origin: url.origin, raw: { method: request.method, url: `${url.pathname}${url.search}`, headers, body } };
}

/** What fetchHttp would have returned (or thrown) for the pipeline's answer. */
export function fromRawResult(request: HttpRequest, result: RawSimResult): HttpResponse {
  const path = new URL(request.url).pathname;
  if (result.kind === 'reset') throw new NetworkError(`${request.method} ${path}: ECONNRESET`, true);
  if (result.kind === 'lost') throw new NetworkError(`${request.method} ${path}: UND_ERR_SOCKET`, true);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers)) headers[name.toLowerCase()] = value;
  const body = result.body === undefined ? '' : typeof result.body === 'string' ? result.body : result.body.toString('utf8');
  return { status: result.status, headers, body };
}

/** An HttpPort that hands each request to the simulator whose base URL it names; any other address is refused. */
export function socketlessHttp(targets: SocketlessTarget[]): HttpPort {
  const byOrigin = new Map(targets.map((t) => [new URL(t.url).origin, t]));
  return async (request) => {
    const { origin, raw } = await toRawRequest(request);
    const target = byOrigin.get(origin);
    if (!target) throw new NetworkError(`${request.method} ${new URL(request.url).pathname}: ECONNREFUSED`, false);
    return fromRawResult(request, await withTimeout(target.dispatch(raw), request));
  };
}

/** Times out like fetch's AbortSignal.timeout: the request may have been handled. */
export function withTimeout<T>(promise: Promise<T>, request: HttpRequest): Promise<T> {
  const ms = request.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NetworkError(`${request.method} ${new URL(request.url).pathname}: TimeoutError`, true)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
