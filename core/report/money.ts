// Money is integer minor units everywhere in the report; these turn it into text at the edges without float
// arithmetic, so 1999 is always "19.99" and never "19.990000000000002".

export function assertMinor(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new Error(`${what} must be a whole number of minor units, got ${value}`);
  return value;
}

/** "-1234.56" — plain decimal, for CSV and for parsing back. */
export function decimal(minor: number): string {
  assertMinor(minor, 'amount');
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** "-1,234.56" — grouped, for people. */
export function grouped(minor: number): string {
  const [units = '0', cents = '00'] = decimal(Math.abs(minor)).split('.');
  return `${minor < 0 ? '-' : ''}${units.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}

/** "GBP 1,234.56" */
export function money(minor: number, currency: string | null): string {
  return `${currency && currency !== '?' ? currency : '(unknown currency)'} ${grouped(minor)}`;
}

/** Amounts per currency as one phrase: "GBP 12.00, EUR 3.50" (or "nothing"). */
export function moneyList(amounts: { currency: string; minor: number }[]): string {
  const shown = amounts.filter((a) => a.minor !== 0);
  return shown.length ? shown.map((a) => money(a.minor, a.currency)).join(', ') : 'nothing';
}
