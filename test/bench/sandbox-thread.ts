import { Worker } from 'node:worker_threads';
import { NetworkError, type HttpPort } from '../../core/net/http';
import { fromRawResult, toRawRequest } from '../../core/sandbox/http/in-process';
import type { RawSimResult } from '../../core/sandbox/http/sim-server';
import type { Scenario } from '../../core/sandbox/index';
import type { SandboxHost } from './sandbox-process';
import { header, headerBytes, state, type ControlRequest, type ThreadInit } from './sandbox-thread-protocol';

// The sandbox on a worker thread of this process, for the engine's CPU figure: the engine's HTTP port hands each
// request to the sandbox's pipeline through a shared buffer and blocks until the answer is written (no socket, no
// HTTP, no event loop turn, a copy of the bytes each way), and the sandbox thread's own CPU time is known exactly
// (it reads /proc/thread-self/stat), so the process's CPU less the sandbox thread's is the engine's. Notifications
// still reach the engine's receiver over loopback HTTP: the sending is the sandbox thread's work, the receiving the
// engine's, as in the app.

const sharedBytes = 64 * 1024 * 1024;

export async function startSandboxThread(options: { seed: number; scenario: Partial<Scenario> }): Promise<SandboxHost> {
  const shared = new SharedArrayBuffer(headerBytes + sharedBytes);
  const ctl = new Int32Array(shared, 0, 4);
  const bytes = new Uint8Array(shared, headerBytes);
  // A worker does not inherit tsx's loader on Node 20: it registers it, then loads the TypeScript entry.
  const entry = new URL('./sandbox-thread-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { seed: options.seed, scenario: options.scenario, shared } satisfies ThreadInit });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let failure: Error | null = null;
  worker.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(m.error));
    else w?.resolve(m.value);
  });
  worker.on('error', (error) => {
    failure = error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  });
  const ready = new Promise<unknown>((resolve, reject) => waiting.set(0, { resolve, reject }));
  const control = <T>(request: Omit<ControlRequest, 'id'> & { to?: number }): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    const answer = new Promise<unknown>((resolve, reject) => waiting.set(id, { resolve, reject }));
    worker.postMessage({ ...request, id });
    return answer as Promise<T>;
  };
  const targets = (await ready) as SandboxHost['targets'];

  const http: HttpPort = async (request) => {
    const { origin, raw } = await toRawRequest(request);
    const { body, ...rest } = raw;
    const meta = Buffer.from(JSON.stringify({ origin, raw: rest }));
    if (meta.length + body.length > bytes.length) throw new Error(`a request of ${meta.length + body.length} bytes does not fit the shared buffer`);
    bytes.set(meta, 0);
    bytes.set(body, meta.length);
    Atomics.store(ctl, header.metaLength, meta.length);
    Atomics.store(ctl, header.bodyLength, body.length);
    Atomics.store(ctl, header.state, state.request);
    Atomics.notify(ctl, header.state);
    // The sandbox answers in microseconds to milliseconds; a minute means it is gone, and the bench must stop.
    if (Atomics.wait(ctl, header.state, state.request, 60_000) === 'timed-out') throw new Error('the sandbox thread did not answer in 60 s');
    const done = Atomics.load(ctl, header.state);
    const metaLength = Atomics.load(ctl, header.metaLength);
    const bodyLength = Atomics.load(ctl, header.bodyLength);
    if (done === state.failed) throw new Error(Buffer.from(bytes.slice(0, metaLength)).toString('utf8'));
    const answer = JSON.parse(Buffer.from(bytes.slice(0, metaLength)).toString('utf8')) as RawSimResult | { refused: true };
    const answerBody = Buffer.from(bytes.slice(metaLength, metaLength + bodyLength));
    Atomics.store(ctl, header.state, state.idle);
    Atomics.notify(ctl, header.state);
    if ('refused' in answer) throw new NetworkError(`${request.method} ${new URL(request.url).pathname}: ECONNREFUSED`, false);
    return fromRawResult(request, answer.kind === 'response' ? { ...answer, body: answerBody } : answer);
  };

  return {
    targets,
    http,
    transport: 'in-process',
    isSameProcess: true,
    moveTo: (ms) => control({ op: 'clock', to: ms }),
    summary: () => control({ op: 'summary' }),
    miraklTruth: () => control({ op: 'miraklTruth' }),
    reboundTruth: () => control({ op: 'reboundTruth' }),
    ping: () => control({ op: 'ping' }),
    sandboxCpuMs: async () => (await control<{ threadCpuMs: number }>({ op: 'stats' })).threadCpuMs,
    processStats: async () => ({ maxRssKb: process.resourceUsage().maxRSS, cpuMs: (await control<{ threadCpuMs: number }>({ op: 'stats' })).threadCpuMs }),
    close: async () => {
      await control({ op: 'close' }).catch(() => undefined);
      await worker.terminate();
    },
  };
}
