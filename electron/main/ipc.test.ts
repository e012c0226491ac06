import { describe, expect, it } from 'vitest';
import { commands, ipcChannels } from '../../core/contract';
import type { Dispatch } from '../../core/app/dispatch';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { appWindowSender, bindIpc, maxInputBytes, type IpcEventLike, type IpcMainLike } from './ipc';
import { isAppUrl } from './navigation';

const appUrl = 'app://workbench/index.html';
const windowId = 7;
const fromApp: IpcEventLike = { sender: { id: windowId }, senderFrame: { url: appUrl, parent: null } };

function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => void handlers.set(channel, listener),
    removeHandler: (channel) => void handlers.delete(channel),
  };
  const invoke = (event: IpcEventLike, ...args: unknown[]) => {
    const handler = handlers.get(ipcChannels.invoke);
    if (!handler) throw new Error('no handler bound');
    return handler(event, ...args) as Promise<unknown>;
  };
  return { ipc, handlers, invoke };
}

/** A dispatch that records what reached it: anything refused at the IPC layer must never get here. */
function spyDispatch() {
  const calls: { command: string; input: unknown }[] = [];
  const dispatch: Dispatch = async (command, input) => {
    calls.push({ command, input });
    return { ok: true, data: null };
  };
  return { calls, dispatch };
}

const trustApp = appWindowSender(() => windowId, (url) => isAppUrl(url, appUrl));

describe('IPC binding', () => {
  it('serves the contract to the app window, validated like the web host', async () => {
    const temp = makeTempDir();
    const { core } = await makeTestCore(temp.dir);
    const fake = fakeIpcMain();
    const unbind = bindIpc(fake.ipc, core.dispatch, trustApp);

    expect(await fake.invoke(fromApp, 'app.info', {})).toMatchObject({ ok: true, data: { name: 'Returns Workbench' } });
    expect(await fake.invoke(fromApp, 'exceptions.get', { id: 999 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    unbind();
    expect(fake.handlers.size).toBe(0);
    core.close();
    temp.remove();
  });

  it('answers only our window’s top frame on the app page', async () => {
    const fake = fakeIpcMain();
    const spy = spyDispatch();
    bindIpc(fake.ipc, spy.dispatch, trustApp);
    const refused = [
      { sender: { id: 8 }, senderFrame: { url: appUrl, parent: null } }, // another window (e.g. a devtools or popup)
      { sender: { id: windowId }, senderFrame: { url: appUrl, parent: { url: appUrl } } }, // a sub-frame
      { sender: { id: windowId }, senderFrame: { url: 'https://evil.example/index.html', parent: null } },
      { sender: { id: windowId }, senderFrame: { url: 'file:///etc/index.html', parent: null } },
      { sender: { id: windowId }, senderFrame: null }, // the frame navigated away or was destroyed
      { sender: null, senderFrame: { url: appUrl, parent: null } },
    ];
    for (const event of refused) {
      expect(await fake.invoke(event, 'app.info', {}), JSON.stringify(event)).toMatchObject({ ok: false, error: { code: 'AUTH' } });
    }
    const noWindowYet = fakeIpcMain();
    bindIpc(noWindowYet.ipc, spy.dispatch, appWindowSender(() => null, () => true));
    expect(await noWindowYet.invoke(fromApp, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'AUTH' } });
    expect(spy.calls).toEqual([]);

    expect(await fake.invoke(fromApp, 'app.info', {})).toEqual({ ok: true, data: null });
    expect(spy.calls).toEqual([{ command: 'app.info', input: {} }]);
  });

  it('rejects invalid input for every command before it leaves main', async () => {
    const fake = fakeIpcMain();
    const spy = spyDispatch();
    bindIpc(fake.ipc, spy.dispatch, trustApp);
    for (const command of Object.keys(commands)) {
      for (const input of [42, 'text', [1, 2], { unexpectedField: true }]) {
        const result = await fake.invoke(fromApp, command, input);
        expect(result, `${command} ${JSON.stringify(input)}`).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining(command) } });
      }
    }
    expect(spy.calls).toEqual([]);
  });

  it('names what was wrong and where, for inputs a person could really send', async () => {
    const fake = fakeIpcMain();
    const spy = spyDispatch();
    bindIpc(fake.ipc, spy.dispatch, trustApp);
    const cases: [string, unknown, RegExp][] = [
      ['exceptions.resolve', { ids: [1], reason: ' ' }, /reason: give a reason of at least 3 characters/],
      ['refunds.refundNow', { returnId: 'R1', orderLineId: 'L1', override: { reason: '' } }, /override\.reason/],
      ['exceptions.snooze', { ids: [1], until: 'next week' }, /until: expected an ISO date-time/],
      [
        'settings.saveConnections',
        { mirakl: { baseUrl: 'https://user:pw@x.mirakl.net' }, rebound: { baseUrl: 'https://api.rebound.example', clientId: 'rw' } },
        /mirakl\.baseUrl: expected an http\(s\) address/,
      ],
      [
        'settings.saveConnections',
        { mirakl: { baseUrl: 'https://x.mirakl.net' }, rebound: { baseUrl: 'https://api.rebound.example', clientId: 'rw' }, secrets: { miraklApiKey: '' } },
        /secrets\.miraklApiKey/,
      ],
      ['exceptions.get', { id: -1 }, /id:/],
    ];
    for (const [command, input, message] of cases) {
      const result = (await fake.invoke(fromApp, command, input)) as { ok: boolean; error?: { code: string; message: string } };
      expect(result.ok, command).toBe(false);
      expect(result.error?.code).toBe('VALIDATION');
      expect(result.error?.message).toMatch(message);
    }
    expect(spy.calls).toEqual([]);
  });

  it('refuses unknown commands, non-string names, oversized and non-plain inputs', async () => {
    const fake = fakeIpcMain();
    const spy = spyDispatch();
    bindIpc(fake.ipc, spy.dispatch, trustApp);
    expect(await fake.invoke(fromApp, 'fs.readFile', {})).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await fake.invoke(fromApp, 42, {})).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await fake.invoke(fromApp, 'mappings.preview', { file: 'policy', text: 'x'.repeat(maxInputBytes + 1) })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringMatching(/bytes is more than/) },
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(await fake.invoke(fromApp, 'app.info', circular)).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(spy.calls).toEqual([]);
  });

  it('passes on the parsed input, with the contract’s defaults filled in', async () => {
    const fake = fakeIpcMain();
    const spy = spyDispatch();
    bindIpc(fake.ipc, spy.dispatch, trustApp);
    await fake.invoke(fromApp, 'returns.list', {});
    await fake.invoke(fromApp, 'app.info', undefined);
    expect(spy.calls).toEqual([
      { command: 'returns.list', input: { page: { offset: 0, limit: 100 }, sort: { field: 'dateCreated', direction: 'desc' }, filter: {} } },
      { command: 'app.info', input: {} },
    ]);
  });
});
