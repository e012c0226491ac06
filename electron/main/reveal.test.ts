import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipcChannels } from '../../core/contract';
import type { Core } from '../../core/app/create-core';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { bindIpc, type IpcEventLike, type IpcMainLike } from './ipc';
import { revealingDispatch } from './reveal';

// The desktop's "Show in folder", from the IPC channel the renderer has to the core's answer: an exported file is shown
// in its folder; anything the core does not hand out (outside the reports folder, through .. or a link) shows nothing.

const temp = makeTempDir('rw-reveal-');
let core: Core;
const shown: string[] = [];
let invoke: (...args: unknown[]) => Promise<unknown>;
const folder = () => join(temp.dir, 'data', 'reports', '2026-09', '2026-10-01T00-01-00Z-not-locked');
const event: IpcEventLike = { sender: { id: 1 }, senderFrame: { url: 'app://workbench/index.html', parent: null } };

beforeAll(async () => {
  core = (await makeTestCore(join(temp.dir, 'data'))).core;
  mkdirSync(folder(), { recursive: true });
  writeFileSync(join(folder(), 'returns-report-2026-09.pdf'), '%PDF');
  writeFileSync(join(temp.dir, 'secret.txt'), 'not an export');
  symlinkSync(join(temp.dir, 'secret.txt'), join(folder(), 'link.pdf'));
  const handlers = new Map<string, (e: IpcEventLike, ...args: unknown[]) => unknown>();
  const ipc: IpcMainLike = { handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: () => {} };
  bindIpc(ipc, revealingDispatch(core.dispatch, (path) => void shown.push(path)), () => true);
  invoke = async (...args) => handlers.get(ipcChannels.invoke)?.(event, ...args);
});
afterAll(() => {
  core.close();
  temp.remove();
});

describe('Show in folder', () => {
  it('shows an exported file in its folder', async () => {
    const path = join(folder(), 'returns-report-2026-09.pdf');
    expect(await invoke('reports.file', { path, reveal: true })).toEqual({ ok: true, data: { name: 'returns-report-2026-09.pdf', path, bytes: 4 } });
    expect(shown).toEqual([path]);
  });

  it('shows nothing when only asked where the file is, or when the core refuses the path', async () => {
    shown.length = 0;
    await invoke('reports.file', { path: join(folder(), 'returns-report-2026-09.pdf') });
    for (const path of [join(folder(), '..', '..', '..', '..', 'secret.txt'), join(folder(), 'link.pdf'), folder(), 'relative.pdf']) {
      const answer = (await invoke('reports.file', { path, reveal: true })) as { ok: boolean; error?: { code: string } };
      expect({ path, ok: answer.ok, code: answer.error?.code }).toEqual({ path, ok: false, code: path === 'relative.pdf' ? 'VALIDATION' : 'NOT_FOUND' });
    }
    expect(shown).toEqual([]);
  });
});
