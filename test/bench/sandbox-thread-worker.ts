import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { createSteppedClock } from '../../core/sandbox/clock';
import { startSandbox } from '../../core/sandbox/index';
import type { RawSimRequest, RawSimResult } from '../../core/sandbox/http/sim-server';
import { header, headerBytes, state, type ControlRequest, type ThreadInit } from './sandbox-thread-protocol';

// The sandbox on a thread of the engine's process (sandbox-thread.ts starts it): it serves the engine's requests
// from a shared buffer (the engine's thread blocks until the answer is there, so no event loop turn is spent on
// either side), takes control messages (clock moves, truth) by postMessage, and reports its own thread's CPU time
// from /proc/thread-self/stat so that it can be taken out of the process's.

/** Atomics.waitAsync (Node ≥ 16; not in this project's TypeScript lib). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** This thread's user + system CPU (ms) since it started, at the kernel's tick resolution (10 ms). */
function threadCpuMs(): number {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const init = workerData as ThreadInit;
  const port = parentPort;
  if (!port) throw new Error('sandbox-thread-worker runs as a worker thread');
  const startMs = init.scenario.startMs ?? (await import('../../core/sandbox/scenario')).defaultScenario.startMs;
  const clock = createSteppedClock(startMs);
  const sandbox = await startSandbox({ seed: init.seed, clock, scenario: init.scenario });
  const targets = new Map([sandbox.miraklServer, sandbox.reboundServer].map((s) => [new URL(s.url).origin, s]));
  const ctl = new Int32Array(init.shared, 0, 4);
  const bytes = new Uint8Array(init.shared, headerBytes);

  async function serve(): Promise<void> {
    for (;;) {
      const now = Atomics.load(ctl, header.state);
      if (now !== state.request) {
        // Idle, or our answer not yet taken: wait for the engine's thread to change that.
        const waiting = waitAsync(ctl, header.state, now);
        if (waiting.async) await waiting.value;
        continue;
      }
      const metaLength = Atomics.load(ctl, header.metaLength);
      const bodyLength = Atomics.load(ctl, header.bodyLength);
      const meta = JSON.parse(Buffer.from(bytes.slice(0, metaLength)).toString('utf8')) as { origin: string; raw: Omit<RawSimRequest, 'body'> };
      const body = Buffer.from(bytes.slice(metaLength, metaLength + bodyLength));
      const target = targets.get(meta.origin);
      const result: RawSimResult | null = target ? await target.dispatch({ ...meta.raw, body }) : null;
      const answerBody = result?.kind === 'response' && result.body !== undefined ? Buffer.from(result.body) : Buffer.alloc(0);
      const answerMeta = Buffer.from(JSON.stringify(result === null ? { refused: true } : result.kind === 'response' ? { ...result, body: undefined } : result));
      if (answerMeta.length + answerBody.length > bytes.length) {
        // Not an HTTP answer the engine would retry: the bench stops with this message.
        const message = Buffer.from(`an answer of ${answerBody.length} bytes does not fit the shared buffer of ${bytes.length}`);
        bytes.set(message, 0);
        Atomics.store(ctl, header.metaLength, message.length);
        Atomics.store(ctl, header.state, state.failed);
        Atomics.notify(ctl, header.state);
        continue;
      }
      bytes.set(answerMeta, 0);
      bytes.set(answerBody, answerMeta.length);
      Atomics.store(ctl, header.metaLength, answerMeta.length);
      Atomics.store(ctl, header.bodyLength, answerBody.length);
      Atomics.store(ctl, header.state, state.response);
      Atomics.notify(ctl, header.state);
    }
  }

  const json = async (path: string, base = sandbox.mirakl.baseUrl, init?: { method: string; body: string }) => {
    const origin = new URL(base).origin;
    const result = await targets.get(origin)?.dispatch({
      method: init?.method ?? 'GET',
      url: path,
      headers: init ? { 'content-type': 'application/json', host: new URL(base).host } : { host: new URL(base).host },
      body: Buffer.from(init?.body ?? ''),
    });
    if (result?.kind !== 'response' || result.status !== 200) throw new Error(`${path}: ${result?.kind === 'response' ? result.status : result?.kind}`);
    return JSON.parse(String(result.body)) as unknown;
  };

  port.on('message', (message: ControlRequest) => {
    const answer = async (): Promise<unknown> => {
      switch (message.op) {
        case 'clock':
          return json('/_sim/clock', undefined, { method: 'POST', body: JSON.stringify({ to: message.to }) });
        case 'summary':
          return json('/_sim/summary');
        case 'miraklTruth':
          return json('/_sim/truth');
        case 'reboundTruth':
          return json('/_sim/truth?notifications=none', sandbox.rebound.baseUrl);
        case 'stats':
          return { threadCpuMs: threadCpuMs() };
        case 'ping':
          return null;
        case 'close':
          await sandbox.close();
          return null;
      }
    };
    answer().then(
      (value) => port.postMessage({ id: message.id, value }),
      (error: unknown) => port.postMessage({ id: message.id, error: (error as Error).message }),
    );
  });
  port.postMessage({ id: 0, value: { mirakl: sandbox.mirakl, rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: sandbox.rebound.clientSecret } } });
  await serve();
}

await main();
