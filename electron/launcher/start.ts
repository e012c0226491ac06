import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../core/cli/paths';
import { announce, reportFatal, startBrowserMode, stopOnSignal } from '../../core/cli/web';
import { findElectron } from './electron-runtime';
import { ensureElectronSqlite } from './native-sqlite';

// `npm start`: build and launch the desktop app, or, where Electron cannot run, say why and open browser mode.

function build(): void {
  const result = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('electron-vite build failed; see the output above.');
}

async function main(): Promise<void> {
  const runtime = findElectron();
  build();
  if (!runtime.isAvailable) {
    process.stdout.write(`\nThe desktop window cannot open here: ${runtime.reason}.\nStarting browser mode instead.\n`);
    const running = await startBrowserMode();
    announce(running);
    stopOnSignal(running);
    return;
  }
  const binding = ensureElectronSqlite(repoRoot, runtime.version, (l) => process.stdout.write(l + '\n'));
  const child = spawn(runtime.binary, [repoRoot], { stdio: 'inherit', env: { ...process.env, RW_SQLITE_BINDING: binding } });
  child.on('exit', (code) => process.exit(code ?? 0));
}

main().catch(reportFatal);
