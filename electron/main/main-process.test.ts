import { fork } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ipcChannels } from '../../core/contract';
import { makeTempDir } from '../../test/support/temp-dir';

// Electron cannot run here, so main's own wiring (electron/main/index.ts, unbundled) runs against a stand-in
// `electron` module. The stand-in's utilityProcess.fork starts the real core process with child_process.fork, so
// this is the app minus Chromium: single instance, window options and state, IPC to a real core, the tray driving
// a real sync service, hiding to the tray, notifications, and quitting only after the core stopped.

const root = fileURLToPath(new URL('../../', import.meta.url));
const coreEntry = join(root, 'electron', 'core-process', 'index.ts');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const temp = makeTempDir('rw-main-');

type Listener = (...args: unknown[]) => unknown;
interface MenuItem {
  label?: string;
  enabled?: boolean;
  type?: string;
  click?: () => void;
}

const fake = vi.hoisted(() => {
  const state = {
    lockGranted: true,
    quitCalls: 0,
    hasQuit: false,
    windows: [] as unknown[],
    notifications: [] as { title: string; body: string }[],
    trayMenus: [] as MenuItem[][],
    tooltips: [] as string[],
    ipcHandlers: new Map<string, Listener>(),
    protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
    privileged: [] as unknown[],
    permissionRequest: null as null | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
    beforeRequest: null as null | ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
    forkedPaths: [] as string[],
    children: [] as { pid: number | undefined; kill: () => void }[],
    dialogs: [] as unknown[],
    appMenus: [] as { label?: string; submenu?: MenuItem[]; role?: string }[][],
    nextOpenPath: null as string | null,
    reloads: 0,
    userData: '',
  };
  return { state };
});

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const { state } = fake;
  let nextId = 1;

  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    setPath: (name: string, value: string) => {
      if (name === 'userData') state.userData = value;
    },
    getPath: () => state.userData,
    setName: () => {},
    getAppPath: () => root,
    getVersion: () => '1.0.0-test',
    requestSingleInstanceLock: () => state.lockGranted,
    isReady: () => true,
    whenReady: () => Promise.resolve(),
    exit: () => {},
    quit: () => {
      state.quitCalls++;
      let isPrevented = false;
      app.emit('before-quit', { preventDefault: () => (isPrevented = true) });
      if (!isPrevented) {
        state.hasQuit = true;
        for (const w of state.windows as InstanceType<typeof BrowserWindow>[]) w.emit('close', { preventDefault: () => {} });
      }
    },
  });

  class WebContents extends Emitter {
    id = nextId++;
    sent: unknown[][] = [];
    openHandler: ((d: { url: string }) => { action: string }) | null = null;
    send(...args: unknown[]) {
      this.sent.push(args);
    }
    setWindowOpenHandler(handler: (d: { url: string }) => { action: string }) {
      this.openHandler = handler;
    }
    reload() {
      state.reloads++;
    }
  }

  class BrowserWindow extends Emitter {
    webContents = new WebContents();
    options: Record<string, unknown>;
    loadedUrl: string | null = null;
    isShown = false;
    isMax = false;
    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      state.windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    async loadURL(url: string) {
      this.loadedUrl = url;
      this.emit('ready-to-show');
    }
    show() {
      this.isShown = true;
      this.emit('show');
    }
    hide() {
      this.isShown = false;
      this.emit('hide');
    }
    focus() {}
    isVisible() {
      return this.isShown;
    }
    isMinimized() {
      return false;
    }
    restore() {}
    maximize() {
      this.isMax = true;
    }
    isMaximized() {
      return this.isMax;
    }
    isDestroyed() {
      return false;
    }
    getNormalBounds() {
      const { x, y, width, height } = this.options as { x: number; y: number; width: number; height: number };
      return { x, y, width, height };
    }
  }

  class Notification extends Emitter {
    static isSupported = () => true;
    constructor(private readonly options: { title: string; body: string }) {
      super();
    }
    show() {
      state.notifications.push(this.options);
    }
  }

  class Tray extends Emitter {
    setContextMenu(menu: MenuItem[]) {
      state.trayMenus.push(menu);
    }
    setToolTip(tooltip: string) {
      state.tooltips.push(tooltip);
    }
  }

  class UtilityProcess extends Emitter {
    private child;
    constructor(modulePath: string, options: { env: NodeJS.ProcessEnv }) {
      super();
      state.forkedPaths.push(modulePath);
      const env = { ...options.env };
      delete env.DBUS_SESSION_BUS_ADDRESS;
      this.child = fork(coreEntry, [], { execArgv: ['--import', tsx], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.child.on('message', (m) => this.emit('message', m));
      this.child.on('exit', (code) => this.emit('exit', code ?? 1));
      state.children.push({ pid: this.child.pid, kill: () => this.child.kill('SIGKILL') });
    }
    get pid() {
      return this.child.pid;
    }
    postMessage(message: unknown) {
      if (this.child.connected) this.child.send(message as never);
    }
    kill() {
      return this.child.kill();
    }
  }

  const display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 } };
  return {
    app,
    BrowserWindow,
    Notification,
    Tray,
    ipcMain: { handle: (c: string, l: Listener) => state.ipcHandlers.set(c, l), removeHandler: (c: string) => state.ipcHandlers.delete(c) },
    Menu: {
      buildFromTemplate: (template: MenuItem[]) => template,
      setApplicationMenu: (menu: { label?: string; submenu?: MenuItem[]; role?: string }[]) => state.appMenus.push(menu),
    },
    nativeImage: { createFromBuffer: () => ({ addRepresentation: () => {}, setTemplateImage: () => {} }) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => state.privileged.push(...schemes),
      handle: (scheme: string, handler: (r: Request) => Promise<Response>) => state.protocolHandlers.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: typeof state.permissionRequest) => (state.permissionRequest = h),
        setPermissionCheckHandler: () => {},
        webRequest: { onBeforeRequest: (h: typeof state.beforeRequest) => (state.beforeRequest = h) },
      },
    },
    screen: { getPrimaryDisplay: () => display, getAllDisplays: () => [display] },
    shell: { openExternal: async () => {} },
    dialog: {
      showErrorBox: (...a: unknown[]) => state.dialogs.push(a),
      showMessageBox: async (...a: unknown[]) => state.dialogs.push(a),
      showOpenDialog: async () => (state.nextOpenPath ? { canceled: false, filePaths: [state.nextOpenPath] } : { canceled: true, filePaths: [] }),
    },
    utilityProcess: { fork: (path: string, _args: string[], options: { env: NodeJS.ProcessEnv }) => new UtilityProcess(path, options) },
  };
});

