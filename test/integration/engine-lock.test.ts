import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { systemClock, systemIds, systemRandom } from '../../core/adapters/system';
import { startWorkbench, type Workbench } from '../../core/app/workbench';
import type { Result } from '../../core/contract';
import type { Logger } from '../../core/ports';
import type { Sandbox } from '../../core/sandbox/index';
import { acquireFolderLock, lockDirName } from '../../core/store/folder-lock';
import { sourceMigrationsDir } from '../../core/store/paths';
import { enginePid, jsonLines, startNpm, startStandalone, type CliRun } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';

// One engine per data folder (DESIGN.md), between real processes: two `npm run sync` in live mode against one
// standalone sandbox, on one data folder. The second refuses and names the first (pid, host, command, since when),
// or waits with --wait and starts once the first has stopped. A holder killed with SIGKILL cannot release its lock:
// the next engine takes the folder over once the lock has gone stale, and says so. The hosts with a window (the
// desktop app, browser mode) do not refuse: they open with the data on view, say who holds the folder, and start
// syncing by themselves once it is free.

const entry = 'core/cli/sync.ts';
const runs: CliRun[] = [];
let temp: ReturnType<typeof makeTempDir> | null = null;
let standalone: Sandbox | null = null;

let workbench: Workbench | null = null;

afterEach(async () => {
  for (const run of runs.splice(0)) run.killGroup();
  await workbench?.close();
  workbench = null;
  await standalone?.close();
  standalone = null;
  temp?.remove();
  temp = null;
});

async function setup() {
  temp = makeTempDir('rw-lock-');
  const live = await startStandalone(temp.dir);
  standalone = live.sandbox;
  const args = ['--watch', '--config', live.configFile, '--data-dir', join(temp.dir, 'data')];
  const start = (extra: string[] = []) => {
    const run = startNpm('sync', [...args, ...extra], live.env);
    runs.push(run);
    return run;
  };
  return { start };
}

const cycleLine = /^\{.*"ran"/;

describe('one sync engine per data folder', () => {
  it('a second `npm run sync` refuses and names the first; with --wait it starts once the first stops', async () => {
    const { start } = await setup();
    const first = start();
    await first.waitFor(cycleLine, 25_000);
    const holder = enginePid(first.pid, entry);
    expect(holder).not.toBeNull();

    const second = start();
    const refused = await second.exited(15_000);
    expect(refused.code, second.stderr()).toBe(75);
    expect(jsonLines(second.stdout()), 'the second engine ran a cycle').toEqual([]);
    const said = second.stderr();
    expect(said).toMatch(/Another sync engine is running on .*data/);
    expect(said).toContain(`pid ${holder} on ${hostname()}`);
    expect(said).toMatch(/since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(said).toContain('npm run sync -- --watch --config');
    expect(said).toContain('--wait');

    const waiting = start(['--wait']);
    await waiting.waitFor(new RegExp(`Waiting for .*pid ${holder}`), 15_000);
    expect(jsonLines(waiting.stdout())).toEqual([]);
    const stoppedAt = Date.now();
    process.kill(first.pid, 'SIGTERM');
    expect(await first.exited(10_000)).toMatchObject({ code: 0 });
    await waiting.waitFor(/^Sync engine started on /, 10_000);
    const startedMs = Date.now() - stoppedAt;
    await waiting.waitFor(cycleLine, 15_000);
    process.kill(waiting.pid, 'SIGTERM');
    expect(await waiting.exited(10_000)).toMatchObject({ code: 0 });
    console.info(JSON.stringify({ waitedEngineStartedMsAfterSigterm: startedMs }));
  }, 60_000);

  it('a holder killed with SIGKILL: the next engine takes the folder over once the lock is stale, and says so', async () => {
    const { start } = await setup();
    const first = start();
    await first.waitFor(cycleLine, 25_000);
    const holder = enginePid(first.pid, entry);
    if (holder === null) throw new Error('no engine process found');
    process.kill(holder, 'SIGKILL');
    const killedAt = Date.now();
    await first.exited(5_000);

    const next = start();
    const tookOver = await next.waitFor(/^Took over /, 25_000);
    const takeoverMs = Date.now() - killedAt;
    expect(tookOver).toContain(`pid ${holder}`);
    expect(next.stderr()).toMatch(new RegExp(`pid ${holder} .*is no longer running`));
    expect(jsonLines(next.stdout()), 'a cycle ran before the takeover').toEqual([]);
    await next.waitFor(cycleLine, 15_000);
    process.kill(next.pid, 'SIGTERM');
    expect(await next.exited(10_000)).toMatchObject({ code: 0 });
    console.info(JSON.stringify({ staleLockTakenOverMsAfterSigkill: takeoverMs }));
  }, 60_000);

  it('the desktop app and browser mode wait instead: the data on view, the holder named, syncing once it is free', async () => {
    temp = makeTempDir('rw-lock-');
    const live = await startStandalone(temp.dir);
    standalone = live.sandbox;
    const dataDir = join(temp.dir, 'data');
    // Another process's engine holds the folder, as `npm run sync -- --watch` would.
    const other = await acquireFolderLock(dataDir, { command: 'npm run sync -- --watch' });
    const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const wb = await startWorkbench({
      dataDir,
      migrationsDir: sourceMigrationsDir,
      clock: systemClock,
      random: systemRandom,
      ids: systemIds,
      log: quiet,
      secrets: createMemorySecretStore(),
      actor: 'tester',
      appVersion: '0.0.0-test',
      sandbox: { webhooks: false, warmupSeconds: 0, caughtUpDays: 0, speed: 1, tickMs: 0 },
      idleMs: { live: 50, sandbox: 50 },
    });
    workbench = wb;
    const saved = (await wb.dispatch('settings.saveConnections', {
      mirakl: { baseUrl: live.sandbox.mirakl.baseUrl, shopId: live.sandbox.mirakl.shopId },
      rebound: { baseUrl: live.sandbox.rebound.baseUrl, clientId: live.sandbox.rebound.clientId },
      secrets: { miraklApiKey: live.sandbox.mirakl.apiKey, reboundClientSecret: live.sandbox.rebound.clientSecret },
    })) as Result<{ mode: string; message: string }>;
    expect(saved).toMatchObject({ ok: true, data: { mode: 'live' } });
    const holderNamed = `pid ${process.pid} on ${hostname()}, since ${other.holder.since.slice(0, 10)}`;
    if (saved.ok) expect(saved.data.message).toContain(`The sync service did not start: Another sync engine is running on ${dataDir}: ${holderNamed}`);
    expect(wb.sync).toBeNull();
    const status = (await wb.dispatch('sync.status', {})) as Result<{ state: string; lastError: string | null }>;
    expect(status).toMatchObject({ ok: true, data: { state: 'stopped', lastError: expect.stringContaining('npm run sync -- --watch') as unknown } });
    expect(await wb.dispatch('dashboard.kpis', {})).toMatchObject({ ok: true });

    await other.release();
    await until(() => (wb.sync?.status().cycles ?? 0) > 0, 15_000);
    const after = (await wb.dispatch('sync.status', {})) as Result<{ lastError: string | null }>;
    expect(after).toMatchObject({ ok: true, data: { lastError: null } });
    await wb.close();
    workbench = null;
    expect(existsSync(join(dataDir, lockDirName)), 'the folder is free after the app closed').toBe(false);
  }, 60_000);
});

async function until(probe: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
