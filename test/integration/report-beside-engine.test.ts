import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../core/sandbox/index';
import { enginePid, jsonLines, startNpm, startStandalone, type CliRun } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';

// `npm run report` beside a running engine, between real processes: a live `npm run sync -- --watch` against a
// standalone sandbox holds the data folder, as the app in live mode does. The report used to write its files and then
// die with "database is locked" and a stack trace. Now it waits for the folder, naming who holds it, and makes the
// report once that one stops; with --no-wait it refuses at once with exit code 75; Ctrl+C stops the wait (130).
// None of these prints a stack trace.

const runs: CliRun[] = [];
let temp: ReturnType<typeof makeTempDir> | null = null;
let standalone: Sandbox | null = null;

afterEach(async () => {
  for (const run of runs.splice(0)) run.killGroup();
  await standalone?.close();
  standalone = null;
  temp?.remove();
  temp = null;
});

const cycleLine = /^\{.*"ran"/;
const stackLine = /^\s+at .+[(:]\d+/m;
const period = new Date().toISOString().slice(0, 7);

async function engineRunning() {
  temp = makeTempDir('rw-report-beside-');
  const live = await startStandalone(temp.dir);
  standalone = live.sandbox;
  const dataDir = join(temp.dir, 'data');
  const sync = startNpm('sync', ['--watch', '--config', live.configFile, '--data-dir', dataDir], live.env);
  runs.push(sync);
  await sync.waitFor(cycleLine, 30_000);
  const holder = enginePid(sync.pid, 'core/cli/sync.ts');
  expect(holder).not.toBeNull();
  const report = (out: string, extra: string[] = []) => {
    const run = startNpm('report', ['--period', period, '--out', join(temp?.dir ?? '', out), '--data-dir', dataDir, ...extra]);
    runs.push(run);
    return run;
  };
  return { sync, holder, report, outDir: (out: string) => join(temp?.dir ?? '', out) };
}

describe('npm run report beside a running engine', () => {
  it('waits for the data folder, naming its holder, then writes the report once the engine stops; --no-wait refuses with 75', async () => {
    const { sync, holder, report, outDir } = await engineRunning();

    const refused = report('refused', ['--no-wait']);
    const exit = await refused.exited(30_000);
    expect(exit.code, refused.stderr()).toBe(75);
    expect(refused.stderr()).toContain(`Another sync engine is running on`);
    expect(refused.stderr()).toContain(`pid ${holder} on ${hostname()}`);
    expect(refused.stderr()).toContain('without --no-wait');
    expect(refused.stderr()).not.toMatch(stackLine);
    expect(existsSync(outDir('refused')), 'nothing written').toBe(false);

    const waiting = report('waited', ['--json']);
    const said = await waiting.waitFor(/^Waiting for the data folder/, 30_000);
    expect(said).toContain(`pid ${holder}`);
    expect(said).toContain('Ctrl+C stops waiting');
    expect(existsSync(outDir('waited')), 'nothing written while it waits').toBe(false);
    // The engine keeps syncing meanwhile: the report did not take the folder from under it.
    const cyclesBefore = jsonLines(sync.stdout()).length;
    await sync.waitFor(new RegExp(`^\\{.*"ran"`), 10_000);
    expect(sync.isRunning()).toBe(true);

    process.kill(sync.pid, 'SIGTERM');
    expect(await sync.exited(15_000)).toMatchObject({ code: 0 });
    const done = await waiting.exited(60_000);
    expect(done.code, waiting.stderr()).toBe(0);
    expect(waiting.stderr()).not.toMatch(stackLine);
    expect(waiting.stderr()).not.toContain('database is locked');
    const [result] = jsonLines(waiting.stdout()) as { period: string; files: { name: string }[]; returns: { opened: number } }[];
    expect(result?.period).toBe(period);
    // What the engine synced before it stopped is in the report.
    expect(result?.returns.opened).toBeGreaterThan(0);
    expect(cyclesBefore).toBeGreaterThan(0);
    expect(readdirSync(outDir('waited')).sort()).toEqual((result?.files ?? []).map((f) => f.name).sort());
    expect(readdirSync(outDir('waited'))).toContain(`returns-report-${period}.pdf`);
  }, 120_000);

  it('Ctrl+C while waiting stops with exit 130, a sentence and nothing written', async () => {
    const { report, outDir } = await engineRunning();
    const waiting = report('stopped');
    await waiting.waitFor(/^Waiting for the data folder/, 30_000);
    process.kill(-waiting.pid, 'SIGINT');
    const exit = await waiting.exited(15_000);
    expect(waiting.stderr()).toContain('Stopped waiting for the data folder: no report was written.');
    expect(waiting.stderr()).not.toMatch(stackLine);
    // npm ends itself with the signal its script stopped on, as in a terminal; run directly, the CLI exits 130.
    expect(exit.code === 130 || exit.signal === 'SIGINT', JSON.stringify(exit)).toBe(true);
    expect(existsSync(outDir('stopped'))).toBe(false);
  }, 90_000);
});
