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
}

export type FaultProfiles = Record<string, FaultProfile>;

export type FaultKind = 'latency' | 'serverError' | 'reset' | 'lostResponse' | 'rateLimitStorm' | 'unknownEnum' | 'extraFields';

export interface FaultPlan {
  latencyMs: number;
  before: 'serverError' | 'reset' | 'rateLimitStorm' | null;
  isLostResponse: boolean;
  hasUnknownEnum: boolean;
  hasExtraFields: boolean;
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
