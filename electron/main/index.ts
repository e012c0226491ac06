import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { createKeytarSecretStore } from '../../core/adapters/keytar-secrets';
import { createLogger, fileSink } from '../../core/adapters/logger';
import { localActor, systemClock, systemIds } from '../../core/adapters/system';
import { bootCore, type Core } from '../../core/app/create-core';
import { ipcChannels } from '../../core/contract';
import { bindIpc } from './ipc';
import { isAllowedExternal, isAppUrl } from './navigation';
import { mainWindowOptions } from './window-options';

// Main stays thin: it boots core, binds the contract to IPC and keeps the window locked to the app's own page.

app.setName('Returns Workbench');
let mainWindow: BrowserWindow | null = null;
let core: Core | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });
  app.whenReady().then(start, (error: unknown) => fail(error));
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => core?.close());
}

async function start(): Promise<void> {
  const dataDir = app.getPath('userData');
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const log = createLogger({ clock: systemClock, sink: fileSink(join(dataDir, 'logs', 'workbench.log')) });
  try {
    core = await bootCore({
      dataDir,
      migrationsDir: join(app.getAppPath(), 'core', 'store', 'migrations'),
      mappingsDir: join(app.getAppPath(), 'mappings'),
      clock: systemClock,
      ids: systemIds,
      log,
      secrets: createKeytarSecretStore(),
      actor: localActor(),
      appVersion: app.getVersion(),
      ...(process.env.RW_SQLITE_BINDING ? { nativeBinding: process.env.RW_SQLITE_BINDING } : {}),
    });
  } catch (error) {
    return fail(error);
  }

  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const rendererFile = join(import.meta.dirname, '../renderer/index.html');
  const appUrl = pathToFileURL(rendererFile).href;
  const window = new BrowserWindow(mainWindowOptions(join(import.meta.dirname, '../preload/index.cjs')));
  mainWindow = window;

  bindIpc(ipcMain, core.dispatch, (url) => isAppUrl(url, appUrl));
  core.events.onAny((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(ipcChannels.event, name, payload);
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    mainWindow = null;
  });
  await window.loadFile(rendererFile);
}

function fail(error: unknown): void {
  dialog.showErrorBox('Returns Workbench cannot start', (error as Error).message ?? String(error));
  app.exit(1);
}
