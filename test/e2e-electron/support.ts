import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, test, type ElectronApplication, type Page } from '@playwright/test';
import type { Command, Input, Output, Result } from '../../core/contract';
import { findElectron } from '../../electron/launcher/electron-runtime';
import { ensureElectronSqlite } from '../../electron/launcher/native-sqlite';

// The desktop app itself (out/main/index.js, as `npm start` runs it) driven by Playwright's _electron. Where no
// Electron binary exists — the default install, and the project's CI machines — every spec is skipped with the
// reason printed, never silently. On a machine with Electron (RW_DESKTOP=1 bash .ci/install) and a display (or
// `xvfb-run npx playwright test --project electron`), they run.

const root = fileURLToPath(new URL('../../', import.meta.url));
export const runtime = findElectron();
export const skipReason = runtime.isAvailable ? null : `the desktop app cannot run here: ${runtime.reason}`;

/** Marks every test of the calling file skipped, with the reason, when Electron cannot run; prints it once. */
export function skipWithoutElectron(): void {
  if (skipReason) console.log(`[e2e-electron] SKIPPED: ${skipReason}`);
  test.skip(skipReason !== null, skipReason ?? '');
}

export interface DesktopApp {
  app: ElectronApplication;
  page: Page;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts the built app on a throw-away data folder, in Sandbox mode with sandbox time running fast. */
export async function launchDesktop(): Promise<DesktopApp> {
  if (!runtime.isAvailable) throw new Error(`Electron cannot run: ${runtime.reason}`);
  const binding = ensureElectronSqlite(root, runtime.version, (line) => console.log(line));
  const dataDir = mkdtempSync(join(tmpdir(), 'rw-e2e-electron-'));
  // Chromium's own sandbox needs user namespaces, which containers running as root often lack.
  const args = process.platform === 'linux' && process.getuid?.() === 0 ? ['--no-sandbox', root] : [root];
  const app = await electron.launch({
    executablePath: runtime.binary,
    args,
    env: { ...process.env, RW_DATA_DIR: dataDir, RW_SQLITE_BINDING: binding, RW_SANDBOX_SPEED: '18000' },
    timeout: 60_000,
  });
  const page = await app.firstWindow();
  return {
    app,
    page,
    dataDir,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A contract call through the preload's window.api, exactly as the renderer makes it. */
export async function call<K extends Command>(page: Page, command: K, input: Input<K>): Promise<Output<K>> {
  const result = (await page.evaluate(
    ([c, i]) => (globalThis as unknown as { api: { invoke(c: string, i: unknown): Promise<unknown> } }).api.invoke(c, i),
    [command, input] as const,
  )) as Result<Output<K>>;
  if (!result.ok) throw new Error(`${command} answered ${result.error.code}: ${result.error.message}`);
  return result.data;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
