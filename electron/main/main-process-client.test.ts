import { createHash, X509Certificate } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serverCertificate } from '../../core/team/certificate';
import { makeTempDir } from '../../test/support/temp-dir';
import { teamServerConfigName, writeTeamServerConfig } from './team-server-config';

// main's own wiring (electron/main/index.ts) as a team server's client, against a stand-in `electron` module: with
// team-server.json in the data folder it starts no core and opens no database, gives the server's page no preload and
// no IPC, lets it navigate and fetch within that origin only, accepts the pinned certificate and no other (saying so,
// with both fingerprints), and disconnects back to working alone. A broken config is asked about, never obeyed.

const temp = makeTempDir('rw-main-client-');
const origin = 'https://workbench.example:8443';

interface MenuItem {
  id?: string;
  label?: string;
  enabled?: boolean;
  click?: () => void;
}
type VerifyProc = (request: { hostname: string; certificate: { fingerprint: string } }, callback: (verdict: number) => void) => void;

const fake = vi.hoisted(() => ({
  state: {
    userData: '',
    windows: [] as unknown[],
    forked: 0,
    trays: 0,
    protocolHandlers: 0,
    ipcHandlers: new Map<string, unknown>(),
    beforeRequest: null as null | ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
    permissionCheck: null as null | ((c: unknown, permission: string, origin: string) => boolean),
    verifyProc: null as null | VerifyProc,
    dialogs: [] as { message: string; detail: string; buttons: string[] }[],
    dialogAnswers: [] as number[],
    appMenus: [] as { label?: string; submenu?: MenuItem[] }[][],
    relaunches: 0,
    quits: 0,
    exits: [] as number[],
  },
}));

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const { state } = fake;
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    setPath: (name: string, value: string) => {
      if (name === 'userData') state.userData = value;
    },
    getPath: () => state.userData,
    setName: () => {},
    getAppPath: () => process.cwd(),
    getVersion: () => '1.0.0-test',
    requestSingleInstanceLock: () => true,
    isReady: () => true,
    whenReady: () => Promise.resolve(),
    relaunch: () => void state.relaunches++,
    exit: (code: number) => void state.exits.push(code),
    quit: () => {
      state.quits++;
      app.emit('before-quit', { preventDefault: () => {} });
    },
  });
  class WebContents extends Emitter {
    id = 1;
    openHandler: ((d: { url: string }) => { action: string }) | null = null;
    setWindowOpenHandler(handler: (d: { url: string }) => { action: string }) {
      this.openHandler = handler;
    }
  }
  class BrowserWindow extends Emitter {
    webContents = new WebContents();
    loadedUrl: string | null = null;
    constructor(readonly options: Record<string, unknown>) {
      super();
      state.windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    async loadURL(url: string) {
      this.loadedUrl = url;
      this.emit('ready-to-show');
    }
    show() {}
    hide() {}
    focus() {}
    isVisible = () => true;
    isMinimized = () => false;
    isMaximized = () => false;
    isDestroyed = () => false;
    maximize() {}
    getNormalBounds = () => ({ x: 0, y: 0, width: 1400, height: 900 });
  }
  class Tray {
    constructor() {
      state.trays++;
    }
  }
  const display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 } };
  return {
    app,
    BrowserWindow,
    Tray,
    Notification: Object.assign(class {}, { isSupported: () => false }),
    ipcMain: { handle: (c: string, l: unknown) => state.ipcHandlers.set(c, l), removeHandler: (c: string) => state.ipcHandlers.delete(c) },
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: (menu: { label?: string; submenu?: MenuItem[] }[]) => state.appMenus.push(menu) },
    nativeImage: { createFromBuffer: () => ({ addRepresentation: () => {}, setTemplateImage: () => {} }) },
    protocol: { registerSchemesAsPrivileged: () => {}, handle: () => void state.protocolHandlers++ },
    session: {
      defaultSession: {
        setPermissionRequestHandler: () => {},
        setPermissionCheckHandler: (h: typeof state.permissionCheck) => (state.permissionCheck = h),
        setCertificateVerifyProc: (p: VerifyProc) => (state.verifyProc = p),
        webRequest: { onBeforeRequest: (h: typeof state.beforeRequest) => (state.beforeRequest = h) },
      },
    },
    screen: { getPrimaryDisplay: () => display, getAllDisplays: () => [display] },
    shell: { openExternal: async () => {} },
    dialog: {
      showErrorBox: () => {},
      showMessageBox: async (...args: unknown[]) => {
        const options = args[args.length - 1] as { message: string; detail: string; buttons: string[] };
        state.dialogs.push(options);
        return { response: state.dialogAnswers.shift() ?? options.buttons.length - 1 };
      },
    },
    utilityProcess: {
      fork: () => {
        state.forked++;
        throw new Error('a team server’s client must not start a core');
      },
    },
  };
});

const { state } = fake;
type FakeWindow = EventEmitter & { options: { webPreferences: Record<string, unknown> }; loadedUrl: string | null; webContents: EventEmitter & { openHandler: ((d: { url: string }) => { action: string }) | null } };
const window = () => state.windows[0] as FakeWindow;
const electronFingerprint = (pem: string) => `sha256/${createHash('sha256').update(new X509Certificate(pem).raw).digest('base64')}`;
let pinnedPem = '';
let otherPem = '';
let pinnedFingerprint = '';

