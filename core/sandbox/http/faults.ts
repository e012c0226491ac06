import type { Rng } from '../rng';

// What can go wrong between a client and the simulated API, per operation ('*' applies to all). Rates are
// probabilities per call. A lost response applies the change and then drops the connection, which is the case
// that makes a blind retry of a refund dangerous.
export interface FaultProfile {
  /** Extra real-time delay before answering, in ms: [min, max]. */
  latencyMs?: [number, number];
  /** Answer 500/502/503 without applying anything. */
  serverErrorRate?: number;
  /** Drop the connection before applying anything. */
  resetRate?: number;
  /** Apply the change, then drop the connection without an answer. */
  lostResponseRate?: number;
  /** Start a storm: every call to this operation gets 429 for `rateLimitStormSeconds`. */
  rateLimitStormRate?: number;
  rateLimitStormSeconds?: number;
  /** Replace an enum value in the answer with one the client has never seen. */
  unknownEnumRate?: number;
  /** Add fields the client does not know to every object in the answer. */
  extraFieldsRate?: number;
  /**
   * Reshape the answer record by record the way Mirakl's own examples do (and ReBound's looser payloads): optional
   * fields left out or null, older field placements, deprecated fields alone, unannounced values, numbers as
   * strings. What the engine needs to act safely (ids, quantities, amounts, currency) is never removed.
   */
  shapesRate?: number;
}

export type FaultProfiles = Record<string, FaultProfile>;

export type FaultKind = 'latency' | 'serverError' | 'reset' | 'lostResponse' | 'rateLimitStorm' | 'unknownEnum' | 'extraFields' | 'shapes';

/**
 * How one record of a reshaped answer was changed (see core/sandbox/mirakl/shape-faults.ts and the README):
 * - omitOptional: optional fields left out (and the required ones Mirakl's examples leave out);
 * - nullOptional: optional fields sent as null, even where they had no value (as Mirakl's examples do);
 * - olderPlacement: a field where Mirakl's examples put it, not where the schema does (reason on the return, carrierCode…);
 * - deprecatedOnly: a deprecated field without its replacement (a refund's `state` with no `refund_state`);
 * - unknownValues: an unannounced enum value and fields the client has never seen;
 * - numericStrings: amounts and quantities as decimal strings ("12.50", "2");
 * - numericForms: ReBound's string quantities and values as JSON numbers instead.
 */
export const shapeVariants = ['omitOptional', 'nullOptional', 'olderPlacement', 'deprecatedOnly', 'unknownValues', 'numericStrings', 'numericForms'] as const;
export type ShapeVariant = (typeof shapeVariants)[number];

export interface FaultPlan {
  latencyMs: number;
  before: 'serverError' | 'reset' | 'rateLimitStorm' | null;
  isLostResponse: boolean;
  hasUnknownEnum: boolean;
  hasExtraFields: boolean;
  hasShapes: boolean;
}

export function profileFor(profiles: FaultProfiles, operation: string): FaultProfile {
  return { ...(profiles['*'] ?? {}), ...(profiles[operation] ?? {}) };
}

export function planFaults(profile: FaultProfile, rng: Rng): FaultPlan {
  const [min, max] = profile.latencyMs ?? [0, 0];
  const latencyMs = max > 0 ? rng.int(min, max) : 0;
  let before: FaultPlan['before'] = null;
  if (rng.chance(profile.serverErrorRate ?? 0)) before = 'serverError';
  else if (rng.chance(profile.resetRate ?? 0)) before = 'reset';
  else if (rng.chance(profile.rateLimitStormRate ?? 0)) before = 'rateLimitStorm';
  return {
    latencyMs,
    before,
    isLostResponse: before === null && rng.chance(profile.lostResponseRate ?? 0),
    hasUnknownEnum: rng.chance(profile.unknownEnumRate ?? 0),
    hasExtraFields: rng.chance(profile.extraFieldsRate ?? 0),
    // Drawn last, and only when the rate is above zero (chance(0) draws nothing), so profiles without shapes
    // replay exactly as before.
    hasShapes: rng.chance(profile.shapesRate ?? 0),
  };
}

/** Adds unknown fields to every object: clients must ignore what they do not know. */
export function addExtraFields(value: unknown, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v) => addExtraFields(v, depth + 1));
    return;
  }
  const record = value as Record<string, unknown>;
  for (const v of Object.values(record)) addExtraFields(v, depth + 1);
  record.sandbox_extra_field = 'added by the sandbox to check that clients ignore unknown fields';
  record.sandbox_extra_object = { nested: true, added_at_depth: depth };
}
