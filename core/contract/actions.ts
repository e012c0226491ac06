import { z } from 'zod';
import { actionIds } from './exceptions';

// Which of people's actions can run now, and why not: the server answers from the checks each action itself makes
// (core/reconcile/resolutions.ts), so the UI offers only what would not be refused, and says why the rest is not.

/** What every exception offers besides its type's resolutions. */
export const manualActionIds = ['resolve', 'assign', 'snooze', 'comment', 'reopen'] as const;
export type ManualActionId = (typeof manualActionIds)[number];

/** What a person can do on one return line: refund it now (or retry its refund), or refund it with an override. */
export const lineActionIds = ['refund_now', 'refund_override'] as const;
export type LineActionId = (typeof lineActionIds)[number];

const availability = {
  label: z.string(),
  /** The person must give a reason (kept in the audit log). */
  needsReason: z.boolean(),
  help: z.string(),
  isAllowed: z.boolean(),
  /** Why it cannot run now, in plain words; null when it can. */
  whyNot: z.string().nullable(),
};

export const exceptionActionSchema = z.object({
  id: z.enum([...actionIds, ...manualActionIds]),
  /** A resolution of the exception's type (the catalogue's), or one every exception has. */
  kind: z.enum(['resolution', 'manual']),
  /** It asks for the Mirakl offer SKU to restock (remap). */
  needsOfferSku: z.boolean(),
  ...availability,
});
export type ExceptionAction = z.infer<typeof exceptionActionSchema>;

export const lineActionSchema = z.object({ id: z.enum(lineActionIds), ...availability });
export type LineAction = z.infer<typeof lineActionSchema>;

export const exceptionsActionsInput = z.object({ ids: z.array(z.number().int().positive()).min(1).max(200) }).strict();
export const exceptionsActionsOutput = z.object({
  /** Set when nothing can be done here at all (an evidence bundle is read-only): the UI shows no action. */
  readOnly: z.string().nullable(),
  /** In the order asked; an id with no exception is left out. */
  exceptions: z.array(z.object({ id: z.number().int(), actions: z.array(exceptionActionSchema) })),
});
