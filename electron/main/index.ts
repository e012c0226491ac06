import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  protocol,
  screen,
  session,
  shell,
  Tray,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron';
import { createLogger, fileSink } from '../../core/adapters/logger';
import { systemClock } from '../../core/adapters/system';
import { defaultStateDir } from '../../core/app/state-dir';
import { ipcChannels, isEventName, type ExceptionRow, type SyncStatus } from '../../core/contract';
import type { CoreBootConfig } from '../core-process/protocol';
import { appMenuTemplate, bundleDialogFilters } from './app-menu';
import { appEntryUrl, appOrigin, appResponseHeaders, appScheme, resolveAppAsset } from './app-protocol';
import { appWindowSender, bindIpc } from './ipc';
import { revealingDispatch } from './reveal';
import { isAllowedExternal, isAllowedRequest, isAppUrl, isTeamServerUrl } from './navigation';
import { certificateChangedDialog, checkPinned, verdicts } from './certificate-pin';
import { connectingDispatch } from './team-connect';
import { brokenConfigDialog, disconnectDialog, unreachableDialog } from './team-client-dialogs';
import { removeTeamServerConfig, setBrokenConfigAside, startupPlan, writeTeamServerConfig, type TeamServerConfig } from './team-server-config';
import { createNotifier, criticalExceptionsQuery, type DesktopNotice } from './notifier';
import { appPaths } from './paths';
import { createSupervisor, type SupervisorState } from './supervisor';
import { trayIconPng } from './tray-icon';
import { trayModel, type ServiceState, type TrayAction } from './tray-model';
import { utilityLauncher } from './utility-launcher';
import { mainWindowOptions } from './window-options';
import { fitToDisplays, readWindowState, writeWindowState } from './window-state';

// Main stays thin: it starts the core in a supervised utility process, binds the contract to IPC, keeps the window
// locked to the app's own page, and lives on in the tray so sync keeps running when the window is closed.
// Connected to a team server (team-server.json in the data folder), it does none of that: no core, no database, no
// tray; the window shows the server's own page, without the IPC bridge, over HTTPS to the one certificate pinned.
// Everything with logic in it is a pure module beside this file, tested under Node.

/** How long quitting waits for the sync cycle in flight before recording its calls as interrupted. */
const quitDrainMs = 20_000;

// Tests (Playwright's _electron) run the app on a data folder of their own; it must be set before anything reads it.
if (process.env.RW_DATA_DIR) app.setPath('userData', process.env.RW_DATA_DIR);
app.setName('Returns Workbench');
protocol.registerSchemesAsPrivileged([{ scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } }]);

const dataDir = app.getPath('userData');
mkdirSync(join(dataDir, 'logs'), { recursive: true });
const log = createLogger({ clock: systemClock, sink: fileSink(join(dataDir, 'logs', 'desktop.log')) });
const paths = appPaths({ isPackaged: app.isPackaged, appPath: app.getAppPath(), resourcesPath: process.resourcesPath, bundleDir: import.meta.dirname });
const windowStateFile = join(dataDir, 'window-state.json');
const plan = startupPlan(dataDir);
/** The team server this desktop is the client of (then it runs no core of its own), or null: it works alone. */
const teamServer: TeamServerConfig | null = plan.mode === 'client' ? plan.server : null;
/** The page the window shows, and the only one it may navigate within. */
const pageOrigin = teamServer?.origin ?? appOrigin;
const isOwnPage = (url: string) => (teamServer ? isTeamServerUrl(url, teamServer.origin) : isAppUrl(url, appEntryUrl));

let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let isQuitting = false;
let hasStopped = false;
let hasToldAboutTray = false;
let serviceState: ServiceState = 'starting';
let lastStatus: SyncStatus | null = null;
const feedLabels = new Map<string, string>();

/** The core on the app's own data; File › Open Evidence Bundle… reboots it on a bundle instead (bundleFile). */
const ownDataConfig: CoreBootConfig = {
  dataDir,
  engineStateDir: defaultStateDir(),
  migrationsDir: paths.migrationsDir,
  mappingsDir: paths.mappingsDir,
  appVersion: app.getVersion(),
  ...(process.env.RW_SQLITE_BINDING ? { nativeBinding: process.env.RW_SQLITE_BINDING } : {}),
  ...(Number(process.env.RW_SANDBOX_SPEED) > 0 ? { sandboxSpeed: Number(process.env.RW_SANDBOX_SPEED) } : {}),
};
let shownBundle: string | null = null;

const supervisor = createSupervisor({
  launch: utilityLauncher(paths.coreEntry, process.env),
  config: ownDataConfig,
  log,
  onEvent: forwardEvent,
  onStateChange: serviceChanged,
});

