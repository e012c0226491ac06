// A desktop connected to a team server trusts exactly one certificate: the one whose SHA-256 fingerprint the person
// compared with what the server printed when they connected. No certificate authority can stand in for it, and a
// changed certificate is refused and shown, never accepted quietly (it is what someone in the middle would present).

/** Chromium's answers to a certificate verification request (session.setCertificateVerifyProc). */
export const verdicts = { accept: 0, refuse: -2 } as const;

/**
 * Electron's `certificate.fingerprint` ("sha256/<base64 of the 32-byte hash>") as Node and browsers write it (hex pairs
 * separated by colons, upper case); null for anything else (another hash, bad base64, a wrong length).
 */
export function electronFingerprintToHex(fingerprint: string): string | null {
  const match = /^sha256\/([A-Za-z0-9+/]{43}=)$/.exec(fingerprint);
  if (!match?.[1]) return null;
  const bytes = Buffer.from(match[1], 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== match[1]) return null;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

export interface CertificateCheck {
  hostname: string;
  /** Electron's form: "sha256/<base64>". */
  fingerprint: string;
}

export type PinVerdict =
  | { verdict: 'accept' }
  | { verdict: 'refuse'; reason: 'other-host' }
  | { verdict: 'refuse'; reason: 'changed'; presented: string };

/**
 * Whether to accept a certificate a page's connection presents: for the team server's host, only the pinned one;
 * for any other host, none (the window loads nothing else, and the session refuses other requests anyway).
 */
export function checkPinned(check: CertificateCheck, pinned: { origin: string; fingerprint: string }): PinVerdict {
  if (check.hostname.toLowerCase() !== new URL(pinned.origin).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()) {
    return { verdict: 'refuse', reason: 'other-host' };
  }
  const presented = electronFingerprintToHex(check.fingerprint);
  if (presented !== null && presented === pinned.fingerprint.toUpperCase()) return { verdict: 'accept' };
  return { verdict: 'refuse', reason: 'changed', presented: presented ?? check.fingerprint };
}

/** What the person is told when the server presents another certificate than the one they connected to. */
export function certificateChangedDialog(input: { origin: string; pinned: string; presented: string }) {
  return {
    type: 'warning' as const,
    title: 'Returns Workbench',
    message: 'The team server’s certificate changed',
    detail: [
      `${input.origin} presented a different certificate from the one this computer connected to, so nothing was sent to it.`,
      '',
      `Connected to (SHA-256):\n${input.pinned}`,
      '',
      `Presented now (SHA-256):\n${input.presented}`,
      '',
      'If your team’s admin replaced the server’s certificate, ask them for the new fingerprint, disconnect, and connect again in Settings. If not, someone may be intercepting the connection: do not sign in, and tell your admin.',
    ].join('\n'),
    buttons: ['Disconnect (use this computer alone)', 'Quit'],
    defaultId: 1,
    cancelId: 1,
    disconnectButton: 0,
  };
}
