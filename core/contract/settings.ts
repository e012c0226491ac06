import { z } from 'zod';

// The integration owner's commands: the sync service's state and controls, connections and credentials, the
// mapping editor and the audit log. A secret travels only inward (typed in Settings, written to the OS keychain);
// no output here ever carries one: `settings.get` answers only whether each is set.

export const modeSchema = z.enum(['sandbox', 'live']);
export type Mode = z.infer<typeof modeSchema>;

export const syncStates = ['idle', 'running', 'paused', 'stopped'] as const;
export type SyncState = (typeof syncStates)[number];

export const feedStatusSchema = z.object({
  feed: z.string(),
  label: z.string(),
  cadenceSeconds: z.number().int().nonnegative(),
  isPaused: z.boolean(),
  lastRunAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  lastError: z.string().nullable(),
  nextRunAt: z.string().nullable(),
});
export type FeedStatus = z.infer<typeof feedStatusSchema>;

/** A feed with its health: API calls that failed and 429 answers in the last hour of the core's clock. */
export const feedHealthSchema = feedStatusSchema.extend({
  /** Calls of this feed's operations in the last hour that failed (network, 5xx, 4xx other than 404, 401/403). */
  apiErrors: z.number().int().nonnegative(),
  /** 429 answers (Too Many Requests) in the last hour: each made the feed wait. */
  rateLimitWaits: z.number().int().nonnegative(),
});
export type FeedHealth = z.infer<typeof feedHealthSchema>;

export const syncStatusSchema = z.object({
  /** `stopped`: no sync service runs (it failed to start, or it is being restarted); `paused` by a person. */
  state: z.enum(syncStates),
  /** Paused by a person (absent: not paused). Can be true while `state` is still `running`: the cycle in flight finishes first. */
  isPaused: z.boolean().optional(),
  mode: modeSchema,
  feeds: z.array(feedHealthSchema),
  /** When the last cycle finished (core clock; sandbox time in Sandbox mode), null before the first. */
  lastCycleAt: z.string().nullable(),
  /** Why the last cycle, or the service's start, failed; null when it went through. A failing feed is in `feeds`. */
  lastError: z.string().nullable(),
  /** Cycles finished since the service started. */
  cycles: z.number().int().nonnegative(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

// ---- settings ---------------------------------------------------------------------------------------------------

/** This machine's own addresses: plain http is allowed only there (the sandbox runs on them). */
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

const httpUrl = z
  .string()
  .trim()
  .min(1, 'enter the address, such as https://example.mirakl.net')
  .max(2000)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && !url.username && !url.password && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'expected an http(s) address such as https://example.mirakl.net, with no user name, password, query or fragment')
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'https:' || loopbackHosts.has(url.hostname);
      } catch {
        return true;
      }
    },
    { message: 'expected https: credentials travel with every call, so plain http is allowed only on this machine (127.0.0.1 or localhost, for the sandbox)', abort: true },
  );

const shopId = z.number().int().positive().max(2_147_483_647);
const secretValue = z.string().trim().min(1, 'the secret is empty').max(4096);

/** The person at this machine: the actor of everything they do (audit log, locks, assignments, notes). */
export const personSchema = z.object({
  /** The name in force: the one set in Settings, or `osName`. */
  name: z.string(),
  /** The operating system's full name for this account (or its account name): the default. */
  osName: z.string(),
  /** A name was set in Settings. */
  isSet: z.boolean(),
});

export const settingsGetOutput = z.object({
  mode: modeSchema,
  /** Null in an evidence bundle: nobody acts there. */
  person: personSchema.nullable(),
  connections: z.object({
    mirakl: z.object({ baseUrl: z.string().nullable(), shopId: z.number().int().nullable() }),
    rebound: z.object({ baseUrl: z.string().nullable(), clientId: z.string().nullable(), flowKey: z.string().nullable() }),
  }),
  /** Whether each secret is in the keychain. The value itself is never returned. */
  secrets: z.object({ miraklApiKey: z.boolean(), reboundClientSecret: z.boolean() }),
  keychain: z.object({ available: z.boolean(), message: z.string().nullable() }),
});
export type SettingsView = z.infer<typeof settingsGetOutput>;

