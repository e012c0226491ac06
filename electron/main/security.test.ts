import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Security regression checks over the shell's source and the built bundles: every window is made from the one
// options function (sandboxed, isolated, no Node), and nothing anywhere turns those protections off.

const root = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return (readdirSync(join(root, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(root, dir, f));
}

const weakeners = [
  /sandbox:\s*false/,
  /contextIsolation:\s*false/,
  /nodeIntegration(InWorker|InSubFrames)?:\s*(true|!0)/,
  /webSecurity:\s*(false|!1)/,
  /webviewTag:\s*(true|!0)/,
  /allowRunningInsecureContent:\s*(true|!0)/,
  /enableRemoteModule/,
  /@electron\/remote/,
];

describe('security regressions', () => {
  it('every window is built from mainWindowOptions', () => {
    const windows = sources('electron').flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/new BrowserWindow\(([^)]*)/g)].map((m) => ({ file, argument: m[1] ?? '' })),
    );
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) expect(w.argument, w.file).toMatch(/^mainWindowOptions\(/);
  });

  it('nothing in the shell, source or built, turns off the sandbox, isolation or web security', () => {
    const built = ['out/main', 'out/preload'].flatMap((dir) =>
      existsSync(join(root, dir))
        ? (readdirSync(join(root, dir), { recursive: true }) as string[]).filter((f) => /\.(c|m)?js$/.test(f)).map((f) => join(root, dir, f))
        : [],
    );
    expect(built.length, 'out/ is missing: run `npm run build` first').toBeGreaterThan(0);
    for (const file of [...sources('electron'), ...built]) {
      const text = readFileSync(file, 'utf8');
      for (const pattern of weakeners) expect(pattern.test(text), `${pattern} in ${file}`).toBe(false);
    }
  });

  it('the built main process keeps its guards: one instance, no new windows, no navigation away, core off main', () => {
    const main = readFileSync(join(root, 'out', 'main', 'index.js'), 'utf8');
    for (const guard of ['requestSingleInstanceLock', 'setWindowOpenHandler', 'will-navigate', 'will-attach-webview', 'setPermissionRequestHandler', 'utilityProcess']) {
      expect(main, guard).toContain(guard);
    }
    expect(existsSync(join(root, 'out', 'main', 'core-process.js'))).toBe(true);
    // The database and the keychain live in the core's process, never in main.
    expect(main).not.toMatch(/from ["'](better-sqlite3|keytar)["']/);
  });
});