async function until<T>(what: string, probe: () => T | null | undefined | false): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  const pinned = await serverCertificate({ dataDir: join(temp.dir, 'server'), hostNames: ['workbench.example'] });
  const other = await serverCertificate({ dataDir: join(temp.dir, 'impostor'), hostNames: ['workbench.example'] });
  pinnedPem = pinned.cert;
  otherPem = other.cert;
  pinnedFingerprint = pinned.fingerprint;
  process.env.RW_DATA_DIR = join(temp.dir, 'desktop');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(process.env.RW_DATA_DIR, { recursive: true });
  writeTeamServerConfig(process.env.RW_DATA_DIR, { origin, fingerprint: pinned.fingerprint, connectedAt: '2026-12-06T16:00:00.000Z' });
  await import('./index');
  await until('the window', () => window()?.loadedUrl);
}, 30_000);

afterAll(() => {
  delete process.env.RW_DATA_DIR;
  temp.remove();
});

describe('the desktop main process as a team server’s client', () => {
  it('starts no core, opens no database, binds no IPC and makes no tray: the window shows the server’s page without a preload', () => {
    expect(window().loadedUrl).toBe(`${origin}/`);
    expect(window().options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
    expect('preload' in window().options.webPreferences).toBe(false);
    expect(state.forked).toBe(0);
    expect(state.ipcHandlers.size).toBe(0);
    expect(state.trays).toBe(0);
    expect(state.protocolHandlers).toBe(0);
    expect(readdirSync(join(temp.dir, 'desktop')).sort()).toEqual(['logs', teamServerConfigName]);
    const file = state.appMenus.at(-1)?.find((m) => m.label === 'File')?.submenu ?? [];
    expect(file.map((i) => i.label).filter(Boolean)).toEqual([`Connected to ${origin}`, 'Disconnect (use this computer alone)']);
  });

  it('lets the page navigate and fetch within the server’s origin only', async () => {
    const navigates = (url: string) => {
      let isPrevented = false;
      window().webContents.emit('will-navigate', { preventDefault: () => (isPrevented = true) }, url);
      return !isPrevented;
    };
    expect(navigates(`${origin}/exceptions`)).toBe(true);
    for (const url of ['https://evil.example/', 'app://workbench/index.html', 'https://workbench.example:8444/', 'http://workbench.example:8443/']) expect(navigates(url), url).toBe(false);
    const cancelled = (url: string) => new Promise((resolve) => state.beforeRequest?.({ url }, (r) => resolve(r.cancel)));
    expect(await cancelled(`${origin}/api/returns.list`)).toBe(false);
    expect(await cancelled('https://evil.example/beacon')).toBe(true);
    expect(await cancelled('app://workbench/assets/index.js')).toBe(true);
    expect(state.permissionCheck?.(null, 'clipboard-sanitized-write', origin)).toBe(true);
    expect(state.permissionCheck?.(null, 'clipboard-sanitized-write', 'app://workbench')).toBe(false);
  });

  it('accepts the pinned certificate only, and shows a changed one with both fingerprints', async () => {
    const verify = (hostname: string, pem: string) => new Promise<number>((resolve) => state.verifyProc?.({ hostname, certificate: { fingerprint: electronFingerprint(pem) } }, resolve));
    expect(await verify('workbench.example', pinnedPem)).toBe(0);
    expect(await verify('evil.example', pinnedPem)).toBe(-2);
    expect(state.dialogs).toEqual([]);
    state.dialogAnswers.push(1); // Quit
    const quitsBefore = state.quits;
    expect(await verify('workbench.example', otherPem)).toBe(-2);
    const shown = await until('the certificate dialog', () => state.dialogs[0]);
    expect(shown.message).toBe('The team server’s certificate changed');
    expect(shown.detail).toContain(pinnedFingerprint);
    expect(shown.detail).toContain(new X509Certificate(otherPem).fingerprint256);
    expect(shown.buttons).toEqual(['Disconnect (use this computer alone)', 'Quit']);
    await until('quitting', () => state.quits > quitsBefore);
    expect(existsSync(join(temp.dir, 'desktop', teamServerConfigName))).toBe(true);
  });

  it('disconnects from the File menu after asking: the config goes and the app relaunches alone', async () => {
    const disconnect = state.appMenus.at(-1)?.find((m) => m.label === 'File')?.submenu?.find((i) => i.id === 'disconnect');
    state.dialogAnswers.push(1); // Cancel
    disconnect?.click?.();
    await until('the question', () => state.dialogs.length === 2);
    expect(state.dialogs[1]?.message).toBe(`Disconnect from ${origin}?`);
    expect(existsSync(join(temp.dir, 'desktop', teamServerConfigName))).toBe(true);
    expect(state.relaunches).toBe(0);
    state.dialogAnswers.push(0); // Disconnect
    disconnect?.click?.();
    await until('the relaunch', () => state.relaunches === 1);
    expect(existsSync(join(temp.dir, 'desktop', teamServerConfigName))).toBe(false);
  });
});

describe('a broken team server config', () => {
  it('is named and asked about, never read as "work alone": quitting leaves it where it is and starts nothing', async () => {
    vi.resetModules();
    state.windows.length = 0;
    state.dialogs.length = 0;
    const dir = join(temp.dir, 'broken');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    process.env.RW_DATA_DIR = dir;
    writeFileSync(join(dir, teamServerConfigName), JSON.stringify({ origin: 'http://workbench.example:8443' }));
    state.dialogAnswers.push(1); // Quit
    await import('./index');
    const asked = await until('the question', () => state.dialogs[0]);
    expect(asked.message).toBe('The team server settings cannot be read');
    expect(asked.detail).toContain(`${join(dir, teamServerConfigName)}: origin: The address must start with https://`);
    await until('the exit', () => state.exits.length > 0);
    expect(state.exits).toEqual([1]);
    expect(state.forked).toBe(0);
    expect(state.windows).toHaveLength(0);
    expect(readdirSync(dir).sort()).toEqual(['logs', teamServerConfigName]);
  });
});
