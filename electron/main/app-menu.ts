import type { MenuItemConstructorOptions } from 'electron';

// The application menu. File › Open Evidence Bundle… shows a month-end bundle read-only in the window (the core
// process is rebooted on it), and File › Back to My Data returns to the app's own database and sync. Pure data plus
// the click handlers main passes in, so what the menu offers in each state is tested under Node.

export interface AppMenuInput {
  /** The bundle the window shows, or null when it shows the app's own data. */
  bundleFile: string | null;
  isMac: boolean;
  openBundle: () => void;
  backToOwnData: () => void;
  /** The team server this desktop is the client of, or null when it works alone. */
  teamServer?: string | null;
  disconnect?: () => void;
}

export function appMenuTemplate(input: AppMenuInput): MenuItemConstructorOptions[] {
  const close: MenuItemConstructorOptions = input.isMac ? { role: 'close' } : { role: 'quit' };
  // A team server's client has no data of its own to show a bundle beside: its one file action is to go back to
  // working alone (main removes the team server's config and relaunches).
  const file: MenuItemConstructorOptions = input.teamServer
    ? {
        label: 'File',
        submenu: [
          { id: 'team-server', label: `Connected to ${input.teamServer}`, enabled: false },
          { id: 'disconnect', label: 'Disconnect (use this computer alone)', click: input.disconnect },
          { type: 'separator' },
          close,
        ],
      }
    : {
        label: 'File',
        submenu: [
          { id: 'open-bundle', label: 'Open Evidence Bundle…', accelerator: 'CmdOrCtrl+O', click: input.openBundle },
          { id: 'own-data', label: 'Back to My Data', enabled: input.bundleFile !== null, click: input.backToOwnData },
          { type: 'separator' },
          close,
        ],
      };
  return [...(input.isMac ? [{ role: 'appMenu' } as const] : []), file, { role: 'editMenu' }, { role: 'windowMenu' }];
}

/** Only files that can be evidence bundles are offered in the open dialog. */
export const bundleDialogFilters = [{ name: 'Evidence bundle', extensions: ['zip'] }];
