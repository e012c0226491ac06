import { z } from 'zod';
import { moneyFiguresSchema } from './money';

// The month-end reconciliation report, as the UI and every export see it. Money is integer minor units (pence,
// cents) with its currency, never a float and never summed across currencies. Times are ISO-8601 UTC.

export const periodSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM, such as 2026-10');

const minor = z.number().int();
const count = z.number().int().nonnegative();
const currency = z.string().describe("ISO 4217 code, or '?' when the order (and so its currency) is not known yet");

export const checkStatuses = ['pass', 'fail', 'warn', 'info'] as const;
export const reportCheckSchema = z.object({
  id: z.string(),
  label: z.string(),
  status: z.enum(checkStatuses),
  detail: z.string(),
});
export type ReportCheck = z.infer<typeof reportCheckSchema>;

export const moneyTotalsSchema = z.object({
  currency,
  /** Refunds Mirakl dated in the period: their number, goods amount and shipping. */
  refunds: count,
  refundedMinor: minor,
  shippingRefundedMinor: minor,
  backedRefunds: count,
  backedMinor: minor,
  unbackedRefunds: count,
  unbackedMinor: minor,
  /** For the order lines refunded in the period: verified units' worth against everything refunded by period end. */
  expectedMinor: minor,
  refundedToDateMinor: minor,
  varianceMinor: minor,
  /** Verified receipts not (fully) refunded at period end. */
  accrualLines: count,
  accrualMinor: minor,
  /** Post-close adjustments to locked periods shown in this report: refunds and receipts awaiting refund. */
  adjustedRefundsMinor: minor,
  adjustedAccrualMinor: minor,
});
export type MoneyTotals = z.infer<typeof moneyTotalsSchema>;

export const refundLinks = ['exact', 'confirmed', 'suggested', 'ambiguous', 'order_line', 'none'] as const;

export const reasonRowSchema = z.object({ reason: z.string(), refundReason: z.string(), currency, refunds: count, amountMinor: minor });
export const reboundReasonRowSchema = z.object({ reason: z.string(), currency, refunds: count, amountMinor: minor });
export const unbackedRefundRowSchema = z.object({
  refundId: z.string(),
  orderId: z.string().nullable(),
  orderLineId: z.string(),
  returnId: z.string().nullable(),
  /** How the refund is tied to the return: made by this app, confirmed by a person, only suggested, or by order line. */
  link: z.enum(refundLinks),
  dateCreated: z.string(),
  currency,
  amountMinor: minor,
  state: z.string(),
  reasonCode: z.string(),
  madeByApp: z.boolean(),
  /** Who refunded before a verified receipt, and why (audited when it was done). */
  override: z.string().nullable(),
  exceptionId: z.number().int().nullable(),
});
export const accrualRowSchema = z.object({
  orderLineId: z.string(),
  orderId: z.string().nullable(),
  returnId: z.string().nullable(),
  offerSku: z.string().nullable(),
  firstVerifiedAt: z.string().nullable(),
  verifiedUnits: count,
  currency,
  expectedMinor: minor,
  refundedMinor: minor,
  outstandingMinor: minor,
  /** Days from the first verified receipt to period end. */
  ageDays: z.number().int(),
});
export const stockRowSchema = z.object({ offerSku: z.string(), restored: count, awaiting: count, rejected: count, skipped: count });
export const openExceptionRowSchema = z.object({
  id: z.number().int(),
  type: z.string(),
  severity: z.string(),
  owner: z.string(),
  assignee: z.string().nullable(),
  state: z.string(),
  returnId: z.string().nullable(),
  subjectKey: z.string(),
  detectedAt: z.string(),
  ageDays: z.number().int(),
  slaDueAt: z.string().nullable(),
  isOverdue: z.boolean(),
  cause: z.string(),
});
export const varianceRowSchema = z.object({
  orderLineId: z.string(),
  orderId: z.string().nullable(),
  returnId: z.string().nullable(),
  currency,
  verifiedUnits: count,
  expectedMinor: minor,
  refundedMinor: minor,
  varianceMinor: minor,
});
export const adjustmentFamilies = ['return', 'refund', 'line', 'stock', 'exception'] as const;
export const adjustmentRowSchema = z.object({
  id: z.number().int(),
  /** The locked period the change touches. */
  period: periodSchema,
  reportedIn: periodSchema,
  family: z.enum(adjustmentFamilies),
  key: z.string(),
  change: z.enum(['added', 'removed', 'changed']),
  description: z.string(),
  currency: currency.nullable(),
  amountMinor: minor,
  detectedAt: z.string(),
});
export type AdjustmentRow = z.infer<typeof adjustmentRowSchema>;

