import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { appPaths, packagedResources } from './paths';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface BuilderConfig {
  files: string[];
  extraResources: { from: string; to: string; filter?: string[] }[];
  asar: boolean;
  asarUnpack: string[];
  win: { target: { target: string }[] };
  mac: { target: { target: string }[] };
  linux: { target: { target: string }[] };
  directories: { buildResources: string };
}
const builder = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('where the desktop app finds its files', () => {
  it('from a source checkout, uses the repository itself', () => {
    const paths = appPaths({ isPackaged: false, appPath: root, resourcesPath: '/nowhere', bundleDir: join(root, 'out', 'main') });
    for (const dir of [paths.migrationsDir, paths.mappingsDir, paths.operationsGuide]) expect(existsSync(dir), dir).toBe(true);
    expect(readdirSync(paths.migrationsDir).some((f) => f.endsWith('.sql'))).toBe(true);
    expect(paths.coreEntry).toBe(join(root, 'out', 'main', 'core-process.js'));
    expect(paths.preload).toBe(join(root, 'out', 'preload', 'index.cjs'));
    expect(paths.rendererDir).toBe(join(root, 'out', 'renderer'));
  });

  it('installed, reads migrations, mappings and the guide from resources/, where electron-builder puts them', () => {
    const paths = appPaths({ isPackaged: true, appPath: '/opt/rw/resources/app.asar', resourcesPath: '/opt/rw/resources', bundleDir: '/opt/rw/resources/app.asar/out/main' });
    expect(paths).toMatchObject({
      migrationsDir: '/opt/rw/resources/migrations',
      mappingsDir: '/opt/rw/resources/mappings',
      operationsGuide: '/opt/rw/resources/OPERATIONS-GUIDE.md',
      coreEntry: '/opt/rw/resources/app.asar/out/main/core-process.js',
    });
    const copied = new Map(builder.extraResources.map((r) => [r.to, r]));
    for (const name of Object.values(packagedResources)) {
      const resource = copied.get(name);
      expect(resource, `electron-builder.yml extraResources must copy something to ${name}`).toBeDefined();
      expect(existsSync(join(root, resource?.from ?? '')), `${resource?.from} exists`).toBe(true);
    }
  });
});

describe('electron-builder.yml', () => {
  it('builds nsis, dmg, AppImage and deb installers', () => {
    expect(builder.win.target.map((t) => t.target)).toEqual(['nsis']);
    expect(builder.mac.target.map((t) => t.target)).toEqual(['dmg']);
    expect(builder.linux.target.map((t) => t.target).sort()).toEqual(['AppImage', 'deb']);
  });

  it('keeps the native modules out of the asar archive, and packs the built bundles', () => {
    expect(builder.asar).toBe(true);
    expect(builder.asarUnpack).toEqual(expect.arrayContaining(['**/*.node', 'node_modules/better-sqlite3/**', 'node_modules/keytar/**']));
    expect(builder.files).toContain('out/**');
    expect(existsSync(join(root, builder.directories.buildResources, 'icon.png'))).toBe(true);
  });

  it('ships every mapping file and every migration the app knows', () => {
    const mappings = builder.extraResources.find((r) => r.to === packagedResources.mappingsDir);
    const migrations = builder.extraResources.find((r) => r.to === packagedResources.migrationsDir);
    const matches = (filter: string[] | undefined, file: string) =>
      !filter || filter.some((f) => (f.startsWith('*.') ? file.endsWith(f.slice(1)) : file === f));
    for (const file of readdirSync(join(root, 'mappings')).filter((f) => f.endsWith('.yaml'))) expect(matches(mappings?.filter, file), file).toBe(true);
    for (const file of readdirSync(join(root, 'core', 'store', 'migrations'))) expect(matches(migrations?.filter, file), file).toBe(true);
  });
});
