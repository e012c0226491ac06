import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { serverCertificate } from '../../core/team/certificate';
import { certificateChangedDialog, checkPinned, electronFingerprintToHex, verdicts } from './certificate-pin';

// The pinned certificate of a team server's client: Electron's fingerprint ("sha256/<base64>") compared with the one the
// person checked (colon hex, as the server prints it), for the server's host only.

/** What Electron's certificate.fingerprint holds for a certificate: SHA-256 of its DER bytes, base64, after "sha256/". */
const electronFingerprintOf = (pem: string) => `sha256/${createHash('sha256').update(new X509Certificate(pem).raw).digest('base64')}`;

describe('certificate pinning', () => {
  it('converts Electron’s fingerprint of a real team server certificate to the one the server prints', async () => {
    const temp = makeTempDir('rw-pin-');
    try {
      const made = await serverCertificate({ dataDir: temp.dir, hostNames: ['workbench.example'] });
      expect(electronFingerprintToHex(electronFingerprintOf(made.cert))).toBe(made.fingerprint);
    } finally {
      temp.remove();
    }
  });

  it('converts byte by byte, and reads nothing but a SHA-256 fingerprint', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8));
    expect(electronFingerprintToHex(`sha256/${bytes.toString('base64')}`)).toBe(
      '00:08:10:18:20:28:30:38:40:48:50:58:60:68:70:78:80:88:90:98:A0:A8:B0:B8:C0:C8:D0:D8:E0:E8:F0:F8',
    );
    for (const bad of [
      `sha1/${Buffer.alloc(20).toString('base64')}`,
      `sha256/${Buffer.alloc(31).toString('base64')}`,
      `sha256/${Buffer.alloc(33).toString('base64')}`,
      `SHA256/${Buffer.alloc(32).toString('base64')}`,
      Buffer.alloc(32).toString('base64'),
      `sha256/${'!'.repeat(43)}=`,
      '00:08:10',
      '',
    ]) {
      expect(electronFingerprintToHex(bad), bad).toBeNull();
    }
  });

  it('accepts the pinned certificate on the server’s host only, and says which certificate a changed one is', () => {
    const pinnedBytes = Buffer.alloc(32, 0xab);
    const otherBytes = Buffer.alloc(32, 0xcd);
    const pinned = { origin: 'https://Workbench.example:8443', fingerprint: Array(32).fill('ab').join(':') };
    const electron = (b: Buffer) => `sha256/${b.toString('base64')}`;
    expect(checkPinned({ hostname: 'workbench.example', fingerprint: electron(pinnedBytes) }, pinned)).toEqual({ verdict: 'accept' });
    expect(checkPinned({ hostname: 'workbench.example', fingerprint: electron(otherBytes) }, pinned)).toEqual({
      verdict: 'refuse',
      reason: 'changed',
      presented: Array(32).fill('CD').join(':'),
    });
    expect(checkPinned({ hostname: 'workbench.example', fingerprint: 'sha1/AAAA' }, pinned)).toEqual({ verdict: 'refuse', reason: 'changed', presented: 'sha1/AAAA' });
    expect(checkPinned({ hostname: 'evil.example', fingerprint: electron(pinnedBytes) }, pinned)).toEqual({ verdict: 'refuse', reason: 'other-host' });
    expect(checkPinned({ hostname: '::1', fingerprint: electron(pinnedBytes) }, { ...pinned, origin: 'https://[::1]:8443' })).toEqual({ verdict: 'accept' });
    expect(verdicts).toEqual({ accept: 0, refuse: -2 });
  });

  it('tells the person the certificate changed, with both fingerprints, and offers to disconnect', () => {
    const dialog = certificateChangedDialog({ origin: 'https://workbench.example:8443', pinned: 'AA:BB', presented: 'CC:DD' });
    expect(dialog.message).toBe('The team server’s certificate changed');
    expect(dialog.detail).toContain('Connected to (SHA-256):\nAA:BB');
    expect(dialog.detail).toContain('Presented now (SHA-256):\nCC:DD');
    expect(dialog.detail).toContain('https://workbench.example:8443');
    expect(dialog.buttons[dialog.disconnectButton]).toBe('Disconnect (use this computer alone)');
    expect(dialog.buttons[dialog.cancelId]).toBe('Quit');
  });
});
