import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../adapters/logger';
import { makeTestCore } from '../../test/support/core';
import { oversizedPost, rawRequest } from '../../test/support/http';
import { makeTempDir } from '../../test/support/temp-dir';
import type { Core } from '../app/create-core';
import { startWebHost, type WebHost } from './server';

describe('web host', () => {
  const token = 'test-token-0123456789abcdefghijklmnopqrstuvwxyz';
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let host: WebHost;
  let staticDir: string;

  beforeAll(async () => {
    temp = makeTempDir();
    staticDir = join(temp.dir, 'ui');
    mkdirSync(join(staticDir, 'assets'), { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>shell</title>');
    writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(temp.dir, 'secret.txt'), 'outside the static root');
    core = (await makeTestCore(join(temp.dir, 'data'))).core;
    host = await startWebHost({ dispatch: core.dispatch, events: core.events, token, log: silentLogger, staticDir, heartbeatMs: 50 });
  });
  afterAll(async () => {
    await host.close();
    core.close();
    temp.remove();
  });

  const base = () => ({ host: `127.0.0.1:${host.port}` });
  const call = (command: string, body: string, headers: Record<string, string> = {}) =>
    rawRequest(host.port, {
      method: 'POST',
      path: `/api/${command}`,
      headers: { ...base(), 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body,
    });

  it('binds to loopback and puts the token in the fragment of its address', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/#token=`));
  });

  it('answers a command with the contract envelope', async () => {
    const res = await call('app.info', '{}');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.ok).toBe(true);
    expect(body.data).toMatchObject({ name: 'Returns Workbench', mode: 'sandbox', schemaVersion: expect.any(Number) });
    expect(body.data.schemaVersion).toBeGreaterThan(0);
  });

  it('answers 401 without the token or with a wrong one', async () => {
    const missing = await rawRequest(host.port, { method: 'POST', path: '/api/app.info', headers: { ...base(), 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error.code).toBe('AUTH');
    const wrong = await call('app.info', '{}', { authorization: `Bearer ${token.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
  });

  it('answers 401 on the event stream without the token', async () => {
    const res = await rawRequest(host.port, { path: '/api/events', headers: base() });
    expect(res.status).toBe(401);
  });

  it('answers 403 for a foreign Origin even with the right token', async () => {
    const res = await call('app.info', '{}', { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.message).toMatch(/origin "https:\/\/evil\.example"/);
  });

  it('answers 403 when the Host is not loopback (DNS rebinding)', async () => {
    const res = await call('app.info', '{}', { host: `rebind.example:${host.port}` });
    expect(res.status).toBe(403);
    const page = await rawRequest(host.port, { path: '/', headers: { host: 'rebind.example' } });
    expect(page.status).toBe(403);
  });

  it('accepts its own origin under either loopback name', async () => {
    const res = await call('app.info', '{}', { origin: `http://localhost:${host.port}`, host: `localhost:${host.port}` });
    expect(res.status).toBe(200);
  });

  it('answers 400 for malformed JSON, naming the problem', async () => {
    const res = await call('app.info', '{"oops":');
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe('VALIDATION');
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it('answers 400 with the zod issues for input the contract rejects', async () => {
    const res = await call('sync.status', '{"unexpected": 1}');
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe('VALIDATION');
    expect(body.error.issues.length).toBeGreaterThan(0);
    expect(body.error.message).toMatch(/sync\.status/);
  });

  it('answers 404 for an unknown command and 415 for a non-JSON body', async () => {
    expect((await call('nothing.here', '{}')).status).toBe(404);
    expect((await call('app.info', 'x=1', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
  });

  it('serves the built renderer, falls back to the shell, and never leaves its root', async () => {
    const page = await rawRequest(host.port, { path: '/', headers: base() });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await rawRequest(host.port, { path: '/assets/app.js', headers: base() })).status).toBe(200);
    expect((await rawRequest(host.port, { path: '/returns', headers: base() })).body).toContain('<title>shell</title>');
    expect((await rawRequest(host.port, { path: '/assets/missing.js', headers: base() })).status).toBe(404);
    const escape = await rawRequest(host.port, { path: '/../secret.txt', headers: base() });
    expect(escape.body).not.toContain('outside the static root');
    const encoded = await rawRequest(host.port, { path: '/%2e%2e/secret.txt', headers: base() });
    expect(encoded.body).not.toContain('outside the static root');
  });

  it('streams contract events to a client holding the token', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: host.port, path: '/api/events', headers: { ...base(), authorization: `Bearer ${token}` } },
        (res) => {
          expect(res.headers['content-type']).toMatch(/text\/event-stream/);
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text.includes(': connected')) core.events.emit('data.changed', { tables: ['feeds'] });
            if (text.includes('event: data.changed')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', (e) => (e.message.includes('aborted') || e.message.includes('socket hang up') ? undefined : reject(e)));
      req.end();
    });
    expect(received).toContain('data: {"tables":["feeds"]}');
  });
});

// Found by the team spec (issue 25): a stream the host ended (its close, or a team session's end at a heartbeat) kept
// its event subscription until the socket's 'close'; an event emitted in between — the sync's last state change while
// the server stops — was written after the end, and the unhandled 'error' of that write crashed the process.
describe('web host: a stream it ended receives no more events', () => {
  it('emitting an event while closing writes nothing to the ended stream and throws nothing', async () => {
    const temp = makeTempDir();
    const { core } = await makeTestCore(join(temp.dir, 'data'));
    const token = 'closing-token-0123456789abcdefghijklmnopqrstuv';
    const host = await startWebHost({ dispatch: core.dispatch, events: core.events, token, log: silentLogger, staticDir: null });
    const errors: Error[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: host.port, path: '/api/events', headers: { host: `127.0.0.1:${host.port}`, authorization: `Bearer ${token}` } }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => chunk.includes(': connected') && resolve());
          res.on('error', () => undefined);
        });
        req.on('error', (e) => (e.message.includes('socket hang up') || e.message.includes('aborted') ? undefined : reject(e)));
        req.end();
      });
      // Closing ends the stream; the core then announces its own stop (as the workbench's close does).
      const closing = host.close();
      const onError = (error: Error) => errors.push(error);
      process.on('uncaughtException', onError);
      try {
        core.events.emit('data.changed', { tables: ['feeds'] });
        await closing;
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        process.off('uncaughtException', onError);
      }
    } finally {
      core.close();
      temp.remove();
    }
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});