export const reportTablesSchema = z.object({
  refundsByMiraklReason: z.array(reasonRowSchema),
  refundsByReboundReason: z.array(reboundReasonRowSchema),
  refundsWithoutReceipt: z.array(unbackedRefundRowSchema),
  receiptsAwaitingRefund: z.array(accrualRowSchema),
  stockByOffer: z.array(stockRowSchema),
  openExceptions: z.array(openExceptionRowSchema),
  variances: z.array(varianceRowSchema),
  /** Post-close adjustments to earlier locked periods, found while this period was open. */
  adjustments: z.array(adjustmentRowSchema),
});
export type ReportTables = z.infer<typeof reportTablesSchema>;

export const lockInfoSchema = z.object({
  lockedAt: z.string(),
  lockedBy: z.string(),
  reason: z.string().nullable(),
  reportSha256: z.string(),
  factsSha256: z.string(),
  /** The stored report still hashes to reportSha256. */
  isIntact: z.boolean(),
});

export const reportSchema = z.object({
  format: z.literal('returns-workbench/report@1'),
  period: periodSchema,
  from: z.string(),
  to: z.string(),
  /** Period end, or the generation time for a period that has not ended yet. */
  asOf: z.string(),
  isPeriodComplete: z.boolean(),
  generatedAt: z.string(),
  status: z.enum(['live', 'locked']),
  lock: lockInfoSchema.nullable(),
  toleranceMinor: z.number().int().nonnegative(),
  mappingVersions: z.record(z.string(), z.string()),
  returns: z.object({ opened: count, received: count, refunded: count, closed: count }),
  units: z.object({ verified: count, restocked: count, awaitingRestock: count }),
  money: z.array(moneyTotalsSchema),
  /**
   * The money figures as at `asOf`, each with the one definition the dashboard and the bundle use too (./money.ts);
   * paid refunds are those dated in the period. Absent from reports made before issue 24.
   */
  figures: z.array(moneyFiguresSchema).default([]),
  checks: z.array(reportCheckSchema),
  tables: reportTablesSchema,
  /** For a locked period: changes touching it found after it was locked (each is shown in the report it names). */
  changesSinceLock: z.array(adjustmentRowSchema),
});
export type Report = z.infer<typeof reportSchema>;

export const reportFileSchema = z.object({ name: z.string(), path: z.string(), bytes: count, sha256: z.string() });

export const reportsGetInput = z.object({ period: periodSchema }).strict();
export const reportsGenerateInput = z
  .object({
    period: periodSchema,
    /** Also write the offline evidence bundle. */
    bundle: z.boolean().default(false),
  })
  .strict();
export const reportsGenerateOutput = z.object({
  report: reportSchema,
  /** A folder of this export's own (reports/YYYY-MM/<when>-locked|not-locked): an export never replaces another. */
  outDir: z.string(),
  exportedAt: z.string(),
  /** Earlier exports of the same month, kept beside this one. */
  earlierExports: count,
  files: z.array(reportFileSchema),
  bundle: reportFileSchema.nullable(),
});
/**
 * An exported file, to hand out again: a browser download, or the desktop's "Show in folder" (`reveal`: Electron's
 * main process shows it once the core has found it). Only regular files in the data folder's reports folder.
 */
export const reportsFileInput = z
  .object({
    path: z.string().min(1).max(4096),
    reveal: z.boolean().default(false),
  })
  .strict();
export const reportsFileOutput = z.object({ name: z.string(), path: z.string(), bytes: count });
export const reportsLockInput = z
  .object({
    period: periodSchema,
    reason: z.string().trim().max(2000).optional(),
  })
  .strict();
export const reportsLockOutput = z.object({
  period: periodSchema,
  lockedAt: z.string(),
  lockedBy: z.string(),
  reportSha256: z.string(),
  factsSha256: z.string(),
  /** Adjustments to earlier locked periods frozen into this report. */
  adjustments: count,
});
export const reportsUnlockInput = z
  .object({
    period: periodSchema,
    /** Why the month is reopened: kept with the ended lock and in the audit log. */
    reason: z.string().trim().min(1, 'say why the month is reopened').max(2000),
    /**
     * The lock the person saw (its report's sha256): refused if the month was reopened and locked again meanwhile, so an
     * approval given later never ends a lock nobody asked to end.
     */
    reportSha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex').optional(),
  })
  .strict();
