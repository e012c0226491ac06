import type { BrowserWindowConstructorOptions } from 'electron';
import type { Rect } from './window-state';

// The renderer is untrusted web content: sandboxed, isolated from the preload's world, and without Node. A team
// server's page (preloadPath null) gets no preload at all: the IPC bridge to a local core is never exposed to a page
// from the network, which talks to its own server over HTTPS instead.
export function mainWindowOptions(preloadPath: string | null, bounds?: Rect): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    ...(bounds ?? {}),
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Returns Workbench',
    autoHideMenuBar: true,
    backgroundColor: '#ffffff',
    webPreferences: {
      ...(preloadPath === null ? {} : { preload: preloadPath }),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}