export const saveConnectionsInput = z
  .object({
    mirakl: z.object({ baseUrl: httpUrl, shopId: shopId.optional() }).strict(),
    rebound: z.object({ baseUrl: httpUrl, clientId: z.string().trim().min(1, 'enter the client id').max(200), flowKey: z.string().trim().max(200).optional() }).strict(),
    /** Written to the OS keychain only. Leave one out to keep what is stored. */
    secrets: z.object({ miraklApiKey: secretValue.optional(), reboundClientSecret: secretValue.optional() }).strict().optional(),
  })
  .strict();

export const setNameInput = z
  .object({
    /** The person's name as the audit log should show it; empty goes back to the operating system's name. */
    name: z.string().trim().max(200, 'at most 200 characters').refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'no control characters'),
  })
  .strict();

export const saveConnectionsOutput = z.object({
  settings: settingsGetOutput,
  /** The mode the sync service now runs in (it restarts when the mode or a connection changed). */
  mode: modeSchema,
  restarted: z.boolean(),
  message: z.string(),
});

export const testConnectionInput = z
  .object({
    system: z.enum(['mirakl', 'rebound']),
    /** Typed values to test before saving; anything left out is taken from the stored settings and keychain. */
    baseUrl: httpUrl.optional(),
    shopId: shopId.optional(),
    apiKey: secretValue.optional(),
    clientId: z.string().trim().min(1).max(200).optional(),
    clientSecret: secretValue.optional(),
  })
  .strict();

export const testConnectionOutput = z.object({
  ok: z.boolean(),
  message: z.string(),
  /** The HTTP status of the answer, when there was one. */
  status: z.number().int().optional(),
});

// ---- mappings ---------------------------------------------------------------------------------------------------

export const mappingFileNames = ['reasonCodes', 'skuOffers', 'policy'] as const;
export type MappingFileName = (typeof mappingFileNames)[number];

export const mappingFileSchema = z.object({
  /** The YAML text in force. */
  text: z.string(),
  /** `<file>@v<version>:<sha256 prefix>`: kept with every record the mapping decided. */
  version: z.string(),
  /** `shipped`: the default from the app; `edited`: a copy saved in the data folder. */
  source: z.enum(['shipped', 'edited']),
});

export const mappingsGetOutput = z.object({
  files: z.object({ reasonCodes: mappingFileSchema, skuOffers: mappingFileSchema, policy: mappingFileSchema }),
});

const mappingText = z.string().max(1_000_000, 'a mapping file is at most 1 MB');

export const mappingProblemSchema = z.object({
  /** Where inside the file: `reasons[3].refund`, or `line 4, column 2` for a YAML syntax error (for locating the field). */
  path: z.string(),
  /** The row as the editor's table numbers it (from 1), for a problem inside a row. */
  row: z.number().int().positive().optional(),
  /** Where, in the table's own words: `Row 4, Mirakl refund reason`. */
  where: z.string().optional(),
  message: z.string(),
});

/** How many returns something touches, with the first few (their order numbers) to look at. */
export const affectedReturnsSchema = z.object({ total: z.number().int().nonnegative(), sample: z.array(z.string()) });
export const moneySchema = z.object({ currency: z.string(), amountMinor: z.number().int() });
export const affectedSchema = z.object({
  description: z.string(),
  count: z.number().int().nonnegative(),
  /** Which returns (order numbers), when the change touches returns. */
  returns: affectedReturnsSchema.optional(),
  /** How much money, per currency, when the change touches refunds. */
  money: z.array(moneySchema).optional(),
});

// ---- Mirakl's reason lists (RE01) ------------------------------------------------------------------------------