const notifier = createNotifier({ now: () => Date.now() });
let flushTimer: NodeJS.Timeout | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  app.on('web-contents-created', (_event, contents) => harden(contents));
  // The window hides to the tray instead of closing, so this only happens while quitting: nothing to do.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    if (hasStopped) return;
    event.preventDefault();
    if (isQuitting) return;
    isQuitting = true;
    // The window goes at once; the tray says what is still happening until the sync step in flight is done.
    mainWindow?.hide();
    refreshTray();
    void supervisor.shutdown(quitDrainMs).then((outcome) => {
      log.info('quit', { report: outcome.report, wasKilled: outcome.wasKilled });
      hasStopped = true;
      app.quit();
    });
  });
  app.whenReady().then(start, (error: unknown) => fail(error));
}

async function start(): Promise<void> {
  if (plan.mode === 'broken') {
    // Never taken to mean "alone" without asking: that would start a second engine beside the team's.
    const dialogOptions = brokenConfigDialog(plan.file, plan.problem);
    const { response } = await dialog.showMessageBox(dialogOptions);
    if (response !== dialogOptions.workAloneButton) return void app.exit(1);
    log.warn('team server config set aside', { file: plan.file, aside: setBrokenConfigAside(plan.file, new Date()), problem: plan.problem });
  }
  hardenSession();
  if (teamServer) {
    log.info('starting as a team server’s client', { origin: teamServer.origin, fingerprint: teamServer.fingerprint });
    setAppMenu();
    await createWindow();
    return;
  }
  protocol.handle(appScheme, serveAppFile);
  supervisor.start();
  setAppMenu();
  createTray();
  await createWindow();
}

// ---- a team server's client -------------------------------------------------------------------------------------

/** Settings › Connect: the config is saved once the core checked the server again; the app restarts as its client. */
function connectAndRelaunch(config: TeamServerConfig): void {
  const file = writeTeamServerConfig(dataDir, config);
  log.info('connecting to a team server', { origin: config.origin, fingerprint: config.fingerprint, file });
  // The answer goes back to the window first; quitting then drains the sync step in flight as usual.
  setTimeout(() => {
    app.relaunch();
    app.quit();
  }, 250);
}

async function disconnect(options: { ask: boolean }): Promise<void> {
  if (!teamServer) return;
  if (options.ask) {
    const dialogOptions = disconnectDialog(teamServer.origin);
    const { response } = mainWindow ? await dialog.showMessageBox(mainWindow, dialogOptions) : await dialog.showMessageBox(dialogOptions);
    if (response !== dialogOptions.disconnectButton) return;
  }
  removeTeamServerConfig(dataDir);
  log.info('disconnected from the team server', { origin: teamServer.origin });
  app.relaunch();
  app.quit();
}

let isCertificateDialogShown = false;
async function certificateChanged(pinned: TeamServerConfig, presented: string): Promise<void> {
  log.error('the team server presented another certificate than the pinned one', { origin: pinned.origin, pinned: pinned.fingerprint, presented });
  if (isCertificateDialogShown) return;
  isCertificateDialogShown = true;
  const dialogOptions = certificateChangedDialog({ origin: pinned.origin, pinned: pinned.fingerprint, presented });
  const { response } = await dialog.showMessageBox(dialogOptions);
  if (response === dialogOptions.disconnectButton) await disconnect({ ask: false });
  else app.quit();
}

/** Loads the team server's page; when it cannot be reached, says so and offers to try again or disconnect. */
async function loadTeamServer(window: BrowserWindow, server: TeamServerConfig): Promise<void> {
  for (;;) {
    try {
      await window.loadURL(`${server.origin}/`);
      return;
    } catch (error) {
      // A changed certificate has its own dialog (certificateChanged); everything else is "cannot reach it".
      if (isCertificateDialogShown) return;
      const dialogOptions = unreachableDialog(server.origin, (error as Error).message);
      // Not attached to the window: it has not been shown yet, and a sheet on a hidden window would not be seen.
      const { response } = await dialog.showMessageBox(dialogOptions);
      if (response === dialogOptions.retryButton) continue;
      if (response === dialogOptions.disconnectButton) return disconnect({ ask: false });
      return void app.quit();
    }
  }
}

// ---- the application menu: an evidence bundle, read-only ----------------------------------------------------------

