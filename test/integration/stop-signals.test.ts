import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../core/sandbox/index';
import { databaseFileName } from '../../core/store/db';
import { enginePid, jsonLines, startNpm, startStandalone, type CliRun } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';

// `npm run sync -- --watch` stopped as people and service managers stop it: SIGTERM to the npm process (kill, a
// container stop) and Ctrl+C (SIGINT to the terminal's whole process group). Each must exit 0 within 10 s, with the
// write-ahead log folded back into the database (no -wal content left) and a database that opens clean — also when
// a call is still out and does not come back in time: then it stays recorded as `sending`, to be checked at the next
// start, and the stop still keeps to its 10 s.

const entry = 'core/cli/sync.ts';
const runs: CliRun[] = [];
const temps: ReturnType<typeof makeTempDir>[] = [];
let standalone: Sandbox | null = null;

afterEach(async () => {
  for (const run of runs.splice(0)) run.killGroup();
  await standalone?.close();
  standalone = null;
  for (const temp of temps.splice(0)) temp.remove();
});

function setup() {
  const temp = makeTempDir('rw-stop-');
  temps.push(temp);
  const dataDir = join(temp.dir, 'data');
  return { temp, dataDir, file: join(dataDir, databaseFileName) };
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const run = startNpm('sync', args, env);
  runs.push(run);
  return run;
}

/** Stopped as asked, promptly, and nothing of it left running. */
async function expectStoppedWithin(run: CliRun, sentAt: number, limitMs: number) {
  const exit = await run.exited(limitMs + 5_000);
  expect({ code: exit.code, signal: exit.signal }, run.stderr()).toEqual({ code: 0, signal: null });
  expect(exit.at - sentAt).toBeLessThan(limitMs);
  expect(enginePid(run.pid, entry), 'the engine outlived npm').toBeNull();
  return exit.at - sentAt;
}

/** The -wal file is gone or empty, and the database passes SQLite's own check. */
function expectCleanDatabase(file: string) {
  const wal = `${file}-wal`;
  expect(existsSync(wal) ? statSync(wal).size : 0, 'bytes left in the -wal file').toBe(0);
  const db = new Database(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    return db.prepare(`SELECT kind, state FROM intents`).all() as { kind: string; state: string }[];
  } finally {
    db.close();
  }
}

describe('stopping `npm run sync -- --watch`', () => {
  it('SIGTERM to npm: the cycle in flight finishes, the database is checkpointed and closed, exit 0 within 10 s', async () => {
    const { dataDir, file } = setup();
    const run = start(['--watch', '--data-dir', dataDir, '--speed', '3600']);
    await run.waitFor(/^\{.*"ran"/, 25_000);
    expect(statSync(`${file}-wal`).size, 'the run has writes in its -wal').toBeGreaterThan(0);

    const sentAt = Date.now();
    process.kill(run.pid, 'SIGTERM');
    const ms = await expectStoppedWithin(run, sentAt, 10_000);
    expect(run.stderr()).toMatch(/Stopping \(SIGTERM\)/);
    expect(run.stderr()).toMatch(/Stopped/);
    expectCleanDatabase(file);
    console.info(JSON.stringify({ stop: 'SIGTERM to npm', exitMs: ms, cycles: jsonLines(run.stdout()).length }));
  }, 45_000);

  it('Ctrl+C (SIGINT to the process group): the same, and it says what it stopped', async () => {
    const { dataDir, file } = setup();
    const run = start(['--watch', '--data-dir', dataDir, '--speed', '3600']);
    await run.waitFor(/^\{.*"ran"/, 25_000);

    const sentAt = Date.now();
    process.kill(-run.pid, 'SIGINT');
    const ms = await expectStoppedWithin(run, sentAt, 10_000);
    expect(run.stderr()).toMatch(/Stopping \(SIGINT\)/);
    expect(run.stderr()).toMatch(/Stopped/);
    expectCleanDatabase(file);
    console.info(JSON.stringify({ stop: 'Ctrl+C', exitMs: ms }));
  }, 45_000);

  it('a call that does not come back in time stays recorded as `sending`, and the stop still keeps to 10 s', async () => {
    const { temp, dataDir, file } = setup();
    // ReBound holds every return creation for a minute: longer than any stop may take.
    const live = await startStandalone(temp.dir, { rebound: { 'returnOrders.create': { latencyMs: [60_000, 60_000] } } });
    standalone = live.sandbox;
    const run = start(['--watch', '--config', live.configFile, '--data-dir', dataDir], live.env);
    const held = () => live.sandbox.reboundServer.counters['returnOrders.create']?.faults.latency ?? 0;
    await until('a return creation held by ReBound', () => held() > 0, 25_000);

    const sentAt = Date.now();
    process.kill(run.pid, 'SIGTERM');
    const ms = await expectStoppedWithin(run, sentAt, 10_000);
    expect(run.stderr()).toMatch(/Stopping \(SIGTERM\)/);
    expect(run.stderr()).toMatch(/1 call .*still out.*'sending'/);
    const intents = expectCleanDatabase(file);
    expect(intents.filter((i) => i.state === 'sending')).toEqual([{ kind: 'rebound.createReturn', state: 'sending' }]);
    console.info(JSON.stringify({ stop: 'SIGTERM with a call held', exitMs: ms }));
  }, 60_000);
});

/** Polls a condition of this process (the sandbox it hosts) until it holds. */
async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
