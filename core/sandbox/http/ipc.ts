import { NetworkError, type HttpPort } from '../../net/http';
import { fromRawResult, toRawRequest, withTimeout, type SocketlessTarget } from './in-process';
import type { RawSimRequest, RawSimResult } from './sim-server';

// The socketless transport across a process boundary: a sandbox started by `fork` (with `serialization: 'advanced'`)
// serves the requests its parent sends down the IPC channel with the same pipeline its HTTP servers run. The bench
// uses it so that the engine's process holds the engine alone, and no loopback HTTP is spent on either side.

interface IpcRequest {
  type: 'sandbox.http';
  id: number;
  origin: string;
  raw: RawSimRequest;
}
interface IpcResponse {
  type: 'sandbox.http';
  id: number;
  /** Null when no simulator listens at the request's origin (a refused connection). */
  result: RawSimResult | null;
}

/** What both ends of a child_process IPC channel offer. */
export interface IpcChannel {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

const isRequest = (m: unknown): m is IpcRequest => typeof m === 'object' && m !== null && (m as IpcRequest).type === 'sandbox.http' && 'raw' in m;
const isResponse = (m: unknown): m is IpcResponse => typeof m === 'object' && m !== null && (m as IpcResponse).type === 'sandbox.http' && 'result' in m;

/** In the sandbox's process: answer every request the parent sends. Returns a function that stops serving. */
export function serveOverIpc(channel: IpcChannel, targets: SocketlessTarget[]): () => void {
  const byOrigin = new Map(targets.map((t) => [new URL(t.url).origin, t]));
  const listener = (message: unknown) => {
    if (!isRequest(message)) return;
    const target = byOrigin.get(message.origin);
    // The structured clone turns the Buffer into a plain Uint8Array.
    const body = Buffer.from(message.raw.body.buffer, message.raw.body.byteOffset, message.raw.body.byteLength);
    const answer = target ? target.dispatch({ ...message.raw, body }) : Promise.resolve(null);
    void answer.then((result) => channel.send({ type: 'sandbox.http', id: message.id, result } satisfies IpcResponse));
  };
  channel.on('message', listener);
  return () => channel.off('message', listener);
}

/** In the client's process: an HttpPort whose every request goes down the channel to serveOverIpc. */
export function ipcHttp(channel: IpcChannel): HttpPort & { close(): void } {
  let nextId = 1;
  const waiting = new Map<number, (result: RawSimResult | null) => void>();
  const listener = (message: unknown) => {
    if (!isResponse(message)) return;
    waiting.get(message.id)?.(message.result);
    waiting.delete(message.id);
  };
  channel.on('message', listener);
  const port = async (request: Parameters<HttpPort>[0]) => {
    const { origin, raw } = await toRawRequest(request);
    const id = nextId++;
    const answered = new Promise<RawSimResult | null>((resolve) => waiting.set(id, resolve));
    channel.send({ type: 'sandbox.http', id, origin, raw } satisfies IpcRequest);
    try {
      const result = await withTimeout(answered, request);
      if (result === null) throw new NetworkError(`${request.method} ${new URL(request.url).pathname}: ECONNREFUSED`, false);
      if (result.kind === 'response' && result.body !== undefined && typeof result.body !== 'string') {
        const b = result.body as Uint8Array;
        return fromRawResult(request, { ...result, body: Buffer.from(b.buffer, b.byteOffset, b.byteLength) });
      }
      return fromRawResult(request, result);
    } finally {
      waiting.delete(id);
    }
  };
  return Object.assign(port, { close: () => void channel.off('message', listener) });
}
