import { describe, expect, it } from 'vitest';
import { ipcChannels } from '../../core/contract';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { bindIpc, type IpcEventLike, type IpcMainLike } from './ipc';

function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => void handlers.set(channel, listener),
    removeHandler: (channel) => void handlers.delete(channel),
  };
  const invoke = (url: string | null, ...args: unknown[]) => {
    const handler = handlers.get(ipcChannels.invoke);
    if (!handler) throw new Error('no handler bound');
    return handler({ senderFrame: url === null ? null : { url } }, ...args);
  };
  return { ipc, handlers, invoke };
}

describe('IPC binding', () => {
  const appUrl = 'file:///app/out/renderer/index.html';

  it('serves the contract to the app window, validated like the web host', async () => {
    const temp = makeTempDir();
    const { core } = await makeTestCore(temp.dir);
    const fake = fakeIpcMain();
    const unbind = bindIpc(fake.ipc, core.dispatch, (url) => url === appUrl);

    expect(await fake.invoke(appUrl, 'app.info', {})).toMatchObject({ ok: true, data: { name: 'Returns Workbench' } });
    expect(await fake.invoke(appUrl, 'app.info', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await fake.invoke(appUrl, 42, {})).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await fake.invoke('https://evil.example/', 'app.info', {})).toMatchObject({ ok: false, error: { code: 'AUTH' } });
    expect(await fake.invoke(null, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'AUTH' } });

    unbind();
    expect(fake.handlers.size).toBe(0);
    core.close();
    temp.remove();
  });
});
