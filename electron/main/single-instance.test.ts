import { describe, expect, it, vi } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';

// A second launch while the app runs: it must hand over to the first (which shows its window) and quit at once,
// without starting a second core on the same database. main-process.test.ts covers the first instance.

const seen = vi.hoisted(() => ({ quits: 0, forks: 0, windows: 0, readyWaits: 0 }));

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    setPath: () => {},
    getPath: () => process.env.RW_DATA_DIR ?? '',
    setName: () => {},
    getAppPath: () => process.cwd(),
    getVersion: () => '1.0.0-test',
    requestSingleInstanceLock: () => false,
    whenReady: () => {
      seen.readyWaits++;
      return Promise.resolve();
    },
    quit: () => void seen.quits++,
  });
  const unexpected = (what: string) => () => {
    throw new Error(`${what} must not be used by a second instance`);
  };
  return {
    app,
    protocol: { registerSchemesAsPrivileged: () => {}, handle: unexpected('protocol.handle') },
    BrowserWindow: class {
      constructor() {
        seen.windows++;
      }
    },
    utilityProcess: { fork: () => void seen.forks++ },
    ipcMain: { handle: unexpected('ipcMain') },
    dialog: {},
    Menu: {},
    nativeImage: {},
    Notification: {},
    screen: {},
    session: {},
    shell: {},
    Tray: class {},
  };
});

describe('a second instance', () => {
  it('quits at once, with no window and no core of its own', async () => {
    const temp = makeTempDir('rw-second-');
    process.env.RW_DATA_DIR = temp.dir;
    await import('./index');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual({ quits: 1, forks: 0, windows: 0, readyWaits: 0 });
    delete process.env.RW_DATA_DIR;
    temp.remove();
  });
});
