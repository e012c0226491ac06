import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

// The team server's TLS certificate: the one its admin gives (--cert, --key), or one made on the first start and kept
// in the data folder (tls/), valid for the names the server answers to. A self-signed certificate is trusted by
// checking its SHA-256 fingerprint, which the server prints at every start: people compare it with what their browser
// (or the desktop app's "Connect to a team server") shows before they sign in.

export interface ServerCertificate {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, colon-separated hex, as browsers show it. */
  fingerprint: string;
  source: 'given' | 'generated' | 'kept';
  file: string;
}

export class CertificateError extends Error {
  override name = 'CertificateError';
}

export async function serverCertificate(options: { dataDir: string; hostNames: string[]; certFile?: string; keyFile?: string }): Promise<ServerCertificate> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) throw new CertificateError('Give both --cert and --key (PEM files), or neither to use a self-signed certificate.');
    const cert = readPem(options.certFile, 'certificate');
    const key = readPem(options.keyFile, 'private key');
    return { cert, key, fingerprint: fingerprintOf(cert, options.certFile), source: 'given', file: options.certFile };
  }
  const dir = join(options.dataDir, 'tls');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    const parsed = new X509Certificate(cert);
    const missing = options.hostNames.filter((name) => !parsed.checkHost(name) && !parsed.checkIP(name));
    if (missing.length === 0 && Date.parse(parsed.validTo) > Date.now()) {
      return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: parsed.fingerprint256, source: 'kept', file: certFile };
    }
  }
  const now = new Date();
  const made = await generate([{ name: 'commonName', value: options.hostNames[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3_600_000),
    notAfterDate: new Date(now.getTime() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: options.hostNames.map((name) => (isIP(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name })) },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, made.private, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, made.cert);
  return { cert: made.cert, key: made.private, fingerprint: new X509Certificate(made.cert).fingerprint256, source: 'generated', file: certFile };
}

function readPem(file: string, what: string): string {
  if (!existsSync(file)) throw new CertificateError(`There is no ${what} file ${file}.`);
  const text = readFileSync(file, 'utf8');
  if (!text.includes('-----BEGIN')) throw new CertificateError(`${file} is not a PEM ${what} (no "-----BEGIN" line).`);
  return text;
}

function fingerprintOf(cert: string, file: string): string {
  try {
    return new X509Certificate(cert).fingerprint256;
  } catch (error) {
    throw new CertificateError(`${file} is not a certificate Node can read: ${(error as Error).message}`);
  }
}
