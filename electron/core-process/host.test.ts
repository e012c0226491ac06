import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { MappingError } from '../../core/mappings/load';
import { openStore, StoreOpenError } from '../../core/store/db';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { describeBootError } from './boot';
import { serveCore, type HostedCore } from './host';
import type { FromCore } from './protocol';

const config = { dataDir: '/data', migrationsDir: '/m', mappingsDir: '/maps', appVersion: '1' };

function fakeLink() {
  const posted: FromCore[] = [];
  let listener: (m: unknown) => void = () => {};
  return {
    posted,
    link: { post: (m: FromCore) => void posted.push(m), onMessage: (l: (m: unknown) => void) => void (listener = l) },
    send: (m: unknown) => listener(m),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function fakeCore(log: string[]): HostedCore {
  return {
    mode: 'sandbox',
    dispatch: async (command) => ({ ok: true, data: command }),
    onEvent: () => () => {},
    shutdown: async (drainMs) => {
      log.push(`shutdown ${drainMs}`);
      return { isDrained: true, interrupted: 0 };
    },
  };
}

describe('the core process host', () => {
  it('says hello first, boots once from the config, then answers commands', async () => {
    const { posted, link, send } = fakeLink();
    const boots: unknown[] = [];
    serveCore({ link, boot: async (c) => (boots.push(c), fakeCore([])), describeBootError, exit: () => {} });
    expect(posted).toEqual([{ type: 'hello' }]);
    send({ type: 'invoke', id: 1, command: 'app.info', input: {} });
    expect(posted[1]).toMatchObject({ type: 'result', id: 1, result: { ok: false, error: { message: 'The background service is not ready.' } } });
    send({ type: 'boot', config });
    send({ type: 'boot', config });
    send({ type: 'boot', config: { dataDir: '' } });
    await flush();
    expect(boots).toEqual([config]);
    expect(posted[2]).toEqual({ type: 'ready', mode: 'sandbox' });
    send({ type: 'invoke', id: 2, command: 'sync.status', input: {} });
    await flush();
    expect(posted[3]).toEqual({ type: 'result', id: 2, result: { ok: true, data: 'sync.status' } });
  });

  it('reports a failed start with whether a restart can help, then exits', async () => {
    const { posted, link, send } = fakeLink();
    const exits: number[] = [];
    serveCore({
      link,
      boot: async () => {
        throw new StoreOpenError('The database could not be opened.', '/data/workbench.sqlite', [], 'file is not a database');
      },
      describeBootError,
      exit: (code) => exits.push(code),
    });
    send({ type: 'boot', config });
    await flush();
    expect(posted.at(-1)).toEqual({ type: 'bootFailed', message: 'The database could not be opened.', isPermanent: true });
    expect(exits).toEqual([1]);
  });

  it('stops the core on shutdown and reports what it found, then exits', async () => {
    const { posted, link, send } = fakeLink();
    const log: string[] = [];
    const exits: number[] = [];
    serveCore({ link, boot: async () => fakeCore(log), describeBootError, exit: (code) => exits.push(code) });
    send({ type: 'boot', config });
    await flush();
    send({ type: 'shutdown', drainMs: 1500 });
    send({ type: 'shutdown', drainMs: 1500 });
    await flush();
    expect(log).toEqual(['shutdown 1500']);
    expect(posted.at(-1)).toEqual({ type: 'stopped', report: { isDrained: true, interrupted: 0 } });
    expect(exits).toEqual([0]);
  });

  it('closes a core that finishes booting after it was asked to stop', async () => {
    const { link, send } = fakeLink();
    const log: string[] = [];
    const exits: number[] = [];
    let finishBoot: (core: HostedCore) => void = () => {};
    serveCore({ link, boot: () => new Promise((resolve) => (finishBoot = resolve)), describeBootError, exit: (code) => exits.push(code) });
    send({ type: 'boot', config });
    send({ type: 'shutdown', drainMs: 1000 });
    expect(exits).toEqual([]);
    finishBoot(fakeCore(log));
    await flush();
    await flush();
    expect(log).toEqual(['shutdown 0']);
    expect(exits).toEqual([0]);
  });
});

describe('boot errors', () => {
  it('a damaged database or a bad mapping file is permanent; anything else may pass', () => {
    const temp = makeTempDir();
    writeFileSync(join(temp.dir, 'workbench.sqlite'), 'this is not a database at all, just text');
    let storeError: unknown;
    try {
      openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock() });
    } catch (error) {
      storeError = error;
    }
    temp.remove();
    expect(describeBootError(storeError)).toMatchObject({ isPermanent: true });
    expect(describeBootError(new MappingError('policy.yaml', [{ path: 'sla', message: 'required' }]))).toMatchObject({
      isPermanent: true,
      message: expect.stringContaining('policy.yaml'),
    });
    expect(describeBootError(new Error('EMFILE: too many open files'))).toEqual({ message: 'EMFILE: too many open files', isPermanent: false });
  });
});
