import { z } from 'zod';

// The shape of every file in mappings/. Each has a version; a record decided by a mapping keeps that version.
// The fields people edit in a table say what is wrong in its words (the editor adds the row and the column), never
// as zod's "Invalid input: expected string".

/** Text that must be there: says what is expected when it is missing, empty or not text. */
const filled = (expected: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? `is missing: ${expected}` : `must be text (in quotes in YAML): ${expected}`) })
    .min(1, `is empty: ${expected}`);

export const reasonCodesSchema = z
  .object({
    version: z.number().int().positive(),
    reasons: z.array(
      z
        .object({
          mirakl: filled('a Mirakl return reason code, such as RETURN_PDNT_TOO_SMALL').describe('a Mirakl return reason code such as RETURN_PDNT_TOO_SMALL'),
          rebound: filled('the reason text ReBound shows its hub, such as "Too small"').describe('the reason text ReBound shows its hub'),
          refund: filled('one of Mirakl\'s refund reasons (RE01, type REFUND), such as "11"').describe('a Mirakl RE01 reason code of type REFUND'),
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.reasons.forEach((r, i) => {
      const earlier = seen.get(r.mirakl);
      if (earlier !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['reasons', i, 'mirakl'], message: `${r.mirakl} is already mapped in row ${earlier + 1}` });
      }
      seen.set(r.mirakl, i);
    });
  });
export type ReasonCodes = z.output<typeof reasonCodesSchema>;

export const skuOffersSchema = z
  .object({
    version: z.number().int().positive(),
    overrides: z.array(
      z.union(
        [
          z.object({ orderSku: filled('the SKU sold on the order line'), offerSku: filled('the Mirakl offer SKU to restock') }).strict(),
          z.object({ orderSku: filled('the SKU sold on the order line'), restock: z.literal(false) }).strict(),
        ],
        { error: 'needs the returned SKU, and either the Mirakl offer SKU to restock or "restock: false" (never restocked)' },
      ),
    ),
  })
  .strict()
  .superRefine((file, ctx) => {
    // One line per order SKU: with two, which of them the units follow would be a matter of reading order.
    const seen = new Map<string, number>();
    file.overrides.forEach((o, i) => {
      const earlier = seen.get(o.orderSku);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'orderSku'], message: `${o.orderSku} already has an override in row ${earlier + 1}` });
      else seen.set(o.orderSku, i);
    });
  });
export type SkuOffers = z.output<typeof skuOffersSchema>;

/** Where the sku-offers mapping restocks a unit sold as `orderSku`: its own offer, the override's, or never (skip). */
export type RestockTarget = { kind: 'offer'; sku: string } | { kind: 'skip' };

/** Where `overrides` restock each order SKU (RestockTarget), looked up by the SKU: built once, asked per unit. */
export function restockTargets(overrides: SkuOffers['overrides']): (orderSku: string) => RestockTarget {
  const byOrderSku = new Map(overrides.map((o) => [o.orderSku, o]));
  return (orderSku) => {
    const o = byOrderSku.get(orderSku);
    if (!o) return { kind: 'offer', sku: orderSku };
    return 'restock' in o ? { kind: 'skip' } : { kind: 'offer', sku: o.offerSku };
  };
}

const positive = z.number().positive();

export const policySchema = z
  .object({
    version: z.number().int().positive(),
    returns: z.object({ autoAccept: z.boolean(), orderWaitMinutes: positive }).strict(),
    // Files written before the tax mode was a setting read as the mode the app always used.
    mirakl: z
      .object({ orderTaxMode: z.enum(['TAX_INCLUDED', 'TAX_EXCLUDED']).describe("the shop's Mirakl order_tax_mode") })
      .strict()
      .default({ orderTaxMode: 'TAX_INCLUDED' }),
    refunds: z
      .object({
        trigger: z.enum(['registered', 'inspected']),
        allowCarrierScanRefunds: z.boolean(),
        shipping: z.enum(['never', 'whenLineFullyReturned']),
        toleranceMinor: z.number().int().nonnegative(),
      })
      .strict(),
    stock: z.object({ sellableGrades: z.array(z.string().min(1)).min(1) }).strict(),
    sla: z
      .object({
        returnNotCreatedHours: positive,
        statusNotPushedHours: positive,
        refundStalledHours: positive,
        parcelStalledDays: positive,
        statusDriftHours: positive,
      })
      .strict(),
    cadences: z
      .object({
        returnsPollSeconds: z.number().min(300, 'Mirakl allows RT11 at most every 5 minutes (300 s)'),
        ordersPollSeconds: z.number().min(60, 'Mirakl allows OR11 at most once a minute (60 s)'),
        reboundPollSeconds: positive,
        stockFlushSeconds: z.number().min(60, 'Mirakl allows STO01 at most once a minute (60 s)'),
        stockStatusSeconds: z.number().min(15, 'Mirakl allows STO02 at most every 15 s'),
        // Files written before these were settings read as the defaults below.
        returnsChangesPollSeconds: z.number().min(300, 'Mirakl allows RT11 at most every 5 minutes (300 s)').default(1800),
        eventDebounceSeconds: z.number().min(0).max(10, 'a notification is acted on within 10 s').default(5),
      })
      .strict(),
    // Files written before batching and ReBound's budget were settings read as the defaults below.
    batching: z
      .object({
        windowSeconds: z.number().min(0).max(600, 'at most 600 s').describe("how long a stage's writes may wait while more are coming").default(60),
        fillSeconds: z.number().min(0).max(900, 'at most 900 s').describe("how long a stage's writes may wait while their call would fill").default(300),
      })
      .strict()
      .default({ windowSeconds: 60, fillSeconds: 300 }),
    rebound: z
      .object({ callsPerMinute: z.number().int().positive().describe("ReBound's rate limit for this client (its default is 300 a minute)").default(300) })
      .strict()
      .default({ callsPerMinute: 300 }),
  })
  .strict();
export type Policy = z.output<typeof policySchema>;
