import type { QuarantinedRecord } from './tolerant';

// How an API call failed, in the terms the engine decides on: retry later (transient), probe before anything
// else (uncertain: a write may have been applied), or stop and raise an exception (everything else).

export type ApiFailureKind =
  | 'network' // never reached the server: safe to retry
  | 'uncertain' // a write may have been applied: probe the source of truth before any retry
  | 'rate_limited' // 429, or our own budget says not yet
  | 'server' // 5xx on a read or a safe write
  | 'auth' // 401/403: credentials or role
  | 'rejected' // other 4xx: the request itself is wrong or the object is in the wrong state
  | 'not_found'
  | 'invalid_response'; // 2xx whose body does not parse

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly system: 'mirakl' | 'rebound',
    readonly operation: string,
    readonly kind: ApiFailureKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    /** The one record that could not be read, when that is why the call failed: to be held aside (MALFORMED_RECORD). */
    readonly quarantined?: QuarantinedRecord,
  ) {
    super(`${system} ${operation}: ${message}`);
  }

  get isTransient(): boolean {
    return this.kind === 'network' || this.kind === 'rate_limited' || this.kind === 'server';
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
