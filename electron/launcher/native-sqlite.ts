import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// better-sqlite3 is compiled for one ABI. Tests run it under Node; the desktop app needs a copy compiled for
// Electron. That copy lives apart in .native/, so `npm test` and `npm start` never overwrite each other's build.

export function electronSqlitePath(root: string, electronVersion: string): string {
  return join(root, '.native', `electron-${electronVersion}`, 'better_sqlite3.node');
}

export function ensureElectronSqlite(root: string, electronVersion: string, log: (line: string) => void): string {
  const target = electronSqlitePath(root, electronVersion);
  if (existsSync(target)) return target;
  const work = join(root, '.native', `build-${electronVersion}`);
  rmSync(work, { recursive: true, force: true });
  cpSync(join(root, 'node_modules', 'better-sqlite3'), work, { recursive: true, filter: (src) => !src.includes(`${join('better-sqlite3', 'build')}`) });
  log(`Building the database driver for Electron ${electronVersion} (once; it takes a minute or two)…`);
  const env = { ...process.env };
  delete env.npm_config_nodedir; // would point node-gyp at Node's headers instead of Electron's
  const prebuilt = spawnSync(process.execPath, [require_('prebuild-install/bin.js', root), '--runtime=electron', `--target=${electronVersion}`], {
    cwd: work,
    env,
    stdio: 'inherit',
  });
  if (prebuilt.status !== 0) {
    const gyp = process.env.npm_config_node_gyp ?? require_('node-gyp/bin/node-gyp.js', root);
    const built = spawnSync(
      process.execPath,
      [gyp, 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'],
      { cwd: work, env, stdio: 'inherit' },
    );
    if (built.status !== 0) throw new Error('Could not build better-sqlite3 for Electron; see the output above.');
  }
  mkdirSync(join(target, '..'), { recursive: true });
  copyFileSync(join(work, 'build', 'Release', 'better_sqlite3.node'), target);
  rmSync(work, { recursive: true, force: true });
  return target;
}

function require_(path: string, root: string): string {
  return join(root, 'node_modules', path);
}
