import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import type { Core } from '../app/create-core';
import { startWebHost, type WebHost } from '../host/server';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { serverCertificate, type ServerCertificate } from './certificate';
import { probeTeamServer } from './probe';
import { createTeam } from './team';

// Settings › Connect to a team server checks an address before the desktop pins it: against a real team server (HTTPS
// with its self-signed certificate), the loopback browser host served over TLS, and the ways an address fails.

describe('team.probe', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let teamHost: WebHost;
  let plainHost: WebHost;
  let certificate: ServerCertificate;
  const extra: Server[] = [];

  beforeAll(async () => {
    temp = makeTempDir('rw-probe-');
    const made = await makeTestCore(join(temp.dir, 'data'));
    core = made.core;
    const team = createTeam({ db: core.store.db, clock: made.clock, log: silentLogger, dispatch: core.dispatch, audit: (e) => createAuditLog(core.store.db, made.clock).append(e) });
    certificate = await serverCertificate({ dataDir: join(temp.dir, 'data'), hostNames: ['localhost', '127.0.0.1'] });
    const common = { dispatch: core.dispatch, events: core.events, tls: certificate, hostNames: ['127.0.0.1', 'localhost'], log: silentLogger, staticDir: null };
    teamHost = await startWebHost({ ...common, team });
    plainHost = await startWebHost({ ...common, token: 'per-launch' });
  });
  afterAll(async () => {
    await teamHost.close();
    await plainHost.close();
    for (const server of extra) server.close();
    core.close();
    temp.remove();
  });

  const listen = async (server: Server): Promise<number> => {
    extra.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  it('answers the certificate a team server presents, without trusting it, and that it is a team server', async () => {
    const probe = await probeTeamServer(`https://127.0.0.1:${teamHost.port}`);
    expect(probe).toEqual({
      origin: `https://127.0.0.1:${teamHost.port}`,
      fingerprint: certificate.fingerprint,
      subject: 'CN=localhost',
      validTo: expect.stringMatching(/^20\d\d-\d\d-\d\dT/),
      isTeamServer: true,
    });
    expect(probe.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(Date.parse(probe.validTo)).toBeGreaterThan(Date.now() + 800 * 86_400_000);
    // A trailing slash is the same address; through the contract it is the same answer.
    expect(await core.dispatch('team.probe', { url: `https://localhost:${teamHost.port}/` })).toEqual({
      ok: true,
      data: { ...probe, origin: `https://localhost:${teamHost.port}` },
    });
  });

  it('says an HTTPS server that is not a team server is not one', async () => {
    const probe = await probeTeamServer(`https://127.0.0.1:${plainHost.port}`);
    expect(probe).toMatchObject({ fingerprint: certificate.fingerprint, isTeamServer: false });
  });

  it('refuses an address that is not a team server’s origin, naming what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['', /Type the team server’s address/],
      ['workbench.example:8443', /no scheme: start it with https:\/\//],
      ['http://127.0.0.1:8443', /must start with https:\/\/.*not http:/],
      ['https://admin:pw@127.0.0.1:8443', /must not contain a user name or password/],
      ['https://127.0.0.1:8443/api/app.info', /without the path “\/api\/app.info”/],
      ['https://127.0.0.1:8443/?next=1', /without a query/],
      ['https://127.0.0.1:8443/#token=x', /without a fragment/],
      ['https://exa mple.com', /is not a web address/],
    ];
    for (const [url, message] of cases) {
      await expect(probeTeamServer(url), url).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(message) });
      const answer = await core.dispatch('team.probe', { url });
      expect(answer.ok ? null : answer.error, url).toMatchObject({ code: 'VALIDATION', issues: [{ path: ['url'], message: expect.stringMatching(message) }] });
    }
  });

  it('says why it could not reach an address: refused, not TLS, no answer in time, unknown host', async () => {
    const closed = createNetServer();
    const closedPort = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(probeTeamServer(`https://127.0.0.1:${closedPort}`)).rejects.toMatchObject({
      code: 'UPSTREAM',
      message: `Could not reach 127.0.0.1:${closedPort}: the connection was refused (nothing listens on port ${closedPort}: is the team server running, and on that port?).`,
    });

    const plainHttp = await listen(createHttpServer((_req, res) => res.end('hello')));
    await expect(probeTeamServer(`https://127.0.0.1:${plainHttp}`)).rejects.toMatchObject({
      code: 'UPSTREAM',
      message: expect.stringMatching(/does not speak TLS on port \d+ \(is it an http:\/\/ address/),
    });

    const held: Socket[] = [];
    const silent = await listen(createNetServer((socket) => void held.push(socket)));
    const started = Date.now();
    await expect(probeTeamServer(`https://127.0.0.1:${silent}`, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'UPSTREAM',
      message: expect.stringContaining('no answer within 0.3 s'),
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    for (const socket of held) socket.destroy();

    await expect(probeTeamServer('https://no-such-host.invalid')).rejects.toMatchObject({ code: 'UPSTREAM', message: expect.stringContaining('no such host name') });
  });
});
