import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// `npm test`: every layer that can run on this machine, in order, then one closing line that CI reads:
// `N passed, N failed, N skipped`. Gates (typecheck, lint, build) count as one check each.

const root = new URL('../', import.meta.url).pathname;
const bin = (pkg: string, file: string) => join(root, 'node_modules', pkg, file);
const results = join(root, 'test-results');

interface Tally {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  note?: string;
}
const tallies: Tally[] = [];

function run(label: string, args: string[], env: NodeJS.ProcessEnv = {}): boolean {
  process.stdout.write(`\n── ${label} ──\n`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

function gate(name: string, ok: boolean, note?: string): void {
  tallies.push({ name, passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0, ...(note ? { note } : {}) });
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

gate(
  'typecheck',
  run('typecheck (node)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json', '--noEmit']) &&
    run('typecheck (renderer)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.web.json', '--noEmit']),
);
gate('lint', run('lint', [bin('eslint', 'bin/eslint.js'), '--max-warnings', '0', '.']));

const built = run('electron-vite build', [bin('electron-vite', 'bin/electron-vite.js'), 'build']);
const bundles = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const missing = bundles.filter((b) => !existsSync(join(root, b)));
gate('build', built && missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : undefined);

run('unit, integration and contract tests (vitest)', [
  bin('vitest', 'vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${join(results, 'vitest.json')}`,
]);
const vitest = readJson<{ numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }>(
  join(results, 'vitest.json'),
);
tallies.push(
  vitest
    ? { name: 'vitest', passed: vitest.numPassedTests, failed: vitest.numFailedTests, skipped: vitest.numPendingTests + vitest.numTodoTests }
    : { name: 'vitest', passed: 0, failed: 1, skipped: 0, note: 'vitest wrote no report' },
);

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  tallies.push({ name: 'playwright', passed: 0, failed: 1, skipped: 0, note: `no Chromium at ${chromium} (apt-get install chromium)` });
} else if (!built) {
  tallies.push({ name: 'playwright', passed: 0, failed: 1, skipped: 0, note: 'not run: the build failed' });
} else {
  run('browser end-to-end tests (Playwright, Debian Chromium)', [bin('@playwright/test', 'cli.js'), 'test']);
  const pw = readJson<{ stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>(join(results, 'playwright.json'));
  tallies.push(
    pw
      ? { name: 'playwright', passed: pw.stats.expected, failed: pw.stats.unexpected + pw.stats.flaky, skipped: pw.stats.skipped }
      : { name: 'playwright', passed: 0, failed: 1, skipped: 0, note: 'Playwright wrote no report' },
  );
}

const total = tallies.reduce((t, x) => ({ passed: t.passed + x.passed, failed: t.failed + x.failed, skipped: t.skipped + x.skipped }), {
  passed: 0,
  failed: 0,
  skipped: 0,
});
process.stdout.write('\n── summary ──\n');
for (const t of tallies) {
  process.stdout.write(`${t.name.padEnd(12)} ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${t.note ? ` (${t.note})` : ''}\n`);
}
const ranNothing = total.passed + total.failed === 0;
if (ranNothing) process.stdout.write('No test ran: that counts as a failure.\n');
process.stdout.write(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(total.failed > 0 || ranNothing ? 1 : 0);
