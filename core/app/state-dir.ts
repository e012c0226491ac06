import { homedir } from 'node:os';
import { join } from 'node:path';

// Kept apart from core/cli/paths.ts (which finds the repository from its own file) so the desktop app's main process
// can use it as it is.

export const productName = 'Returns Workbench';

/**
 * This machine's per-user state folder, outside the data folder (so no backup of the data folder carries it): where
 * engines record how far each database went, to notice a whole data folder put back from a backup
 * (core/store/lease-marker.ts). `RW_STATE_DIR` overrides it; tests always give one of their own.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.RW_STATE_DIR) return env.RW_STATE_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), productName, 'State');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', `${productName} State`);
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'returns-workbench');
}
