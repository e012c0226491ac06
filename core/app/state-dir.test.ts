import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStateDir } from './state-dir';

describe("this machine's per-user state folder", () => {
  it('is RW_STATE_DIR when set, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) expect(defaultStateDir({ RW_STATE_DIR: '/srv/rw-state' }, platform)).toBe('/srv/rw-state');
  });

  it('follows XDG_STATE_HOME on Linux, else ~/.local/state', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/home/ana/.state' }, 'linux')).toBe('/home/ana/.state/returns-workbench');
    expect(defaultStateDir({}, 'linux')).toBe(join(homedir(), '.local', 'state', 'returns-workbench'));
  });

  it('is never inside the data folder (the Electron userData) on macOS and Windows', () => {
    expect(defaultStateDir({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'Returns Workbench State'));
    expect(defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\ana\\AppData\\Local', APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'win32')).toBe(
      join('C:\\Users\\ana\\AppData\\Local', 'Returns Workbench', 'State'),
    );
  });
});
