import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/adapters/logger';
import { commands } from '../../core/contract';
import { shippedMappingsDir } from '../../core/mappings/load';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { engineV8Flags } from '../../core/app/engine-process';
import { forkLauncher } from '../main/fork-launcher';
import { createSupervisor, type ChildHandle, type Supervisor, type SupervisorState } from '../main/supervisor';

// The real core process (electron/core-process/index.ts, the file Electron starts as a utility process), started
// by the real supervisor through child_process.fork instead of utilityProcess: handshake, commands, events, a crash
// and its restart, and a clean quit.

const root = fileURLToPath(new URL('../../', import.meta.url));
const entry = join(root, 'electron', 'core-process', 'index.ts');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the core process under its supervisor', () => {
  const temp = makeTempDir('rw-core-process-');
  const events: string[] = [];
  const states: SupervisorState[] = [];
  const children: ChildHandle[] = [];
  let supervisor: Supervisor;

  beforeAll(() => {
    // No session bus: the child must never reach a real keychain; without one it runs in Sandbox mode.
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const launch = forkLauncher(entry, { execArgv: [...engineV8Flags, '--import', tsx], env });
    supervisor = createSupervisor({
      launch: () => {
        const child = launch();
        children.push(child);
        return child;
      },
      config: { dataDir: temp.dir, migrationsDir: sourceMigrationsDir, mappingsDir: shippedMappingsDir, appVersion: '9.9.9-test' },
      log: silentLogger,
      onEvent: (name) => events.push(name),
      onStateChange: (state) => states.push(state),
      readyTimeoutMs: 30_000,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    supervisor.start();
  });

  afterAll(async () => {
    if (supervisor.state !== 'stopped') await supervisor.shutdown(2_000);
    temp.remove();
  });

  it('completes the ready handshake and serves the contract', async () => {
    const info = await supervisor.invoke('app.info', {});
    expect(info).toMatchObject({ ok: true, data: { name: 'Returns Workbench', version: '9.9.9-test', mode: 'sandbox' } });
    expect(states.slice(0, 2)).toEqual(['starting', 'ready']);
  });

  it('knows every command of the contract (the child validates too: bad input is VALIDATION, never NOT_FOUND)', async () => {
    for (const command of Object.keys(commands)) {
      expect(await supervisor.invoke(command, 42), command).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    }
    expect(await supervisor.invoke('no.such', {})).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('runs sync in the background and forwards its events', async () => {
    await until('a sync event', () => events.includes('sync.progressed') || events.includes('sync.stateChanged'));
    const status = await supervisor.invoke('sync.status', {});
    expect(status).toMatchObject({ ok: true, data: { mode: 'sandbox' } });
    expect(['idle', 'running']).toContain((status as { data: { state: string } }).data.state);
  });

  it('restarts the core after it is killed, and serves again', async () => {
    const before = (await supervisor.invoke('app.info', {})) as { ok: true; data: { startedAt: string } };
    const pid = children[0]?.pid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid as number, 'SIGKILL');
    await until('a restart', () => supervisor.state === 'restarting' || children.length > 1);
    const after = (await supervisor.invoke('app.info', {})) as { ok: true; data: { startedAt: string } };
    expect(after.ok).toBe(true);
    expect(children).toHaveLength(2);
    // A new process answered: the sandbox clock may give it the very startedAt of the one killed, its pid differs.
    expect(children[1]?.pid).toBeTypeOf('number');
    expect(children[1]?.pid).not.toBe(pid);
    expect(before.ok).toBe(true);
    expect(states).toContain('restarting');
  });

  it('quits cleanly: the cycle in flight finishes, nothing is left in flight, the process exits', async () => {
    const outcome = await supervisor.shutdown(15_000);
    expect(outcome).toEqual({ report: { isDrained: true, interrupted: 0 }, wasKilled: false });
    expect(supervisor.state).toBe('stopped');
    const pid = children[1]?.pid as number;
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