export const mappingsReasonsInput = z
  .object({
    /** Read the lists from Mirakl now (Mirakl allows it about once a day); otherwise only when never read or a day old. */
    refresh: z.boolean().optional(),
  })
  .strict();
export const mappingsReasonsOutput = z.object({
  /** RE01 reasons of type REFUND: what a refund may carry (only those the shop may use are offered). */
  refund: z.array(z.object({ code: z.string(), label: z.string(), isShopRight: z.boolean() })),
  /** Return reasons: RE01 type RETURN, the seller spec's RT enum, and any other code stored returns carry. */
  returns: z.array(z.object({ code: z.string(), label: z.string(), source: z.enum(['mirakl', 'spec', 'seen']), returnLines: z.number().int().nonnegative() })),
  /** When the lists were read from Mirakl (null: never, so refund reasons cannot be checked yet). */
  readAt: z.string().nullable(),
  /** Why they could not be read just now (the cached lists, if any, are shown). */
  problem: z.string().nullable(),
});
export type ReasonLists = z.infer<typeof mappingsReasonsOutput>;

export const mappingsPreviewInput = z.object({ file: z.enum(mappingFileNames), text: mappingText }).strict();
export const mappingsPreviewOutput = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    /** What the change would touch among stored records; counts of zero are listed too. */
    affected: z.array(affectedSchema),
    /** What could not be checked (e.g. Mirakl's refund reasons have never been read). */
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ ok: z.literal(false), problems: z.array(mappingProblemSchema) }),
]);
export type MappingsPreview = z.infer<typeof mappingsPreviewOutput>;

export const mappingsSaveInput = z
  .object({
    file: z.enum(mappingFileNames),
    text: mappingText,
    reason: z.string().trim().max(2000).optional(),
    /** The version the edit started from (from mappings.get): the save is refused with CONFLICT if it changed since. */
    baseVersion: z.string().optional(),
  })
  .strict();

export const mappingsSaveOutput = z.object({
  file: z.enum(mappingFileNames),
  version: z.string(),
  previousVersion: z.string(),
  /** The audit entry of the change; null when the text was the one in force (nothing saved). */
  auditSeq: z.number().int().positive().nullable(),
  affected: z.array(affectedSchema),
  /** Exceptions the re-evaluation after the save resolved (e.g. UNMAPPED_REASON now mapped). */
  resolvedExceptions: z.number().int().nonnegative(),
  message: z.string(),
});

const seconds = (floor: number, why: string) => z.number().int().min(floor, why).max(86_400);
export const setCadencesInput = z
  .object({
    returnsPollSeconds: seconds(300, 'Mirakl allows RT11 at most every 5 minutes (300 s)').optional(),
    ordersPollSeconds: seconds(60, 'Mirakl allows OR11 at most once a minute (60 s)').optional(),
    reboundPollSeconds: seconds(1, 'at least 1 s').optional(),
    stockFlushSeconds: seconds(60, 'Mirakl allows STO01 at most once a minute (60 s)').optional(),
    stockStatusSeconds: seconds(15, 'Mirakl allows STO02 at most every 15 s').optional(),
    reason: z.string().trim().max(2000).optional(),
  })
  .strict();

// ---- audit ------------------------------------------------------------------------------------------------------

export const auditListInput = z
  .object({
    offset: z.number().int().nonnegative().max(10_000_000).default(0),
    limit: z.number().int().min(1).max(500).default(100),
    subject: z.string().trim().min(1).max(200).optional(),
    actor: z.string().trim().min(1).max(200).optional(),
    action: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export const auditRowSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  reason: z.string().nullable(),
  /** The recorded state before and after, as stored (JSON); null when not applicable. */
  before: z.unknown(),
  after: z.unknown(),
});
export type AuditRow = z.infer<typeof auditRowSchema>;

/** Newest first. */
export const auditListOutput = z.object({ rows: z.array(auditRowSchema), total: z.number().int().nonnegative() });
