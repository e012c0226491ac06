import { join } from 'node:path';

// Where the desktop app finds its files. From a source checkout (`npm start`) they are in the repository; in an
// installed app, the files people may need to read or that core reads at run time (mappings, migrations, the
// operations guide) are plain files beside the app (electron-builder.yml `extraResources`), and the bundles are in
// app.asar. Paths are decided here, in main, and passed to the core's process: core never asks Electron.

export interface AppPathsInput {
  isPackaged: boolean;
  /** app.getAppPath(): the repository root from source, `<resources>/app.asar` when installed. */
  appPath: string;
  /** process.resourcesPath. */
  resourcesPath: string;
  /** The folder of the main bundle (out/main). */
  bundleDir: string;
}

export interface AppPaths {
  migrationsDir: string;
  mappingsDir: string;
  operationsGuide: string;
  rendererDir: string;
  preload: string;
  coreEntry: string;
}

/** Folders under `resources/` in an installed app; electron-builder.yml must copy each of them there. */
export const packagedResources = {
  migrationsDir: 'migrations',
  mappingsDir: 'mappings',
  operationsGuide: 'OPERATIONS-GUIDE.md',
} as const;

export function appPaths(input: AppPathsInput): AppPaths {
  const bundles = {
    rendererDir: join(input.bundleDir, '..', 'renderer'),
    preload: join(input.bundleDir, '..', 'preload', 'index.cjs'),
    coreEntry: join(input.bundleDir, 'core-process.js'),
  };
  if (input.isPackaged) {
    return {
      migrationsDir: join(input.resourcesPath, packagedResources.migrationsDir),
      mappingsDir: join(input.resourcesPath, packagedResources.mappingsDir),
      operationsGuide: join(input.resourcesPath, packagedResources.operationsGuide),
      ...bundles,
    };
  }
  return {
    migrationsDir: join(input.appPath, 'core', 'store', 'migrations'),
    mappingsDir: join(input.appPath, 'mappings'),
    operationsGuide: join(input.appPath, 'core', 'exceptions', 'OPERATIONS-GUIDE.md'),
    ...bundles,
  };
}