function setAppMenu(): void {
  const template = appMenuTemplate({
    bundleFile: shownBundle,
    isMac: process.platform === 'darwin',
    openBundle: () => void chooseBundle(),
    backToOwnData: () => void showData(null),
    teamServer: teamServer?.origin ?? null,
    disconnect: () => void disconnect({ ask: true }),
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function chooseBundle(): Promise<void> {
  const options = { title: 'Open Evidence Bundle', properties: ['openFile' as const], filters: bundleDialogFilters };
  const picked = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  const file = picked.canceled ? undefined : picked.filePaths[0];
  if (file) await showData(file);
}

/** Reboots the core on `file` (null: the app's own data); the sync step in flight finishes first, as when quitting. */
async function showData(file: string | null): Promise<void> {
  shownBundle = file;
  setAppMenu();
  const outcome = await supervisor.reboot(file ? { ...ownDataConfig, bundleFile: file } : ownDataConfig, quitDrainMs);
  log.info(file ? 'showing an evidence bundle' : 'back to the app’s own data', { file, report: outcome.report, wasKilled: outcome.wasKilled });
  mainWindow?.webContents.reload();
  showWindow();
}

// ---- the renderer's page and its security -----------------------------------------------------------------------

async function serveAppFile(request: Request): Promise<Response> {
  const asset = resolveAppAsset(paths.rendererDir, request.url);
  if ('status' in asset) return new Response(null, { status: asset.status });
  try {
    return new Response(await readFile(asset.file), { headers: appResponseHeaders(asset.contentType) });
  } catch {
    return new Response(null, { status: 404 });
  }
}

function hardenSession(): void {
  const ses = session.defaultSession;
  // Copying (an order id, a return id) is the one thing the page may ask for.
  ses.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
  ses.setPermissionCheckHandler((_contents, permission, origin) => permission === 'clipboard-sanitized-write' && origin === pageOrigin);
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url, pageOrigin) }));
  const pinned = teamServer;
  if (pinned) {
    // The one certificate the person compared when connecting, and no other: no certificate authority stands in for it.
    ses.setCertificateVerifyProc((request, callback) => {
      const check = checkPinned({ hostname: request.hostname, fingerprint: request.certificate.fingerprint }, pinned);
      callback(check.verdict === 'accept' ? verdicts.accept : verdicts.refuse);
      if (check.verdict === 'refuse' && check.reason === 'changed') void certificateChanged(pinned, check.presented);
    });
  }
}

function harden(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

// ---- the window ---------------------------------------------------------------------------------------------------

async function createWindow(): Promise<void> {
  const workAreas = [screen.getPrimaryDisplay(), ...screen.getAllDisplays().filter((d) => d.id !== screen.getPrimaryDisplay().id)].map((d) => d.workArea);
  const state = fitToDisplays(readWindowState(windowStateFile), workAreas);
  // A team server's page gets no preload and no IPC: it talks to its own server, and a page from the network must
  // never reach this computer's core.
  const window = new BrowserWindow(mainWindowOptions(teamServer ? null : paths.preload, state.bounds));
  mainWindow = window;
  if (state.isMaximized) window.maximize();

  const unbind = teamServer
    ? () => {}
    : bindIpc(
        ipcMain,
        connectingDispatch(
          revealingDispatch((command, input) => supervisor.invoke(command, input), (path) => shell.showItemInFolder(path)),
          { connect: connectAndRelaunch, now: () => new Date() },
        ),
        appWindowSender(
          () => (window.isDestroyed() ? null : window.webContents.id),
          (url) => isAppUrl(url, appEntryUrl),
        ),
      );

  let saveTimer: NodeJS.Timeout | null = null;
  const saveState = () => {
    if (window.isDestroyed() || window.isMinimized()) return;
    writeWindowState(windowStateFile, { bounds: window.getNormalBounds(), isMaximized: window.isMaximized() });
  };
  const saveSoon = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(saveState, 500);
  };
  window.on('resize', saveSoon);
  window.on('move', saveSoon);
  window.on('close', (event) => {
    saveState();
    if (isQuitting) return;
    // A team server's client has nothing running in the background: closing its window quits it.
    if (teamServer) return void app.quit();
    // Closing hides to the tray: sync keeps running until the user quits from there.
    event.preventDefault();
    window.hide();
    tellAboutTrayOnce();
  });
  window.on('show', refreshTray);
  window.on('hide', refreshTray);
  window.on('closed', () => {
    unbind();
    mainWindow = null;
  });
  window.once('ready-to-show', () => window.show());
  if (teamServer) await loadTeamServer(window, teamServer);
  else await window.loadURL(appEntryUrl);
}

