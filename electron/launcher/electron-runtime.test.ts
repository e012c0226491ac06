import { describe, expect, it } from 'vitest';
import { findElectron } from './electron-runtime';

const requireThat = (binary: string | Error) =>
  Object.assign(
    (id: string) => {
      if (id === 'electron/package.json') return { version: '41.7.1' };
      if (binary instanceof Error) throw binary;
      return binary;
    },
    { resolve: () => '', cache: {}, extensions: {}, main: undefined },
  ) as unknown as NodeRequire;

describe('findElectron', () => {
  it('explains that the binary was never downloaded', () => {
    const result = findElectron({ DISPLAY: ':0' }, 'linux', requireThat(new Error('Electron failed to install correctly')));
    expect(result).toEqual({ isAvailable: false, reason: expect.stringMatching(/not downloaded when the app was installed.*RW_DESKTOP=1/) });
  });

  it('explains a missing binary file', () => {
    const result = findElectron({ DISPLAY: ':0' }, 'linux', requireThat('/nowhere/electron'));
    expect(result).toEqual({ isAvailable: false, reason: 'the Electron binary is missing at /nowhere/electron' });
  });

  it('needs a display on Linux', () => {
    const result = findElectron({}, 'linux', requireThat(process.execPath));
    expect(result).toMatchObject({ isAvailable: false, reason: expect.stringMatching(/no graphical display/) });
  });

  it('reports the binary and version when it can run', () => {
    expect(findElectron({ DISPLAY: ':0' }, 'linux', requireThat(process.execPath))).toEqual({
      isAvailable: true,
      binary: process.execPath,
      version: '41.7.1',
    });
  });
});
