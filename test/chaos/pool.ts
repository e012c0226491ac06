import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkSeed, type SeedReport } from './check-seed';

// Runs seeds on worker processes (one engine and one sandbox per process at a time: each run is single-threaded, so
// two workers use this machine's two cores). A worker that dies takes only its current seed down, as a failure.

const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

export async function runSeeds(seeds: number[], options: { workers: number; onReport: (report: SeedReport) => void }): Promise<SeedReport[]> {
  const reports: SeedReport[] = [];
  const report = (r: SeedReport) => {
    reports.push(r);
    options.onReport(r);
  };
  if (options.workers <= 1 || seeds.length <= 1) {
    for (const seed of seeds) report(await guarded(seed));
    return reports;
  }
  const queue = [...seeds];
  await Promise.all(Array.from({ length: Math.min(options.workers, seeds.length) }, () => worker(queue, report)));
  return reports;
}

async function guarded(seed: number): Promise<SeedReport> {
  try {
    return await checkSeed(seed);
  } catch (error) {
    return crashed(seed, `the run threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

function worker(queue: number[], report: (r: SeedReport) => void): Promise<void> {
  return new Promise((resolve) => {
    const child = fork(workerFile, [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let current: number | null = null;
    const next = () => {
      current = queue.shift() ?? null;
      if (current === null) child.disconnect();
      else child.send({ seed: current });
    };
    child.on('message', (m: { ready?: true; seed?: number; report?: SeedReport; error?: string }) => {
      if (m.report) report(m.report);
      else if (m.error !== undefined && m.seed !== undefined) report(crashed(m.seed, `the run threw: ${m.error}`));
      next();
    });
    child.on('exit', (code, signal) => {
      if (current !== null) report(crashed(current, `the worker process died (${signal ?? `exit code ${code}`})`));
      resolve();
    });
  });
}

function crashed(seed: number, why: string): SeedReport {
  return {
    seed,
    drawn: 0,
    fired: {},
    background: {},
    shapes: {},
    taxMode: 'TAX_INCLUDED',
    cycles: 0,
    restarts: 0,
    simDays: 0,
    violations: [`HARNESS: ${why}`],
    tables: {},
    hash: '',
    stats: {},
    ms: 0,
  };
}
