import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Starts browser mode through the real CLI, exactly as `npm run web` does, on a throw-away data directory, in
// Sandbox mode. Sandbox time runs 18,000× real time (5 hours a second) so the world produces returns and every
// common exception within the first ~20 s of the run; the tests wait for what they need with bounded polls.
// The tests read the address from the environment the workers inherit.
const e2eSandboxSpeed = 18_000;

export default async function globalSetup(): Promise<() => Promise<void>> {
  const root = new URL('../../', import.meta.url).pathname;
  if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
    throw new Error('The renderer has not been built: run `npm run build` (npm test does it for you).');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'rw-e2e-'));
  // The per-user state folder (RW_STATE_DIR) every process of the run inherits: never this machine's real one.
  const stateDir = mkdtempSync(join(tmpdir(), 'rw-e2e-state-'));
  process.env.RW_STATE_DIR = stateDir;
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'core', 'cli', 'web.ts'), '--json', '--data-dir', dataDir, '--speed', String(e2eSandboxSpeed)],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const started = await new Promise<{ url: string; token: string; port: number; sandbox: { mirakl: string; rebound: string } | null }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`browser mode exited with ${code} before it was ready`)));
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(JSON.parse(line)));
  });
  process.env.RW_E2E_URL = started.url;
  process.env.RW_E2E_ORIGIN = `http://127.0.0.1:${started.port}`;
  process.env.RW_E2E_DATA_DIR = dataDir;
  // The sandbox's own Mirakl address, for its test hooks (call counters, faults).
  if (started.sandbox) process.env.RW_E2E_SANDBOX_MIRAKL = started.sandbox.mirakl;
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  };
}
