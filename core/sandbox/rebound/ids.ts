import type { Rng } from '../rng';

// Identifiers drawn from a forked stream, so that an entity's ids depend on the seed and its own key, never on
// how many other entities were created before it.

/** `(00)` + 18 digits: the GS1 SSCC style of reboundOrderId / reboundItemId (§1.8), with a valid check digit. */
export function ssccId(prefix: '687' | '987', rng: Rng): string {
  const body = `${prefix}${digits(rng, 7)}${digits(rng, 7)}`;
  return `(00)${body}${gs1CheckDigit(body)}`;
}

/** A Royal Mail S10-shaped tracking number: two letters, eight digits, a check digit, GB. */
export function trackingNumber(rng: Rng): string {
  const serial = digits(rng, 8);
  const weights = [8, 6, 4, 2, 3, 5, 9, 7];
  const sum = [...serial].reduce((acc, d, i) => acc + Number(d) * (weights[i] ?? 0), 0);
  const raw = 11 - (sum % 11);
  const check = raw === 10 ? 0 : raw === 11 ? 5 : raw;
  return `RB${serial}${check}GB`;
}

/** A version-4-shaped UUID from the seeded stream (dedup keys must be reproducible). */
export function uuidLike(rng: Rng): string {
  const hex = Array.from({ length: 8 }, () => rng.int(0, 0xffff).toString(16).padStart(4, '0')).join('');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function opaqueToken(rng: Rng): string {
  return `rb_${Array.from({ length: 4 }, () => rng.int(0, 0x7fffffff).toString(16).padStart(8, '0')).join('')}`;
}

function digits(rng: Rng, count: number): string {
  return String(rng.int(0, 10 ** count - 1)).padStart(count, '0');
}

function gs1CheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const fromRight = body.length - 1 - i;
    sum += Number(body.charAt(i)) * (fromRight % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}
