import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { ErrorCode, Result } from '../contract';
import type { Dispatch } from '../app/dispatch';
import type { EventBus } from '../app/event-bus';
import { systemClock } from '../adapters/system';
import type { Clock, Logger } from '../ports';
import type { Team } from '../team/team';

// The web host serves the same contract as Electron's IPC, to a browser on this machine only. Three guards run
// on every request: loopback Host/Origin (against DNS rebinding), the per-launch token, and contract validation.
//
// Exported files are downloads: a page asks (with the token) for a ticket to one file, and the browser fetches the
// ticket's address as a plain link, streamed as an attachment. A link cannot carry the token (it would end up in the
// browser's download history), so the ticket stands in for it: random, for that one file, used once, within a minute.
// Which files may be handed out is the core's decision (reports.file: the data folder's reports folder only).
//
// As a team server (npm run serve) the same host serves HTTPS to other machines: people sign in (POST /auth/sign-in)
// and their session token replaces the per-launch one; each command runs through the team's checks (core/team/team.ts)
// as that person's action. GET /auth/mode tells the page which of the two it talks to.

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // AG Grid injects its theme styles at run time
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

const statusFor: Record<ErrorCode, number> = {
  VALIDATION: 400,
  AUTH: 401,
  FORBIDDEN: 403,
  APPROVAL_REQUIRED: 202,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GUARD_BLOCKED: 409,
  UPSTREAM: 502,
  INTERNAL: 500,
  KEYCHAIN_UNAVAILABLE: 503,
};

const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const maxBodyBytes = 1024 * 1024;

const downloadTypes: Record<string, string> = {
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.zip': 'application/zip',
};
const downloadTicketMs = 60_000;

export interface WebHostOptions {
  dispatch: Dispatch;
  events: EventBus;
  /** Browser mode on this machine: the per-launch token every request carries. */
  token?: string;
  /** A team server: people sign in, and every command runs as its session's person through the team's checks. */
  team?: Team;
  /** Serve HTTPS with this certificate (PEM) and key. */
  tls?: { cert: string; key: string };
  /** The address to listen on (default 127.0.0.1). */
  listen?: string;
  /** The host names a request may name in Host and Origin (default 127.0.0.1 and localhost). */
  hostNames?: string[];
  log: Logger;
  /** Built renderer to serve; null serves the API only. */
  staticDir: string | null;
  port?: number;
  heartbeatMs?: number;
  /** For download tickets' expiry (real time). */
  clock?: Clock;
}

