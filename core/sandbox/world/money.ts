// Money in the sandbox is kept in integer minor units (pence, cents) and only turned into Mirakl's decimal
// numbers at the edge, so refund sums compare exactly.
export const toMajor = (minor: number): number => Math.round(minor) / 100;
export const toMinor = (major: number): number => Math.round(major * 100);

/** VAT included in a tax-inclusive amount at `ratePercent`. */
export function includedVat(grossMinor: number, ratePercent: number): number {
  return Math.round(grossMinor - grossMinor / (1 + ratePercent / 100));
}
