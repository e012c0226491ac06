import { z } from 'zod';

// Team mode (issue 25): one server per Mirakl shop runs the engine; people sign in to it with an account whose roles
// say what they may do. Every command's roles are checked on the server (core/team/roles.ts); the renderer only hides
// what a person cannot use.

export const roles = ['viewer', 'analyst', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];
export const roleLabels: Record<Role, string> = {
  viewer: 'Viewer',
  analyst: 'Analyst',
  approver: 'Approver',
  admin: 'Integration admin',
};
export const roleSchema = z.enum(roles);

export const usernameSchema = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only');
export const passwordSchema = z.string().min(12, 'at least 12 characters').max(200);

/** A person's name as the audit log, locks and signatures show it: "Ana Ruiz (ana)", or the username alone. */
export function personLabel(person: { displayName: string; username: string }): string {
  return person.displayName === person.username ? person.username : `${person.displayName} (${person.username})`;
}

export const teamMeOutput = z.object({
  /** False in the desktop app and the loopback browser mode: one person, every role. */
  team: z.boolean(),
  username: z.string().nullable(),
  displayName: z.string(),
  roles: z.array(roleSchema),
  mustChangePassword: z.boolean(),
  sessionExpiresAt: z.string().nullable(),
});

export const changePasswordInput = z.object({ current: z.string().min(1).max(200), next: passwordSchema }).strict();

export const proposalStatuses = ['pending', 'approved', 'executed', 'failed', 'rejected', 'withdrawn'] as const;
export const proposalSchema = z.object({
  id: z.number().int(),
  command: z.string(),
  summary: z.string(),
  input: z.unknown(),
  proposedBy: z.string(),
  proposedAt: z.string(),
  status: z.enum(proposalStatuses),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionReason: z.string().nullable(),
  /** What running it answered (or the error it met), once approved. */
  outcome: z.unknown().nullable(),
});
export type Proposal = z.infer<typeof proposalSchema>;

export const proposalsListInput = z.object({ status: z.enum(['pending', 'decided', 'all']).default('pending') }).strict();
export const proposalsDecideInput = z
  .object({
    id: z.number().int().positive(),
    decision: z.enum(['approve', 'reject', 'withdraw']),
    reason: z.string().trim().max(500).optional(),
  })
  .strict();

export const accountSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  roles: z.array(roleSchema),
  createdAt: z.string(),
  createdBy: z.string(),
  disabled: z.boolean(),
  mustChangePassword: z.boolean(),
});
export type Account = z.infer<typeof accountSchema>;
export const accountsSaveInput = z
  .object({
    username: usernameSchema,
    displayName: z.string().trim().min(1).max(200).optional(),
    roles: z.array(roleSchema).min(1).optional(),
    disabled: z.boolean().optional(),
    /** A new temporary password, shown once; the person chooses their own at the next sign-in. */
    resetPassword: z.boolean().optional(),
  })
  .strict();

/**
 * What is wrong with `raw` as a team server's address, or null when it is one: https only, and the server's address
 * alone (no path, query, fragment, user name or password), because the desktop pins exactly that origin.
 */
export function teamServerUrlProblem(raw: string): string | null {
  const text = raw.trim();
  if (text === '') return 'Type the team server’s address, e.g. https://workbench.example:8443.';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return `“${text}” has no scheme: start it with https://, e.g. https://${text}.`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `“${text}” is not a web address.`;
  }
  if (url.protocol !== 'https:') return `The address must start with https:// (a team server serves HTTPS only), not ${url.protocol}//.`;
  if (url.username !== '' || url.password !== '') return 'The address must not contain a user name or password: you sign in on the server’s page.';
  if (url.hostname === '') return 'The address names no host.';
  if (url.pathname !== '/') return `Give the server’s address only, without the path “${url.pathname}”.`;
  if (url.search !== '' || text.includes('?')) return 'Give the server’s address only, without a query (“?…”).';
  if (url.hash !== '' || text.includes('#')) return 'Give the server’s address only, without a fragment (“#…”).';
  return null;
}

export const teamServerUrlSchema = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    const problem = teamServerUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A certificate's SHA-256 fingerprint as Node and browsers show it: 32 bytes in hex, colon-separated. */
export const sha256FingerprintSchema = z
  .string()
  .trim()
  .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'a SHA-256 fingerprint: 32 hex pairs separated by colons')
  .transform((value) => value.toUpperCase());

export const teamProbeOutput = z.object({
  /** The address the desktop would pin: scheme, host and port. */
  origin: z.string(),
  /** SHA-256 of the certificate the server presented (not trusted: for the person to compare with the server's). */
  fingerprint: z.string(),
  subject: z.string(),
  validTo: z.string(),
  /** GET /auth/mode answered {team: true}. */
  isTeamServer: z.boolean(),
});
export type TeamProbe = z.infer<typeof teamProbeOutput>;

export const teamConnectInput = z.object({ url: teamServerUrlSchema, fingerprint: sha256FingerprintSchema }).strict();

export const teamCommands = {
  /** Reaches a team server's address over TLS without trusting its certificate, and answers what it presented. */
  'team.probe': { input: z.object({ url: teamServerUrlSchema }).strict(), output: teamProbeOutput },
  /**
   * Desktop only: pins the server's certificate (the fingerprint the person compared) and relaunches the desktop as
   * that server's client. The desktop's main process answers it; the core refuses it (there is nothing to connect).
   */
  'team.connect': { input: teamConnectInput, output: z.object({ origin: z.string(), relaunching: z.literal(true) }) },
  /** Who is signed in and what they may do (in the desktop app: the one person, every role). */
  'team.me': { input: z.object({}).strict(), output: teamMeOutput },
  'team.changePassword': { input: changePasswordInput, output: teamMeOutput },
  /** Changes waiting for (or decided by) a second person: maker-checker. */
  'proposals.list': { input: proposalsListInput, output: z.object({ proposals: z.array(proposalSchema) }) },
  /** Approve (runs the change once, as the approver's action), reject, or withdraw one's own proposal. */
  'proposals.decide': { input: proposalsDecideInput, output: proposalSchema },
  'accounts.list': { input: z.object({}).strict(), output: z.object({ accounts: z.array(accountSchema) }) },
  /** Creates or changes an account; a new account or a reset answers a temporary password, shown once. */
  'accounts.save': { input: accountsSaveInput, output: z.object({ account: accountSchema, temporaryPassword: z.string().nullable() }) },
} as const;
