import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { ipcHttp, type IpcChannel } from '../../core/sandbox/http/ipc';
import type { Scenario } from '../../core/sandbox/index';
import type { MiraklWorld } from '../../core/sandbox/world/mirakl-world';
import type { ReboundTruth } from '../../core/sandbox/rebound/model';
import type { EngineTargets } from '../support/engine-harness';

// The sandbox for the sync benchmarks, where the engine's process cannot see it: the standalone sandbox
// (core/cli/sandbox.ts) in a child process on a stepped clock, so that this process holds the engine alone (its CPU
// and peak RSS are the engine's) and both agree on sandbox time. The engine reaches it over loopback HTTP, as in the
// app; the bench's own control calls (/_sim/clock, truth) go down the IPC channel to the same /_sim/ routes.
// sandbox-thread.ts hosts it on a thread instead, for the CPU figure over the in-process transport.

export type Transport = 'loopback' | 'in-process';

/** A sandbox the bench drives from the engine's process, wherever it runs. */
export interface SandboxHost {
  targets: EngineTargets;
  /** What the engine's clients use. */
  http: HttpPort;
  transport: Transport;
  /** True when the sandbox runs in this process (on a thread): its CPU is then in process.cpuUsage() and is taken out. */
  isSameProcess: boolean;
  /** Moves sandbox time to `ms` (see /_sim/clock); answers with when ReBound next acts on its own. */
  moveTo(ms: number): Promise<{ now: number; nextEventAt: number | null }>;
  summary(): Promise<{ returns: number; returnsByState: Record<string, number> }>;
  miraklTruth(): Promise<ReturnType<MiraklWorld['truth']>>;
  /** ReBound's truth without its notification log. */
  reboundTruth(): Promise<ReboundTruth>;
  /** A control round trip that does nothing: to measure what one costs this process. */
  ping(): Promise<unknown>;
  /** CPU the sandbox has used so far, wherever it runs (ms). */
  sandboxCpuMs(): Promise<number>;
  /** The sandbox's host's peak RSS and CPU, for context. */
  processStats(): Promise<{ maxRssKb: number; cpuMs: number }>;
  close(): Promise<void>;
}

interface Ready {
  type: 'sandbox.ready';
  mirakl: EngineTargets['mirakl'];
  rebound: EngineTargets['rebound'];
}

const cli = fileURLToPath(new URL('../../core/cli/sandbox.ts', import.meta.url));

export async function startSandboxProcess(options: { seed: number; scenario: Partial<Scenario> }): Promise<SandboxHost> {
  const child = fork(cli, ['--seed', String(options.seed), '--clock', 'stepped', '--scenario', JSON.stringify(options.scenario)], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.on('message', (m) => {
      if ((m as Ready).type === 'sandbox.ready') resolve(m as Ready);
    });
    child.once('exit', (code, signal) => reject(new Error(`the sandbox process exited (${signal ?? code}) before it was ready`)));
  });
  const ipc = ipcHttp(child as IpcChannel);
  const sim = (path: string) => `${ready.mirakl.baseUrl}/_sim/${path}`;
  const json = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await ipc({
      method,
      url,
      timeoutMs: 600_000,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (res.status !== 200) throw new Error(`${method} ${url}: ${res.status} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  };
  return {
    targets: { mirakl: ready.mirakl, rebound: ready.rebound },
    http: fetchHttp,
    transport: 'loopback',
    isSameProcess: false,
    moveTo: (ms) => json('POST', sim('clock'), { to: ms }),
    summary: () => json('GET', sim('summary')),
    miraklTruth: () => json('GET', sim('truth')),
    reboundTruth: () => json('GET', `${ready.rebound.baseUrl}/_sim/truth?notifications=none`),
    ping: () => json('GET', sim('clock')),
    sandboxCpuMs: async () => (await json<{ cpuMs: number }>('GET', sim('process'))).cpuMs,
    processStats: () => json('GET', sim('process')),
    close: async () => {
      ipc.close();
      if (child.exitCode === null && child.signalCode === null) child.disconnect();
      await exited;
    },
  };
}
