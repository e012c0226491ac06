import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { createKeytarSecretStore, SecretStoreUnavailableError } from './keytar-secrets';

// The real keychain path: keytar → libsecret → the Secret Service on a D-Bus session bus. CI has no desktop
// session, so the test makes one of its own: a private bus (dbus-run-session) with a throw-away gnome-keyring,
// unlocked with a throw-away password, whose files live in a temp HOME/XDG tree removed afterwards. Nothing
// touches the real home, and the bus and the keyring daemon end with the child.

const root = fileURLToPath(new URL('../../', import.meta.url));
const child = join(root, 'test', 'desktop', 'keytar-child.ts');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = ['dbus-run-session', 'gnome-keyring-daemon'].filter((b) => !onPath(b));
if (missing.length > 0) {
  console.warn(`SKIPPED keychain round trip: ${missing.join(' and ')} not installed (bash .ci/install installs dbus-daemon and gnome-keyring).`);
}

/** An environment with only what the child needs: no session bus, no display, a throw-away home. */
function isolatedEnv(home: string): NodeJS.ProcessEnv {
  const dirs = { HOME: 'home', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', XDG_CONFIG_HOME: 'config', XDG_RUNTIME_DIR: 'run' };
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const [key, dir] of Object.entries(dirs)) {
    const path = join(home, dir);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    env[key] = path;
  }
  return env;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 20_000 }, (error, stdout, stderr) => resolve({ stdout, stderr: `${stderr}${error ? `\n${error.message}` : ''}` }));
  });
}

const lastJsonLine = (text: string): Record<string, unknown> => {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`the child printed no result:\n${text}`);
  return JSON.parse(line) as Record<string, unknown>;
};

describe('keytar SecretStore against a real Secret Service', () => {
  let temp: ReturnType<typeof makeTempDir> | null = null;
  afterEach(() => {
    temp?.remove();
    temp = null;
  });

  it.skipIf(missing.length > 0)('sets, reads and deletes a credential in an unlocked throw-away keyring', async () => {
    temp = makeTempDir('rw-keyring-');
    const env = { ...isolatedEnv(temp.dir), RW_KEYRING_PASSWORD: `throwaway-${process.pid}` };
    const secret = `mk-${Date.now().toString(36)}-not-real`;
    const script =
      'printf "%s" "$RW_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && ' +
      'exec "$0" --import "$1" "$2" "Returns Workbench (test)" "$3"';
    const result = await run('dbus-run-session', ['--', 'sh', '-c', script, process.execPath, tsx, child, secret], env);

    expect(lastJsonLine(result.stdout), result.stderr).toEqual({ read: secret, deleted: true, afterDelete: null, deletedAgain: false });
    // The keyring really was the throw-away one: its files are in the temp tree, not in anybody's home.
    expect(readdirSync(join(temp.dir, 'data', 'keyrings')).length).toBeGreaterThan(0);
  });

  it('without any keychain, fails fast with the message that says how to fix it', async () => {
    temp = makeTempDir('rw-nokeyring-');
    const started = Date.now();
    const result = await run(process.execPath, ['--import', tsx, child, 'Returns Workbench (test)', 'unused-secret'], isolatedEnv(temp.dir));
    const outcome = lastJsonLine(result.stdout);
    expect(outcome.error).toBe('SecretStoreUnavailableError');
    expect(outcome.message).toMatch(/^The OS keychain is not available, so credentials cannot be stored \(.+\)\./);
    expect(outcome.message).toMatch(/install and unlock a Secret Service keyring \(for example gnome-keyring/);
    expect(outcome.message).toMatch(/Sandbox mode works without credentials\.$/);
    expect(outcome.message).not.toContain('unused-secret');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('turns a keytar that cannot load into the same clear error, for every operation', async () => {
    const store = createKeytarSecretStore('Returns Workbench (test)', async () => {
      throw new Error('libsecret-1.so.0: cannot open shared object file');
    });
    for (const attempt of [() => store.get('a'), () => store.set('a', 'b'), () => store.delete('a')]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretStoreUnavailableError);
      expect((error as Error).message).toContain('keytar could not load: libsecret-1.so.0');
    }
  });
});
