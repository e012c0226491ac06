import { z } from 'zod';
import { errorCodes } from './errors';
import { ownerTeams, severities } from './queries';

// What people can do about exceptions, as commands. Each goes through the engine's guards and intents and is
// written to the audit log with the reason given; bulk commands answer per exception.

/** Every one-click resolution the app offers (the catalogue says which types offer which). */
export const actionIds = [
  'retry',
  'dismiss',
  'push_now',
  'probe',
  'escalate',
  'refund_now',
  'acknowledge',
  'accept_variance',
  'refund_difference',
  'mark_confirmed',
  'mark_failed',
  'reprocess',
  'remap',
  'skip_restock',
  'accept_partial',
  'investigate',
  'chase_carrier',
  'mark_lost',
  'resync',
] as const;
export type ActionId = (typeof actionIds)[number];

const ids = z.array(z.number().int().positive()).min(1).max(500);
const reason = z.string().trim().min(3, 'give a reason of at least 3 characters').max(2000);

export const actResultSchema = z.object({
  id: z.number().int(),
  ok: z.boolean(),
  message: z.string(),
  error: z.object({ code: z.enum(errorCodes), message: z.string() }).optional(),
});
export const actResultsSchema = z.object({ results: z.array(actResultSchema) });

export const exceptionsActInput = z
  .object({ ids, action: z.enum(actionIds), reason: z.string().trim().max(2000).optional(), offerSku: z.string().trim().min(1).max(200).optional() })
  .strict();
export const exceptionsResolveInput = z.object({ ids, reason }).strict();
export const exceptionsAssignInput = z.object({ ids, assignee: z.string().trim().min(1).max(120).nullable() }).strict();
export const exceptionsCommentInput = z.object({ id: z.number().int().positive(), body: z.string().trim().min(1).max(4000) }).strict();
export const exceptionsSnoozeInput = z
  .object({ ids, until: z.string().datetime({ offset: true, message: 'expected an ISO date-time such as 2026-12-01T09:00:00Z' }), reason: z.string().trim().max(2000).optional() })
  .strict();
export const exceptionsReopenInput = z.object({ id: z.number().int().positive(), reason }).strict();
export const exceptionNoteSchema = z.object({ id: z.number().int(), at: z.string(), author: z.string(), body: z.string() });

export const exceptionHelpSchema = z.object({
  type: z.string(),
  title: z.string(),
  owner: z.enum(ownerTeams),
  severity: z.enum(severities),
  sla: z.string(),
  meaning: z.string(),
  check: z.array(z.string()),
  actions: z.array(z.object({ id: z.enum(actionIds), label: z.string(), needsReason: z.boolean(), help: z.string() })),
});

export const refundNowInput = z
  .object({ returnId: z.string().min(1).max(120), orderLineId: z.string().min(1).max(120), override: z.object({ reason }).strict().optional() })
  .strict();
export const refundNowOutput = z.object({
  intentId: z.number().int(),
  state: z.string(),
  amountMinor: z.number().int(),
  currency: z.string(),
  overridden: z.boolean(),
});

export const matchDecideInput = z
  .object({
    kind: z.enum(['refund_line', 'item_unit']),
    subject: z.string().min(1).max(200),
    candidate: z.string().min(1).max(200),
    decision: z.enum(['confirm', 'reject']),
    reason,
  })
  .strict();

export const auditVerifyOutput = z.object({
  ok: z.boolean(),
  entries: z.number().int(),
  problems: z.array(z.object({ seq: z.number().int(), kind: z.enum(['edited', 'missing_or_reordered', 'sequence_gap']), detail: z.string() })),
});
