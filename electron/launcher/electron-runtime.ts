import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export type ElectronRuntime = { isAvailable: true; binary: string; version: string } | { isAvailable: false; reason: string };

// Electron's npm package resolves to the path of its binary, and throws when the binary was never downloaded
// (ELECTRON_SKIP_BINARY_DOWNLOAD, or no internet at install time). A Linux machine also needs a display.
export function findElectron(env: NodeJS.ProcessEnv = process.env, platform = process.platform, require = createRequire(import.meta.url)): ElectronRuntime {
  let binary: string;
  try {
    binary = require('electron') as string;
  } catch (error) {
    const message = (error as Error).message;
    if (/failed to install correctly/.test(message)) {
      return {
        isAvailable: false,
        reason:
          'the Electron binary was not downloaded when the app was installed (the default here; on a machine that can ' +
          'download it, reinstall with `RW_DESKTOP=1 bash .ci/install`)',
      };
    }
    return { isAvailable: false, reason: `Electron could not be loaded (${message})` };
  }
  if (!existsSync(binary)) return { isAvailable: false, reason: `the Electron binary is missing at ${binary}` };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { isAvailable: false, reason: 'there is no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  const version = (require('electron/package.json') as { version: string }).version;
  return { isAvailable: true, binary, version };
}
