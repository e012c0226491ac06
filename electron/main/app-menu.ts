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
}

export function appMenuTemplate(input: AppMenuInput): MenuItemConstructorOptions[] {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { id: 'open-bundle', label: 'Open Evidence Bundle…', accelerator: 'CmdOrCtrl+O', click: input.openBundle },
      { id: 'own-data', label: 'Back to My Data', enabled: input.bundleFile !== null, click: input.backToOwnData },
      { type: 'separator' },
      input.isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  return [...(input.isMac ? [{ role: 'appMenu' } as const] : []), file, { role: 'editMenu' }, { role: 'windowMenu' }];
}

/** Only files that can be evidence bundles are offered in the open dialog. */
export const bundleDialogFilters = [{ name: 'Evidence bundle', extensions: ['zip'] }];
