// Money in the sandbox is kept in integer minor units (pence, cents) and only turned into Mirakl's decimal
// numbers at the edge, so refund sums compare exactly.
export const toMajor = (minor: number): number => Math.round(minor) / 100;
export const toMinor = (major: number): number => Math.round(major * 100);

/** VAT included in a tax-inclusive amount at `ratePercent`. */
export function includedVat(grossMinor: number, ratePercent: number): number {
  return Math.round(grossMinor - grossMinor / (1 + ratePercent / 100));
}

export interface TaxAmount {
  code: string;
  amountMinor: number;
}

/** A tax split evenly over several codes (a shop charging e.g. tax1 + tax2); the remainder goes to the first. */
export function splitTax(totalMinor: number, codes: readonly string[]): TaxAmount[] {
  if (codes.length === 0) return [];
  const share = Math.floor(totalMinor / codes.length);
  return codes.map((code, i) => ({ code, amountMinor: i === 0 ? totalMinor - share * (codes.length - 1) : share }));
}

/**
 * PROPORTIONAL_TO_AMOUNT: the tax of a partial amount is the full tax scaled by amount / base, code by code; the
 * last code takes the rounding, so refunding the whole base gives back exactly the whole tax.
 */
export function proportionalTax(full: readonly TaxAmount[], amountMinor: number, baseMinor: number): TaxAmount[] {
  if (full.length === 0 || baseMinor <= 0) return [];
  const total = Math.round((full.reduce((s, t) => s + t.amountMinor, 0) * amountMinor) / baseMinor);
  let left = total;
  return full.map((t, i) => {
    const part = i === full.length - 1 ? left : Math.round((t.amountMinor * amountMinor) / baseMinor);
    left -= part;
    return { code: t.code, amountMinor: part };
  });
}