/** A lock as it was before its month was reopened: kept, never deleted. */
export const endedLockSchema = z.object({
  lockedAt: z.string(),
  lockedBy: z.string(),
  lockReason: z.string().nullable(),
  reportSha256: z.string(),
  factsSha256: z.string(),
  unlockedAt: z.string(),
  /** Who reopened it: on a team server, the Approver whose approval ran it. */
  unlockedBy: z.string(),
  /** Who proposed it, when another person approved it. */
  proposedBy: z.string().nullable(),
  reason: z.string(),
});
export const reportsUnlockOutput = z.object({
  period: periodSchema,
  ended: endedLockSchema,
  /** Standing sign-offs withdrawn because the month is live again. */
  signOffsWithdrawn: count,
  /** Post-close adjustments of the ended lock, now counted by the month's own report instead of a later one. */
  adjustmentsSuperseded: count,
});

export const reportsListOutput = z.object({
  periods: z.array(
    z.object({
      period: periodSchema,
      from: z.string(),
      to: z.string(),
      isComplete: z.boolean(),
      returnsOpened: count,
      lock: z.object({ lockedAt: z.string(), lockedBy: z.string(), reportSha256: z.string() }).nullable(),
      /** Recorded adjustments touching this (locked) period. */
      changesSinceLock: count,
      /** Earlier locks of this month, ended when it was reopened, oldest first. */
      endedLocks: z.array(endedLockSchema),
    }),
  ),
});

/** What app.info says when the app shows an evidence bundle instead of a live database. */
export const bundleInfoSchema = z.object({
  file: z.string(),
  period: periodSchema.nullable(),
  createdAt: z.string().nullable(),
  verified: z.boolean(),
  problems: z.array(z.object({ path: z.string(), kind: z.string(), detail: z.string() })),
});
export type BundleInfo = z.infer<typeof bundleInfoSchema>;

export const signOffKinds = ['prepared', 'reviewed'] as const;
export type SignOffKind = (typeof signOffKinds)[number];
/** Why nobody can review a month where one person uses the app (the desktop app, browser mode): the page and the core say it alike. */
export const oneUserReview =
  'Review needs a second person: the reviewer must be someone other than the preparer, and here one person uses the app. On a team server (npm run serve) a colleague with the Approver role reviews it.';
export const signOffsSchema = z.object({
  period: periodSchema,
  /** The facts the standing sign-offs hold (the sha256 a lock records). */
  factsSha256: z.string(),
  signOffs: z.array(
    z.object({
      kind: z.enum(signOffKinds),
      signedBy: z.string(),
      signedAt: z.string(),
      note: z.string().nullable(),
      /** False once the period's figures changed after it was given: withdrawn, with when and why. */
      standing: z.boolean(),
      withdrawnAt: z.string().nullable(),
      withdrawnReason: z.string().nullable(),
    }),
  ),
  /** Prepared and reviewed, both standing. */
  complete: z.boolean(),
});
export type SignOffs = z.infer<typeof signOffsSchema>;

export const reportCommands = {
  'reports.list': { input: z.object({}).strict(), output: reportsListOutput },
  'reports.get': { input: reportsGetInput, output: reportSchema },
  'reports.generate': { input: reportsGenerateInput, output: reportsGenerateOutput },
  'reports.lock': { input: reportsLockInput, output: reportsLockOutput },
  /**
   * Reopens a locked month, with a reason (on a team server: proposed by one person, run when another approves). Its
   * lock is kept as history; its sign-offs are withdrawn; it can be signed and locked again.
   */
  'reports.unlock': { input: reportsUnlockInput, output: reportsUnlockOutput },
  /** The month-end sign-offs of a period (preparer, reviewer), withdrawn when its figures change. */
  'reports.signOffs': { input: z.object({ period: periodSchema }).strict(), output: signOffsSchema },
  /** Signs a finished period as its preparer, or as its reviewer (another person) once prepared. */
  'reports.signOff': {
    input: z.object({ period: periodSchema, kind: z.enum(signOffKinds), note: z.string().trim().max(2000).optional() }).strict(),
    output: signOffsSchema,
  },
  'reports.file': { input: reportsFileInput, output: reportsFileOutput },
} as const;
