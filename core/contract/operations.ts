import { z } from 'zod';

// The bridge's own operations: the write freeze (DESIGN row 27), the outgoing calls (the intent ledger) and the
// matcher's suggestions waiting for a person. Lists are paged, sorted and filtered by the database.

const page = z
  .object({
    offset: z.number().int().nonnegative().max(10_000_000).default(0),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict()
  .default({ offset: 0, limit: 100 });
const direction = z.enum(['asc', 'desc']);
const reason = z.string().trim().min(1, 'say why').max(1000);
const pageOf = <T extends z.ZodType>(row: T) =>
  z.object({ rows: z.array(row), total: z.number().int().nonnegative(), totalIsCapped: z.boolean(), offset: z.number().int() });

// ---- write freeze ----------------------------------------------------------------------------------------------------

export const writeFreezeSchema = z.object({ at: z.string(), by: z.string(), reason: z.string() });
export type WriteFreeze = z.infer<typeof writeFreezeSchema>;

export const writesStatusOutput = z.object({
  /** Set while no call that changes Mirakl or ReBound is sent (reads go on); who set it, when, why. */
  frozen: writeFreezeSchema.nullable(),
  /** Calls planned or due again that wait to be sent (while frozen: what goes out once it is lifted). */
  waiting: z.number().int().nonnegative(),
  /**
   * Refunds and stock updates the engine holds back by itself, and why: someone else is writing to the shop
   * (FOREIGN_WRITE, until a person acknowledges it) or the database was restored or copied in (RESTORED_DATABASE, until
   * Mirakl has been read again). Each with the exception that says so. Empty when none.
   */
  paused: z.array(z.object({ exceptionId: z.number().int(), type: z.enum(['FOREIGN_WRITE', 'RESTORED_DATABASE']), title: z.string(), since: z.string() })).default([]),
});
export type WritesStatus = z.infer<typeof writesStatusOutput>;
export const writesFreezeInput = z.object({ reason }).strict();

// ---- outgoing calls ----------------------------------------------------------------------------------------------------

export const intentStates = ['planned', 'sending', 'confirmed', 'failed', 'uncertain'] as const;
/** Every kind of call the engine makes that changes Mirakl or ReBound, with the words a person reads. */
export const intentKinds = {
  'mirakl.accept': { system: 'mirakl', label: 'Accept return (RT21)' },
  'mirakl.patch': { system: 'mirakl', label: 'Label and tracking (RT04)' },
  'mirakl.receive': { system: 'mirakl', label: 'Mark received (RT25)' },
  'mirakl.compliance': { system: 'mirakl', label: 'Inspection result (RT26)' },
  'mirakl.close': { system: 'mirakl', label: 'Close return (RT27)' },
  'mirakl.refund': { system: 'mirakl', label: 'Refund (OR28)' },
  'stock.import': { system: 'mirakl', label: 'Stock update (STO01)' },
  'rebound.salesOrder': { system: 'rebound', label: 'ReBound sales order' },
  'rebound.createReturn': { system: 'rebound', label: 'ReBound return order' },
} as const satisfies Record<string, { system: 'mirakl' | 'rebound'; label: string }>;
export const intentKindNames = Object.keys(intentKinds) as [keyof typeof intentKinds, ...(keyof typeof intentKinds)[]];

export const outgoingListInput = z
  .object({
    page,
    /** In the order the calls were planned (newest first by default). */
    sort: z.object({ direction }).strict().default({ direction: 'desc' }),
    filter: z
      .object({
        states: z.array(z.enum(intentStates)).min(1).max(5).optional(),
        kind: z.enum(intentKindNames).optional(),
        system: z.enum(['mirakl', 'rebound']).optional(),
        returnId: z.string().trim().min(1).max(120).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const outgoingRowSchema = z.object({
  id: z.number().int(),
  kind: z.string(),
  label: z.string(),
  system: z.enum(['mirakl', 'rebound']),
  state: z.enum(intentStates),
  attempts: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** What reading the source of truth proved about a call whose outcome was unknown; null when none was needed. */
  probe: z.string().nullable(),
  /** The return the call is for; null for calls about an order or the stock. */
  returnId: z.string().nullable(),
  /** What it is about when not a return: an order id, or the stock. */
  subject: z.string(),
  orderLineId: z.string().nullable(),
  /** Refunds: the amount in minor units and its currency. */
  amountMinor: z.number().int().nullable(),
  currency: z.string().nullable(),
});
export type OutgoingRow = z.infer<typeof outgoingRowSchema>;
export const outgoingListOutput = pageOf(outgoingRowSchema).extend({
  /** Calls whose outcome is unknown (state uncertain), whatever the filter: probed before anything is sent again. */
  uncertain: z.number().int().nonnegative(),
});

// ---- matcher suggestions ---------------------------------------------------------------------------------------------------

export const suggestionsListInput = z
  .object({
    page,
    filter: z.object({ kind: z.enum(['refund_line', 'item_unit']).optional(), returnId: z.string().trim().min(1).max(120).optional() }).strict().default({}),
  })
  .strict();

export const suggestionRowSchema = z.object({
  kind: z.enum(['refund_line', 'item_unit']),
  /** refund_line: Mirakl's refund id; item_unit: ReBound's item id. */
  subject: z.string(),
  /** refund_line: `return:order line`; item_unit: our unit id. */
  candidate: z.string(),
  status: z.enum(['suggested', 'ambiguous']),
  basis: z.string(),
  rank: z.number().int(),
  returnId: z.string().nullable(),
  commercialId: z.string().nullable(),
  /** What is being matched, in words (the refund's amount and state, or the item's SKU and grade). */
  detail: z.string(),
});
export type SuggestionRow = z.infer<typeof suggestionRowSchema>;
export const suggestionsListOutput = pageOf(suggestionRowSchema);