const { state } = fake;
type FakeWindow = EventEmitter & {
  options: { webPreferences: Record<string, unknown>; x: number; y: number; width: number; height: number };
  loadedUrl: string | null;
  isShown: boolean;
  webContents: EventEmitter & { id: number; sent: unknown[][]; openHandler: ((d: { url: string }) => { action: string }) | null };
};
const window = () => state.windows[0] as FakeWindow;

async function until<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function invoke(command: string, input: unknown, sender = { sender: { id: window().webContents.id }, senderFrame: { url: 'app://workbench/index.html', parent: null } }) {
  const handler = state.ipcHandlers.get(ipcChannels.invoke);
  if (!handler) throw new Error('IPC is not bound');
  return handler(sender, command, input) as Promise<{ ok: boolean; data?: unknown; error?: { code: string; message: string } }>;
}

const lastMenu = () => state.trayMenus[state.trayMenus.length - 1] ?? [];
const menuItem = (label: string) => lastMenu().find((i) => i.label === label);

beforeAll(async () => {
  process.env.RW_DATA_DIR = temp.dir;
  // A saved window on a monitor that is gone: it must come back on the one display there is.
  const { writeWindowState } = await import('./window-state');
  writeWindowState(join(temp.dir, 'window-state.json'), { bounds: { x: 3000, y: 100, width: 1200, height: 800 }, isMaximized: true });
  await import('./index');
  await until('the window', () => window()?.loadedUrl);
}, 60_000);

afterAll(() => {
  for (const child of state.children) child.kill();
  delete process.env.RW_DATA_DIR;
  temp.remove();
});

