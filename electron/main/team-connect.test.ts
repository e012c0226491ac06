import { describe, expect, it } from 'vitest';
import type { Dispatch } from '../../core/app/dispatch';
import { ipcChannels, type Result } from '../../core/contract';
import { bindIpc, type IpcEventLike, type IpcMainLike } from './ipc';
import { connectingDispatch } from './team-connect';
import type { TeamServerConfig } from './team-server-config';

// Settings › Connect: main answers team.connect itself. It connects only to a team server that still presents the
// certificate the person compared, and never from a desktop that syncs a shop Live with its own credentials.

const fingerprint = Array(32).fill('A1').join(':');
const probe = { origin: 'https://workbench.example:8443', fingerprint, subject: 'CN=workbench.example', validTo: '2029-01-01T00:00:00.000Z', isTeamServer: true };
const info = { name: 'Returns Workbench', version: '1', dataDir: '/d', databaseFile: '/d/w.db', mode: 'sandbox', schemaVersion: 30, startedAt: '2026-12-06T16:00:00.000Z' };

function setup(answers: { info?: Result<unknown>; probe?: Result<unknown> } = {}) {
  const calls: { command: string; input: unknown }[] = [];
  const connected: TeamServerConfig[] = [];
  const core: Dispatch = async (command, input) => {
    calls.push({ command, input });
    if (command === 'app.info') return answers.info ?? { ok: true, data: info };
    if (command === 'team.probe') return answers.probe ?? { ok: true, data: probe };
    return { ok: true, data: { echoed: command } };
  };
  const dispatch = connectingDispatch(core, { connect: (config) => void connected.push(config), now: () => new Date('2026-12-06T16:30:00.000Z') });
  return { dispatch, calls, connected };
}

describe('team.connect, answered by main', () => {
  it('connects to the server it probes again, pinning the certificate the person compared', async () => {
    const { dispatch, calls, connected } = setup();
    expect(await dispatch('team.connect', { url: 'https://workbench.example:8443', fingerprint })).toEqual({
      ok: true,
      data: { origin: 'https://workbench.example:8443', relaunching: true },
    });
    expect(calls.map((c) => c.command)).toEqual(['app.info', 'team.probe']);
    expect(calls[1]?.input).toEqual({ url: 'https://workbench.example:8443' });
    expect(connected).toEqual([{ origin: 'https://workbench.example:8443', fingerprint, connectedAt: '2026-12-06T16:30:00.000Z' }]);
  });

  it('refuses when the certificate changed since the check, the address is no team server, or it cannot be reached', async () => {
    const other = Array(32).fill('B2').join(':');
    const changed = setup({ probe: { ok: true, data: { ...probe, fingerprint: other } } });
    const answer = await changed.dispatch('team.connect', { url: 'https://workbench.example:8443', fingerprint });
    expect(answer).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(!answer.ok && answer.error.message).toContain(`now presents a different certificate (SHA-256 ${other}) from the one you checked (${fingerprint})`);
    expect(changed.connected).toEqual([]);

    const notTeam = setup({ probe: { ok: true, data: { ...probe, isTeamServer: false } } });
    expect(await notTeam.dispatch('team.connect', { url: 'https://workbench.example:8443', fingerprint })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: expect.stringContaining('is not a Returns Workbench team server') },
    });
    const down = setup({ probe: { ok: false, error: { code: 'UPSTREAM', message: 'Could not reach workbench.example:8443: the connection was refused.' } } });
    expect(await down.dispatch('team.connect', { url: 'https://workbench.example:8443', fingerprint })).toEqual({
      ok: false,
      error: { code: 'UPSTREAM', message: 'Could not reach workbench.example:8443: the connection was refused.' },
    });
    expect([...notTeam.connected, ...down.connected]).toEqual([]);
  });

  it('refuses a desktop that syncs Live with its own credentials, or shows an evidence bundle, before reaching out', async () => {
    const live = setup({ info: { ok: true, data: { ...info, mode: 'live' } } });
    const answer = await live.dispatch('team.connect', { url: 'https://workbench.example:8443', fingerprint });
    expect(answer).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('second engine refunding and restocking the same shop') } });
    expect(live.calls.map((c) => c.command)).toEqual(['app.info']);
    const bundle = setup({ info: { ok: true, data: { ...info, bundle: { file: '/b.zip' } } } });
    expect(await bundle.dispatch('team.connect', { url: 'https://workbench.example:8443', fingerprint })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: expect.stringContaining('evidence bundle') },
    });
    expect([...live.connected, ...bundle.connected]).toEqual([]);
  });

  it('passes every other command to the core untouched', async () => {
    const { dispatch, calls } = setup();
    expect(await dispatch('returns.list', { page: { offset: 0, limit: 1 } })).toEqual({ ok: true, data: { echoed: 'returns.list' } });
    expect(calls).toEqual([{ command: 'returns.list', input: { page: { offset: 0, limit: 1 } } }]);
  });

  it('gets only inputs the contract accepts, from the IPC boundary', async () => {
    const { dispatch, connected } = setup();
    const handlers = new Map<string, (e: IpcEventLike, ...args: unknown[]) => unknown>();
    const ipc: IpcMainLike = { handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: () => {} };
    bindIpc(ipc, dispatch, () => true);
    const invoke = (input: unknown) => handlers.get(ipcChannels.invoke)?.({ sender: { id: 1 }, senderFrame: { url: 'app://workbench/index.html', parent: null } }, 'team.connect', input);
    expect(await invoke({ url: 'http://workbench.example:8443', fingerprint })).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('url: The address must start with https://') } });
    expect(await invoke({ url: 'https://workbench.example:8443', fingerprint: 'sha256/xyz' })).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('fingerprint:') } });
    expect(await invoke({ url: 'https://workbench.example:8443', fingerprint: fingerprint.toLowerCase() })).toMatchObject({ ok: true });
    expect(connected.map((c) => c.fingerprint)).toEqual([fingerprint]);
  });
});