function showWindow(): void {
  if (!mainWindow) {
    if (app.isReady() && !isQuitting) void createWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function tellAboutTrayOnce(): void {
  if (hasToldAboutTray || !Notification.isSupported()) return;
  hasToldAboutTray = true;
  new Notification({ title: 'Returns Workbench is still syncing', body: 'It keeps running in the tray. Quit it from the tray menu.' }).show();
}

// ---- the core's events, notifications and the tray -----------------------------------------------------------------

function forwardEvent(name: string, payload: unknown): void {
  if (!isEventName(name)) return;
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(ipcChannels.event, name, payload);
  if (name === 'sync.progressed') {
    const p = payload as { feed: string; phase: string; message?: string };
    if (p.phase !== 'started') notify(notifier.observeFeed(p.feed, feedLabels.get(p.feed) ?? p.feed, { isFailure: p.phase === 'failed', message: p.message }));
  }
  if (name === 'sync.stateChanged') void refreshStatus();
  if (name === 'data.changed' && (payload as { tables: string[] }).tables.includes('exceptions')) checkCriticalSoon();
}

function serviceChanged(state: SupervisorState, detail: string | null): void {
  serviceState = state === 'ready' ? 'ready' : state === 'restarting' ? 'restarting' : state === 'failed' ? 'failed' : state === 'stopping' || state === 'stopped' ? 'stopping' : 'starting';
  if (state === 'ready') {
    void refreshStatus();
    checkCriticalSoon();
  }
  refreshTray();
  if (state === 'failed' && !isQuitting) {
    // Nothing works without the core (a damaged database, a bad mapping file, or repeated crashes): say why, then stop.
    void dialog
      .showMessageBox({
        type: 'error',
        title: 'Returns Workbench',
        message: 'Returns Workbench cannot continue',
        detail: `${detail ?? 'The background service could not start.'}\n\nThe log files are in ${join(dataDir, 'logs')}.`,
      })
      .then(() => app.quit());
  }
}

async function refreshStatus(): Promise<void> {
  const result = await supervisor.invoke('sync.status', {});
  if (result.ok) {
    lastStatus = result.data as SyncStatus;
    for (const feed of lastStatus.feeds) feedLabels.set(feed.feed, feed.label);
  }
  refreshTray();
}

let isCheckingCritical = false;
let isCheckAgainNeeded = false;
function checkCriticalSoon(): void {
  if (isCheckingCritical) {
    isCheckAgainNeeded = true;
    return;
  }
  isCheckingCritical = true;
  void (async () => {
    do {
      isCheckAgainNeeded = false;
      const result = await supervisor.invoke('exceptions.list', criticalExceptionsQuery);
      if (!result.ok) break;
      const rows = (result.data as { rows: ExceptionRow[] }).rows;
      notify(notifier.observeCritical(rows.map((r) => ({ id: r.id, type: r.type, title: r.title, returnId: r.returnId }))));
    } while (isCheckAgainNeeded);
    isCheckingCritical = false;
  })();
}

function notify(notices: DesktopNotice[]): void {
  if (Notification.isSupported()) {
    for (const notice of notices) {
      const shown = new Notification({ title: notice.title, body: notice.body });
      shown.on('click', showWindow);
      shown.show();
    }
  }
  const at = notifier.nextFlushAt();
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = at === null ? null : setTimeout(() => notify(notifier.flush()), Math.max(0, at - Date.now()));
}

function createTray(): void {
  const icon = nativeImage.createFromBuffer(Buffer.from(process.platform === 'darwin' ? trayIconPng.template.x16 : trayIconPng.colour.x16, 'base64'));
  icon.addRepresentation({ scaleFactor: 2, buffer: Buffer.from(process.platform === 'darwin' ? trayIconPng.template.x32 : trayIconPng.colour.x32, 'base64') });
  if (process.platform === 'darwin') icon.setTemplateImage(true);
  try {
    tray = new Tray(icon);
  } catch (error) {
    // Some Linux desktops have no tray: the app still works; launching it again shows the window.
    log.warn('no system tray', { error: (error as Error).message });
    return;
  }
  tray.on('click', showWindow);
  refreshTray();
}

function refreshTray(): void {
  if (!tray) return;
  const model = trayModel({
    service: isQuitting ? 'stopping' : serviceState,
    status: lastStatus,
    isWindowVisible: Boolean(mainWindow?.isVisible()),
    formatTime: (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
  });
  const template: MenuItemConstructorOptions[] = model.items.map((item) =>
    item.kind === 'separator'
      ? { type: 'separator' }
      : item.kind === 'info'
        ? { label: item.label, enabled: false }
        : { label: item.label, enabled: item.isEnabled, click: () => trayAction(item.action) },
  );
  tray.setToolTip(model.tooltip);
  tray.setContextMenu(Menu.buildFromTemplate(template));
}

function trayAction(action: TrayAction): void {
  switch (action) {
    case 'toggleWindow':
      if (mainWindow?.isVisible()) mainWindow.hide();
      else showWindow();
      return;
    case 'quit':
      app.quit();
      return;
    case 'pause':
    case 'resume':
    case 'runNow':
      void supervisor.invoke(`sync.${action}`, {}).then((result) => {
        if (result.ok) lastStatus = result.data as SyncStatus;
        refreshTray();
      });
      return;
  }
}

function fail(error: unknown): void {
  dialog.showErrorBox('Returns Workbench cannot start', (error as Error).message ?? String(error));
  app.exit(1);
}
