import { createHmac, timingSafeEqual } from 'node:crypto';

// Notification signing (NOTES §6.5, a proposal: ReBound documents no HMAC scheme). The timestamp is part of the
// signed text so that a captured body cannot be replayed under a fresh timestamp.

/** base64(HMAC-SHA256(secret, "<timestamp>.<raw body>")). */
export function signReboundPayload(secret: string, timestamp: string | number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('base64');
}

/** Checks a received X-Rebound-Signature against the raw bytes as they arrived (not re-serialised JSON). */
export function verifyReboundSignature(secret: string, timestamp: string | number, rawBody: string | Buffer, signature: string): boolean {
  const expected = Buffer.from(signReboundPayload(secret, timestamp, rawBody), 'utf8');
  const given = Buffer.from(signature.trim(), 'utf8');
  // A different length would make timingSafeEqual throw; it is a mismatch either way.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
