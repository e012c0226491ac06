import { z } from 'zod';

// The closed set of error codes that may cross the boundary. The renderer switches on these, never on text.
// KEYCHAIN_UNAVAILABLE: a secret could not be stored or read because the OS keychain is missing or locked.
// FORBIDDEN: the person signed in to a team server has no role that may run this command.
// APPROVAL_REQUIRED: not done yet: the change was proposed, and runs once another person approves it.
export const errorCodes = [
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'GUARD_BLOCKED',
  'AUTH',
  'FORBIDDEN',
  'APPROVAL_REQUIRED',
  'UPSTREAM',
  'INTERNAL',
  'KEYCHAIN_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const issueSchema = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
});
export type Issue = z.infer<typeof issueSchema>;

export const errorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
  issues: z.array(issueSchema).optional(),
  /** APPROVAL_REQUIRED: the proposal that waits for a second person. */
  proposalId: z.number().int().optional(),
});
export type ContractError = z.infer<typeof errorSchema>;

export type Result<T> = { ok: true; data: T } | { ok: false; error: ContractError };