describe('the desktop main process (with a stand-in electron module)', () => {
  it('opens one sandboxed window on the app page, where the user left it but on a display that exists', () => {
    expect(state.windows).toHaveLength(1);
    const { options, loadedUrl } = window();
    expect(loadedUrl).toBe('app://workbench/index.html');
    expect(options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
    // Unbundled, main runs from electron/main; built, from out/main (paths.test.ts): the preload is its sibling either way.
    expect(options.webPreferences.preload).toBe(join(root, 'electron', 'preload', 'index.cjs'));
    expect({ x: options.x, y: options.y, width: options.width, height: options.height }).toEqual({ x: 360, y: 120, width: 1200, height: 800 });
    expect((window() as unknown as { isMax: boolean }).isMax).toBe(true);
    expect(window().isShown).toBe(true);
    expect(state.privileged).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
  });

  it('starts the core in a utility process and serves the contract over IPC to its window only', async () => {
    expect(state.forkedPaths).toEqual([join(root, 'electron', 'main', 'core-process.js')]);
    expect(await invoke('app.info', {})).toMatchObject({ ok: true, data: { name: 'Returns Workbench', version: '1.0.0-test', mode: 'sandbox', dataDir: temp.dir } });
    expect(await invoke('app.info', { extra: true })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await invoke('app.info', {}, { sender: { id: 999 }, senderFrame: { url: 'app://workbench/index.html', parent: null } })).toMatchObject({
      ok: false,
      error: { code: 'AUTH' },
    });
  });

  it('locks the page down: no navigation away, no new windows, no network, no permissions', async () => {
    const contents = window().webContents;
    let isPrevented = false;
    contents.emit('will-navigate', { preventDefault: () => (isPrevented = true) }, 'https://evil.example/');
    expect(isPrevented).toBe(true);
    expect(contents.openHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'https://developer.mirakl.com/x' })).toEqual({ action: 'deny' });
    const decide = (url: string) => new Promise((resolve) => state.beforeRequest?.({ url }, (r) => resolve(r.cancel)));
    expect(await decide('https://evil.example/beacon')).toBe(true);
    expect(await decide('app://workbench/assets/index.js')).toBe(false);
    const allow = (permission: string) => new Promise((resolve) => state.permissionRequest?.(null, permission, resolve));
    expect(await allow('geolocation')).toBe(false);
    expect(await allow('notifications')).toBe(false);
    const serve = state.protocolHandlers.get('app');
    expect((await serve?.(new Request('app://workbench/../../package.json')))?.status).toBeGreaterThanOrEqual(400);
    expect((await serve?.(new Request('app://other/index.html')))?.status).toBe(403);
  });

  it('forwards the core’s events to the window and shows sync in the tray', async () => {
    await until('an event forwarded to the window', () => window().webContents.sent.some((s) => s[0] === ipcChannels.event));
    await until('the tray to show sync', () => lastMenu().some((i) => /^Sync: (on|running now)/.test(i.label ?? '')));
    expect(menuItem('Mode: sandbox (simulated systems)')).toBeDefined();
    expect(state.tooltips.at(-1)).toMatch(/^Returns Workbench — sync/);
  });

  it('pauses and resumes sync from the tray', async () => {
    await until('pause to be offered', () => menuItem('Pause sync')?.enabled);
    menuItem('Pause sync')?.click?.();
    await until('sync paused', async () => ((await invoke('sync.status', {})).data as { state: string }).state === 'paused');
    await until('resume to be offered', () => menuItem('Resume sync'));
    menuItem('Resume sync')?.click?.();
    await until('sync running again', async () => ['idle', 'running'].includes(((await invoke('sync.status', {})).data as { state: string }).state));
  });

  it('hides to the tray when the window is closed, and sync keeps running', async () => {
    let isPrevented = false;
    window().emit('close', { preventDefault: () => (isPrevented = true) });
    expect(isPrevented).toBe(true);
    expect(window().isShown).toBe(false);
    expect(state.notifications[0]).toMatchObject({ title: 'Returns Workbench is still syncing' });
    expect(menuItem('Open Returns Workbench')).toBeDefined();
    const cycles = ((await invoke('sync.status', {})).data as { cycles: number }).cycles;
    await until('more sync cycles while hidden', async () => ((await invoke('sync.status', {})).data as { cycles: number }).cycles > cycles);
    menuItem('Open Returns Workbench')?.click?.();
    expect(window().isShown).toBe(true);
  });

  it('opens an evidence bundle from the File menu, read-only, and goes back to its own data', async () => {
    const fileMenu = () => state.appMenus.at(-1)?.find((m) => m.label === 'File')?.submenu ?? [];
    const fileItem = (label: string) => fileMenu().find((i) => i.label === label);
    expect(fileItem('Back to My Data')?.enabled).toBe(false);
    const generated = await invoke('reports.generate', { period: '2026-10', bundle: true });
    if (!generated.ok) throw new Error(generated.error?.message);
    state.nextOpenPath = (generated.data as { bundle: { path: string } }).bundle.path;
    const reloads = state.reloads;
    fileItem('Open Evidence Bundle…')?.click?.();
    const info = await until('the bundle to be shown', async () => {
      const r = await invoke('app.info', {});
      return r.ok && (r.data as { bundle?: unknown }).bundle ? (r.data as { bundle: { file: string; verified: boolean } }) : null;
    });
    expect(info.bundle).toMatchObject({ file: state.nextOpenPath, verified: true });
    expect(state.reloads).toBe(reloads + 1);
    expect(await invoke('sync.runNow', {})).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(fileItem('Back to My Data')?.enabled).toBe(true);
    fileItem('Back to My Data')?.click?.();
    await until('the app’s own data again', async () => {
      const r = await invoke('app.info', {});
      return r.ok && !(r.data as { bundle?: unknown }).bundle && (r.data as { mode: string }).mode === 'sandbox';
    });
    await until('sync running again', async () => (await invoke('sync.status', {})).ok);
    expect(fileItem('Back to My Data')?.enabled).toBe(false);
  });

  it('quits only after the core has stopped: the window goes at once, then the app', async () => {
    const { app } = (await import('electron')) as unknown as { app: { quit(): void } };
    app.quit();
    expect(window().isShown).toBe(false);
    expect(state.hasQuit).toBe(false);
    expect(lastMenu().find((i) => i.label?.startsWith('Sync: finishing'))).toBeDefined();
    await until('the app to quit', () => state.hasQuit);
    expect(state.quitCalls).toBe(2);
    const pid = state.children[0]?.pid as number;
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await invoke('app.info', {})).toMatchObject({ ok: false, error: { message: expect.stringMatching(/closing/) } });
  });
});
