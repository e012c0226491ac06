import { request } from 'node:http';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { teamServerUrlProblem, type TeamProbe } from '../contract';
import { AppError } from '../errors';

// "Connect to a team server" (issue 25): before the desktop pins a server, the person checks what it presents. The
// probe reaches the address over TLS *without* trusting its certificate (a team server's is usually self-signed), and
// answers the certificate's SHA-256 fingerprint for the person to compare with the one the server printed: that
// comparison, not a certificate authority, is what makes the connection trustworthy. Nothing is signed in or sent
// but GET /auth/mode, on the same TLS connection whose certificate is answered.

export const probeTimeoutMs = 10_000;

export async function probeTeamServer(rawUrl: string, options: { timeoutMs?: number } = {}): Promise<TeamProbe> {
  const problem = teamServerUrlProblem(rawUrl);
  if (problem) throw new AppError('VALIDATION', problem, [{ path: ['url'], message: problem }]);
  const url = new URL(rawUrl.trim());
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 443 : Number(url.port);
  const timeoutMs = options.timeoutMs ?? probeTimeoutMs;
  const where = `${url.host}`;

  const socket = connect({ host, port, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  const deadline = setTimeout(
    () => socket.destroy(Object.assign(new Error('timeout'), { code: 'PROBE_TIMEOUT' })),
    timeoutMs,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    }).catch((error: unknown) => {
      throw new AppError('UPSTREAM', unreachable(error as NodeJS.ErrnoException, where, port, timeoutMs));
    });
    const certificate = socket.getPeerX509Certificate();
    if (!certificate) throw new AppError('UPSTREAM', `${where} completed TLS without presenting a certificate: it cannot be pinned.`);
    const isTeamServer = await askMode(socket, url.host).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'PROBE_TIMEOUT') {
        throw new AppError('UPSTREAM', `${where} presented its certificate but did not answer GET /auth/mode within ${timeoutMs / 1000} s.`);
      }
      return false;
    });
    return {
      origin: url.origin,
      fingerprint: certificate.fingerprint256,
      subject: certificate.subject.replace(/\n/g, ', '),
      validTo: new Date(certificate.validTo).toISOString(),
      isTeamServer,
    };
  } finally {
    clearTimeout(deadline);
    socket.destroy();
  }
}

/** GET /auth/mode on the already open TLS connection: a team server answers {ok: true, data: {team: true}}. */
function askMode(socket: TLSSocket, hostHeader: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(
      { createConnection: () => socket, method: 'GET', path: '/auth/mode', headers: { host: hostHeader, accept: 'application/json', connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > 64 * 1024) req.destroy(new Error('the answer is too long'));
        });
        res.on('end', () => {
          try {
            const parsed = JSON.parse(body) as { ok?: unknown; data?: { team?: unknown } };
            resolve(res.statusCode === 200 && parsed.ok === true && parsed.data?.team === true);
          } catch {
            resolve(false);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    socket.once('close', () => reject(Object.assign(new Error('closed'), { code: (socket.errored as NodeJS.ErrnoException | null)?.code })));
    req.end();
  });
}

function unreachable(error: NodeJS.ErrnoException, where: string, port: number, timeoutMs: number): string {
  const lead = `Could not reach ${where}:`;
  switch (error.code) {
    case 'PROBE_TIMEOUT':
      return `${lead} no answer within ${timeoutMs / 1000} s (a firewall, a wrong port, or the server is down).`;
    case 'ECONNREFUSED':
      return `${lead} the connection was refused (nothing listens on port ${port}: is the team server running, and on that port?).`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${lead} no such host name (check the spelling, or use the address the server printed).`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${lead} the network has no route to it.`;
    case 'ECONNRESET':
      return `${lead} it closed the connection during the TLS handshake (is it an HTTPS server?).`;
    default:
      if (error.code?.startsWith('ERR_SSL') || /wrong version number|packet length too long|unknown protocol|http request/i.test(error.message)) {
        return `${lead} it does not speak TLS on port ${port} (is it an http:// address, or another service?).`;
      }
      return `${lead} ${error.message}`;
  }
}