// Issue 21, findings 8 and 9: a malformed escape in a path is the client's mistake (400, nothing logged as a
// failure), and a 413 says the connection closes rather than advertising keep-alive and dropping it.
describe('web host: bad requests', () => {
  const token = 'test-token-0123456789abcdefghijklmnopqrstuvwxyz';
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let host: WebHost;
  const logged: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string) => void logged.push(`warn ${m}`), error: (m: string) => void logged.push(`error ${m}`) };

  beforeAll(async () => {
    temp = makeTempDir();
    const staticDir = join(temp.dir, 'ui');
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>shell</title>');
    core = (await makeTestCore(join(temp.dir, 'data'))).core;
    host = await startWebHost({ dispatch: core.dispatch, events: core.events, token, log, staticDir });
  });
  afterAll(async () => {
    await host.close();
    core.close();
    temp.remove();
  });

  it('answers 400 for a malformed % escape, with or without the token, and logs no failure', async () => {
    const headers = { host: `127.0.0.1:${host.port}` };
    for (const path of ['/%E0%A4%A', '/assets/%', '/%ZZ.js']) {
      const res = await rawRequest(host.port, { path, headers });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body).error.code, path).toBe('VALIDATION');
    }
    const api = await rawRequest(host.port, {
      method: 'POST',
      path: '/api/app.%E0%A4%A',
      headers: { ...headers, 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
    expect(api.status).toBe(400);
    expect(logged).toEqual([]);
  });

  it('answers 413 for a body over 1 MB with connection: close', async () => {
    const res = await oversizedPost(host.port, '/api/app.info', { host: `127.0.0.1:${host.port}`, 'content-type': 'application/json', authorization: `Bearer ${token}` });
    expect(res.status).toBe(413);
    expect(res.connection).toBe('close');
  });

  describe('downloads of exported files', () => {
    const base = () => ({ host: `127.0.0.1:${host.port}` });
    const exported = () => join(temp.dir, 'data', 'reports', '2026-09', '2026-10-01T00-01-00Z-not-locked');
    const ticketFor = (path: string, headers: Record<string, string> = {}) =>
      rawRequest(host.port, {
        method: 'POST',
        path: '/api/downloads',
        headers: { ...base(), 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify({ path }),
      });

    beforeAll(() => {
      writeFileSync(join(temp.dir, 'secret.txt'), 'outside the reports folder');
      mkdirSync(exported(), { recursive: true });
      writeFileSync(join(exported(), 'returns-report-2026-09-summary.csv'), 'currency,refunds\nGBP,3\n');
      mkdirSync(join(exported(), '..', '.partial-abc'), { recursive: true });
      writeFileSync(join(exported(), '..', '.partial-abc', 'half.csv'), 'half');
      symlinkSync(join(temp.dir, 'secret.txt'), join(exported(), 'linked.csv'));
    });

    it('hands out an exported file once, as an attachment, through a ticket asked for with the token', async () => {
      const file = join(exported(), 'returns-report-2026-09-summary.csv');
      expect((await rawRequest(host.port, { method: 'POST', path: '/api/downloads', headers: { ...base(), 'content-type': 'application/json' }, body: JSON.stringify({ path: file }) })).status).toBe(401);
      const issued = await ticketFor(file);
      expect(issued.status).toBe(200);
      const { url, name, bytes } = JSON.parse(issued.body).data as { url: string; name: string; bytes: number };
      expect({ name, bytes }).toEqual({ name: 'returns-report-2026-09-summary.csv', bytes: 23 });
      expect(url).toMatch(/^\/downloads\/[\w-]{32}$/);
      const got = await rawRequest(host.port, { path: url, headers: base() });
      expect(got.status).toBe(200);
      expect(got.headers['content-disposition']).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
      expect(got.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(got.body).toBe('currency,refunds\nGBP,3\n');
      // Used once: the same link answers 404 now, as does a made-up one.
      expect((await rawRequest(host.port, { path: url, headers: base() })).status).toBe(404);
      expect((await rawRequest(host.port, { path: '/downloads/not-a-ticket', headers: base() })).status).toBe(404);
    });

    it('refuses anything outside the reports folder: .., a link out of it, a folder, a file being written, a relative path', async () => {
      const refused = [
        [join(exported(), '..', '..', '..', '..', 'secret.txt'), 404],
        [join(exported(), 'linked.csv'), 404],
        [exported(), 404],
        [join(exported(), '..', '.partial-abc', 'half.csv'), 404],
        [join(exported(), 'missing.csv'), 404],
        ['reports/2026-09/x.csv', 400],
      ] as const;
      for (const [path, status] of refused) {
        const res = await ticketFor(path);
        expect({ path, status: res.status, ok: JSON.parse(res.body).ok }).toEqual({ path, status, ok: false });
      }
      // Nor is the token's check skipped for a foreign page.
      expect((await ticketFor(join(exported(), 'returns-report-2026-09-summary.csv'), { origin: 'https://evil.example' })).status).toBe(403);
    });
  });
});
