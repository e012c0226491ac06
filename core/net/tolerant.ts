import { z } from 'zod';

// Reading answers the way Mirakl and ReBound actually send them: tolerant where they are loose, strict where money
// or stock is decided. What the engine does not need in order to act may be absent or null (their published
// examples are full of nulls); what it needs to act safely — ids, quantities, amounts, currency — is required, and a
// record without it is quarantined on its own, never allowed to take its page down with it.

/** Optional text: absent, null and the string all read; absent and null become `undefined`. */
export const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

/** Optional text kept as `null` when absent (for fields stored as NULL). */
export const nullableText = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

const decimalPattern = /^\s*-?\d+(\.\d+)?\s*$/;

/** Money and rates: a JSON number, or a decimal string as the spec's own examples write them ("12.50"). */
export const decimal = z
  .union([z.number(), z.string().regex(decimalPattern, 'expected a decimal number such as 12.50')])
  .transform((v) => Number(v))
  .pipe(z.number().finite('expected a finite amount'));

export const optionalDecimal = decimal.nullish().transform((v) => v ?? undefined);

/** Units decide refunds and restocks: a whole number, or a string of digits ("2"); anything else is refused. */
export const wholeNumber = z
  .union([z.number(), z.string().regex(/^\s*\d+\s*$/, 'expected a whole number')])
  .transform((v) => Number(v))
  .pipe(z.number().int('expected a whole number').nonnegative('expected a whole number of 0 or more').max(Number.MAX_SAFE_INTEGER, 'expected a whole number'));

/** Text that identifies something: an empty string reads as absent. */
export const optionalId = z
  .string()
  .nullish()
  .transform((v) => (v === null || v === undefined || v.trim() === '' ? undefined : v));

export const positiveWholeNumber = wholeNumber.refine((n) => n > 0, 'expected a whole number above 0');

/** A boolean that may be absent or null, read as `fallback` then. */
export const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.literal('true'), z.literal('false')])
    .nullish()
    .transform((v) => (v === undefined || v === null ? fallback : v === true || v === 'true'));

/** A list that may be absent or null, read as empty then. */
export const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => v ?? []);

/** An identifier: Mirakl sends most as strings, some (offer_id, refund ids in older answers) as numbers. */
export const identifier = z.union([z.string().min(1), z.number().int()]).transform(String);

/** A record that could not be read: kept raw, with what was wrong, for a person to see. */
export interface QuarantinedRecord {
  /** The operation that returned it (RT11, OR11, returnOrders.list…). */
  operation: string;
  /** Its id when one could be read, so a later readable copy releases it; otherwise a digest of the raw JSON. */
  key: string;
  raw: string;
  problem: string;
}

export interface ReadRecords<T> {
  records: T[];
  quarantined: QuarantinedRecord[];
}

/**
 * Reads each record of a list on its own: a record that does not parse is quarantined with a message naming the
 * record and the field, and the others are returned. `label` names the kind of record in that message.
 */
export function readRecords<S extends z.ZodType>(
  operation: string,
  label: string,
  items: readonly unknown[],
  schema: S,
  keyOf: (raw: unknown) => string | undefined,
): ReadRecords<z.output<S>> {
  const records: z.output<S>[] = [];
  const quarantined: QuarantinedRecord[] = [];
  items.forEach((raw, index) => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      records.push(parsed.data);
      return;
    }
    const key = keyOf(raw);
    const raws = safeStringify(raw);
    quarantined.push({
      operation,
      key: key ?? `#${digest(raws)}`,
      raw: raws,
      problem: `${label} ${key ?? `at position ${index + 1} of the page`}: ${describeIssues(parsed.error)}`,
    });
  });
  return { records, quarantined };
}

/** `path.to.field: what was wrong`, for the first few issues of a failed parse. */
export function describeIssues(error: z.ZodError, limit = 3): string {
  const issues = error.issues.slice(0, limit).map((i) => `${formatPath(i.path)}: ${i.message}`);
  const more = error.issues.length > limit ? ` (and ${error.issues.length - limit} more)` : '';
  return issues.join('; ') + more;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the record)';
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/** The value of `field` on a raw record, when it is a usable identifier. */
export function rawId(raw: unknown, field: string): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const value = (raw as Record<string, unknown>)[field];
  return (typeof value === 'string' && value.length > 0) || typeof value === 'number' ? String(value) : undefined;
}

function safeStringify(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return String(raw);
  }
}

/** FNV-1a: a short, stable name for a record without an id (no crypto needed: it only tells copies apart). */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
