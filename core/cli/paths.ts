import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { productName } from '../app/state-dir';

export { productName };

/** The same folder Electron's app.getPath('userData') gives, so browser mode and the desktop app share data. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.RW_DATA_DIR) return env.RW_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), productName);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', productName);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), productName);
}

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const builtRendererDir = join(repoRoot, 'out', 'renderer');
