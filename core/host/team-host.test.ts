import { X509Certificate } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import type { Core } from '../app/create-core';
import { serverCertificate, type ServerCertificate } from '../team/certificate';
import { createTeam, type Team } from '../team/team';
import { makeTestCore } from '../../test/support/core';
import { rawRequest } from '../../test/support/http';
import { makeTempDir } from '../../test/support/temp-dir';
import { originRefusal, startWebHost, type WebHost } from './server';

// The web host as a team server: HTTPS with the certificate made on the first start, sign-in for a session, and the
// team's checks on every command and on the event stream.

describe('web host as a team server', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let team: Team;
  let host: WebHost;
  let certificate: ServerCertificate;
  let adminPassword: string;

  beforeAll(async () => {
    temp = makeTempDir();
    const made = await makeTestCore(join(temp.dir, 'data'));
    core = made.core;
    team = createTeam({ db: core.store.db, clock: made.clock, log: silentLogger, dispatch: core.dispatch, audit: (e) => createAuditLog(core.store.db, made.clock).append(e) });
    adminPassword = (await team.ensureFirstAdmin())!.password;
    certificate = await serverCertificate({ dataDir: join(temp.dir, 'data'), hostNames: ['workbench.example', 'localhost', '127.0.0.1'] });
    host = await startWebHost({
      dispatch: core.dispatch,
      events: core.events,
      team,
      tls: certificate,
      hostNames: ['workbench.example', 'localhost', '127.0.0.1'],
      log: silentLogger,
      staticDir: null,
      heartbeatMs: 50,
    });
  });
  afterAll(async () => {
    await host.close();
    core.close();
    temp.remove();
  });

  const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    rawRequest(host.port, {
      method: 'POST',
      path,
      headers: { host: `workbench.example:${host.port}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      ca: certificate.cert,
    });
  async function signIn(username: string, password: string): Promise<string> {
    const res = await send('/auth/sign-in', { username, password });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { data: { token: string } }).data.token;
  }

  it('makes a certificate once, for the names it answers to, with its key readable by its owner only, and serves it', async () => {
    expect(certificate.source).toBe('generated');
    const parsed = new X509Certificate(certificate.cert);
    expect(parsed.checkHost('workbench.example')).toBe('workbench.example');
    expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(statSync(join(temp.dir, 'data', 'tls', 'server.key')).mode & 0o077).toBe(0);
    const again = await serverCertificate({ dataDir: join(temp.dir, 'data'), hostNames: ['workbench.example'] });
    expect(again).toMatchObject({ source: 'kept', fingerprint: certificate.fingerprint });
    const served = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: host.port, servername: 'workbench.example', ca: certificate.cert }, () => {
        resolve(socket.getPeerX509Certificate()!.fingerprint256);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(served).toBe(certificate.fingerprint);
    expect(host.url).toBe(`https://workbench.example:${host.port}/`);
  });

  it('says it is a team server, and answers 401 without a session, with a wrong one, and for a wrong password', async () => {
    const mode = await rawRequest(host.port, { path: '/auth/mode', headers: { host: `localhost:${host.port}` }, ca: certificate.cert });
    expect(JSON.parse(mode.body)).toEqual({ ok: true, data: { team: true } });
    expect((await send('/api/app.info', {})).status).toBe(401);
    expect((await send('/api/app.info', {}, { authorization: 'Bearer not-a-session' })).status).toBe(401);
    const events = await rawRequest(host.port, { path: '/api/events', headers: { host: `localhost:${host.port}`, authorization: 'Bearer nope' }, ca: certificate.cert });
    expect(events.status).toBe(401);
    const wrong = await send('/auth/sign-in', { username: 'admin', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error).toEqual({ code: 'AUTH', message: 'Wrong username or password.' });
    expect((await send('/auth/sign-in', { username: 'admin' })).status).toBe(400);
  });

  it('refuses a Host it does not answer to', async () => {
    const res = await send('/auth/sign-in', { username: 'admin', password: adminPassword }, { host: `rebind.example:${host.port}` });
    expect(res.status).toBe(403);
  });

  it('runs commands for a signed-in person: 403 for a role that may not, 202 for a change that waits for approval, and an ended session is refused', async () => {
    const admin = await signIn('admin', adminPassword);
    const bearer = { authorization: `Bearer ${admin}` };
    expect((await send('/api/returns.list', {}, bearer)).status).toBe(403); // the temporary password first
    expect((await send('/api/team.changePassword', { current: adminPassword, next: 'a long admin passphrase' }, bearer)).status).toBe(200);
    const created = await send('/api/accounts.save', { username: 'vic', displayName: 'Vic', roles: ['viewer'] }, bearer);
    expect(created.status).toBe(200);
    const vicPassword = (JSON.parse(created.body) as { data: { temporaryPassword: string } }).data.temporaryPassword;
    const vic = await signIn('vic', vicPassword);
    await send('/api/team.changePassword', { current: vicPassword, next: 'vic has a passphrase' }, { authorization: `Bearer ${vic}` });
    const refused = await send('/api/exceptions.comment', { id: 1, body: 'x' }, { authorization: `Bearer ${vic}` });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.code).toBe('FORBIDDEN');
    expect((await send('/api/returns.list', {}, { authorization: `Bearer ${vic}` })).status).toBe(200);

    const proposed = await send('/api/settings.setCadences', { stockFlushSeconds: 120 }, bearer);
    expect(proposed.status).toBe(202);
    expect(JSON.parse(proposed.body).error).toMatchObject({ code: 'APPROVAL_REQUIRED', proposalId: 1 });

    expect((await send('/auth/sign-out', {}, { authorization: `Bearer ${vic}` })).status).toBe(200);
    expect((await send('/api/returns.list', {}, { authorization: `Bearer ${vic}` })).status).toBe(401);
  });

  it('streams events to a session and ends the stream when the session ends', async () => {
    const admin = await signIn('admin', 'a long admin passphrase');
    const { request } = await import('node:https');
    const ended = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: host.port, path: '/api/events', headers: { host: `localhost:${host.port}`, authorization: `Bearer ${admin}` }, ca: certificate.cert, servername: 'localhost' },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text.includes(': connected') && !text.includes('data.changed')) core.events.emit('data.changed', { tables: ['feeds'] });
            if (text.includes('event: data.changed') && team.session(admin)) team.signOut(admin);
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(ended).toContain('event: data.changed');
    expect(existsSync(join(temp.dir, 'data', 'tls', 'server.crt'))).toBe(true);
  });
});

describe('originRefusal on a default port', () => {
  // A browser leaves the default port out of Host and Origin: a team server on 443 is "workbench.example".
  const request = (host: string, origin?: string) => ({ headers: { host, ...(origin ? { origin } : {}) } });

  it('accepts the bare host name on 443 over HTTPS (and 80 over HTTP), and still refuses other names and ports', () => {
    expect(originRefusal(request('workbench.example', 'https://workbench.example'), 443, ['workbench.example'], 'https')).toBeNull();
    expect(originRefusal(request('workbench.example:443', 'https://workbench.example:443'), 443, ['workbench.example'], 'https')).toBeNull();
    expect(originRefusal(request('127.0.0.1'), 80, ['127.0.0.1'], 'http')).toBeNull();
    expect(originRefusal(request('workbench.example'), 8443, ['workbench.example'], 'https')).not.toBeNull();
    expect(originRefusal(request('workbench.example', 'http://workbench.example'), 443, ['workbench.example'], 'https')).not.toBeNull();
    expect(originRefusal(request('evil.example'), 443, ['workbench.example'], 'https')).not.toBeNull();
  });
});