export interface WebHost {
  port: number;
  /** The address to open: the token travels in the fragment, which browsers never send to a server. */
  url: string;
  close(): Promise<void>;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { team } = options;
  if (!team && !options.token) throw new Error('The web host needs a per-launch token or a team.');
  const tokenBytes = Buffer.from(options.token ?? '');
  /** How to end each open event stream. */
  const streams = new Set<() => void>();
  const clock = options.clock ?? systemClock;
  const tickets = new Map<string, { path: string; name: string; expiresAt: number }>();
  const hostNames = options.hostNames ?? ['127.0.0.1', 'localhost'];
  const scheme = options.tls ? 'https' : 'http';
  let port = 0;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      options.log.error('web host request failed', { url: req.url, error: (error as Error).message });
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'INTERNAL', message: 'The request failed unexpectedly.' } });
      else res.end();
    });
  };
  const server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createServer(onRequest);

  /** A command as the request's person: through the team's checks on a team server, straight to the core otherwise. */
  const run = (req: IncomingMessage, command: string, input: unknown) => (team ? team.run(bearer(req), command, input) : options.dispatch(command, input));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    if (options.tls) res.setHeader('strict-transport-security', 'max-age=31536000');
    const refusal = originRefusal(req, port, hostNames, scheme);
    if (refusal) return sendJson(res, 403, { ok: false, error: { code: 'AUTH', message: refusal } });

    const url = new URL(req.url ?? '/', `${scheme}://127.0.0.1:${port}`);
    if (url.pathname.startsWith('/auth/')) return handleAuth(url.pathname.slice('/auth/'.length), req, res);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      if (!isSignedIn(req)) {
        return sendJson(res, 401, {
          ok: false,
          error: {
            code: 'AUTH',
            message: team
              ? 'You are not signed in, or your session has ended: sign in again.'
              : 'Missing or wrong access token. Open the address printed when the app started.',
          },
        });
      }
      if (url.pathname === '/api/events') {
        if (req.method !== 'GET') return sendJson(res, 405, methodNotAllowed('GET'));
        return openEventStream(req, res);
      }
      if (url.pathname === '/api/downloads') {
        if (req.method !== 'POST') return sendJson(res, 405, methodNotAllowed('POST'));
        return issueDownload(req, res);
      }
      if (req.method !== 'POST') return sendJson(res, 405, methodNotAllowed('POST'));
      const command = decodePath(url.pathname.slice('/api/'.length));
      if (command === null) return sendJson(res, 400, malformedPath());
      const body = await readJson(req);
      if (!body.ok) return sendJson(res, body.status, { ok: false, error: { code: 'VALIDATION', message: body.message } });
      const result = await run(req, command, body.value);
      return sendJson(res, result.ok ? 200 : statusFor[result.error.code], result);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, methodNotAllowed('GET'));
    if (url.pathname.startsWith('/downloads/')) return serveDownload(url.pathname.slice('/downloads/'.length), req, res);
    return serveStatic(url.pathname, req, res);
  }

  /** POST /api/downloads {path}: a ticket to download that exported file, if the core hands it out. */
  async function issueDownload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (!body.ok) return sendJson(res, body.status, { ok: false, error: { code: 'VALIDATION', message: body.message } });
    const path = (body.value as { path?: unknown } | null)?.path;
    if (typeof path !== 'string') return sendJson(res, 400, { ok: false, error: { code: 'VALIDATION', message: 'Give "path": the exported file to download.' } });
    const found = await run(req, 'reports.file', { path });
    if (!found.ok) return sendJson(res, statusFor[found.error.code], found);
    const now = clock.now();
    for (const [id, t] of tickets) if (t.expiresAt <= now) tickets.delete(id);
    const ticket = randomBytes(24).toString('base64url');
    const file = found.data as { name: string; path: string; bytes: number };
    tickets.set(ticket, { path: file.path, name: file.name, expiresAt: now + downloadTicketMs });
    return sendJson(res, 200, { ok: true, data: { url: `/downloads/${ticket}`, name: file.name, bytes: file.bytes } });
  }

  /** GET /downloads/<ticket>: the file, once, as an attachment. */
  function serveDownload(ticket: string, req: IncomingMessage, res: ServerResponse): void {
    const entry = tickets.get(ticket);
    tickets.delete(ticket);
    if (!entry || entry.expiresAt <= clock.now() || !existsSync(entry.path)) {
      return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'This download link has been used or has expired: download the file again from the app.' } });
    }
    const ascii = entry.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    res.writeHead(200, {
      'content-type': downloadTypes[extname(entry.name).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(statSync(entry.path).size),
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(entry.name)}`,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(entry.path).pipe(res);
  }

  function bearer(req: IncomingMessage): string {
    const header = req.headers.authorization ?? '';
    return header.startsWith('Bearer ') ? header.slice(7) : '';
  }

  function isSignedIn(req: IncomingMessage): boolean {
    if (team) return team.session(bearer(req)) !== null;
    const presented = Buffer.from(bearer(req));
    return presented.length === tokenBytes.length && timingSafeEqual(presented, tokenBytes);
  }

  /** /auth/mode (GET, public), /auth/sign-in and /auth/sign-out (POST): a team server's sessions. */
  async function handleAuth(action: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (action === 'mode') {
      if (req.method !== 'GET') return sendJson(res, 405, methodNotAllowed('GET'));
      return sendJson(res, 200, { ok: true, data: { team: Boolean(team) } });
    }
    if (!team) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'This app has no sign-in: it is not a team server.' } });
    if (req.method !== 'POST') return sendJson(res, 405, methodNotAllowed('POST'));
    if (action === 'sign-out') {
      team.signOut(bearer(req));
      return sendJson(res, 200, { ok: true, data: { signedOut: true } });
    }
    if (action !== 'sign-in') return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `No /auth/${action} here.` } });
    const body = await readJson(req);
    if (!body.ok) return sendJson(res, body.status, { ok: false, error: { code: 'VALIDATION', message: body.message } });
    const { username, password } = (body.value ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password || username.length > 64 || password.length > 200) {
      return sendJson(res, 400, { ok: false, error: { code: 'VALIDATION', message: 'Give "username" and "password".' } });
    }
    const session = await team.signIn(username, password);
    if ('refused' in session) {
      options.log.warn('sign-in refused', { username, remote: req.socket.remoteAddress });
      return sendJson(res, 401, { ok: false, error: { code: 'AUTH', message: session.refused } });
    }
    options.log.info('signed in', { username: session.person.username, remote: req.socket.remoteAddress });
    return sendJson(res, 200, { ok: true, data: { token: session.token, expiresAt: session.expiresAt, mustChangePassword: session.mustChangePassword } });
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n: connected\n\n');
    // A stream this host ends (its close, or a team session's end) stops listening at once: an event emitted before
    // the socket's 'close' would otherwise be written after the end, and that write's error would crash the process.
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    const unsubscribe = options.events.onAny((name, payload) => {
      if (!res.writableEnded) res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
    });
    // A team session that ends (signed out, expired, account disabled) ends its stream at the next beat.
    const token = bearer(req);
    const heartbeat = setInterval(() => {
      if (team && !team.session(token)) return end();
      res.write(': ping\n\n');
    }, options.heartbeatMs ?? 25_000);
    req.on('close', end);
  }

  function serveStatic(pathname: string, req: IncomingMessage, res: ServerResponse): void {
    if (!options.staticDir) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'No user interface is served here.' } });
    const root = resolve(options.staticDir);
    const decoded = decodePath(pathname);
    if (decoded === null) return sendJson(res, 400, malformedPath());
    const requested = resolve(join(root, normalize(decoded)));
    if (requested !== root && !requested.startsWith(root + sep)) {
      return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'Not found.' } });
    }
    let file = requested;
    if (!existsSync(file) || statSync(file).isDirectory()) {
      // Client-side routes fall back to the app shell; a missing asset (it has an extension) is a plain 404.
      if (extname(pathname)) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `No file ${pathname}.` } });
      file = join(root, 'index.html');
      if (!existsSync(file)) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'The user interface has not been built.' } });
    }
    res.writeHead(200, {
      'content-type': mimeTypes[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.endsWith('.html') ? 'no-store' : 'public, max-age=3600',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.listen ?? '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    url: team ? `${scheme}://${hostNames[0]}:${port}/` : `${scheme}://127.0.0.1:${port}/#token=${encodeURIComponent(options.token ?? '')}`,
    close: () =>
      new Promise<void>((done) => {
        for (const end of [...streams]) end();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** Why a request is refused because it does not come from a page this host served, or null when it is fine. */
export function originRefusal(
  req: Pick<IncomingMessage, 'headers'>,
  port: number,
  hostNames: readonly string[] = ['127.0.0.1', 'localhost'],
  scheme: 'http' | 'https' = 'http',
): string | null {
  // name:port always; the bare name too on the scheme's default port, which browsers leave out of Host and Origin.
  const isDefaultPort = port === (scheme === 'https' ? 443 : 80);
  const allowedHosts = new Set(hostNames.flatMap((h) => [`${h.toLowerCase()}:${port}`, ...(isDefaultPort ? [h.toLowerCase()] : [])]));
  const host = req.headers.host ?? '';
  if (!allowedHosts.has(host.toLowerCase())) return `Refused: Host "${host}" is not an address this server answers to (${hostNames.join(', ')}).`;
  const origin = req.headers.origin;
  const originPrefix = `${scheme}://`;
  if (origin !== undefined && (!origin.toLowerCase().startsWith(originPrefix) || !allowedHosts.has(origin.toLowerCase().slice(originPrefix.length)))) {
    return `Refused: requests from origin "${origin}" are not allowed.`;
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') return 'Refused: cross-site requests are not allowed.';
  return null;
}

function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', contentSecurityPolicy);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
}

/** The path with its %-escapes decoded, or null when one is malformed (a client's mistake, not a failure of ours). */
function decodePath(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

function malformedPath(): Result<never> {
  return { ok: false, error: { code: 'VALIDATION', message: 'The address has a malformed %-escape.' } };
}

function methodNotAllowed(allowed: string): Result<never> {
  return { ok: false, error: { code: 'VALIDATION', message: `Method not allowed here; use ${allowed}.` } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // After a 413 the rest of the body is never read, so the connection cannot be used again: say so.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(status === 413 ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(req: IncomingMessage): Promise<BodyResult> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) return { ok: false, status: 415, message: 'Send the command input as application/json.' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return { ok: false, status: 413, message: `The request body is larger than ${maxBodyBytes} bytes.` };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, status: 400, message: `The request body is not valid JSON: ${(error as Error).message}` };
  }
}
