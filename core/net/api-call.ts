import { z } from 'zod';
import type { Clock } from '../ports';
import { ApiError } from './api-error';
import { budgetWait, type BudgetStore } from './budget-guard';
import { NetworkError, type HttpPort, type HttpResponse } from './http';
import type { RequestJournal } from './journal';
import { describeIssues, readRecords } from './tolerant';

// One call to an external API: budget first, then the request, then a verdict the engine can act on. A write
// that may have reached the server (connection cut, 5xx) is `uncertain`, never `network`: it must be probed
// against the source of truth before it can be sent again.

export interface ApiContext {
  system: 'mirakl' | 'rebound';
  baseUrl: string;
  http: HttpPort;
  clock: Clock;
  journal: RequestJournal;
  budgets: BudgetStore;
  timeoutMs?: number;
}

export interface CallSpec {
  operation: string;
  method: string;
  path: string;
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: string | FormData;
  /** Not safe to repeat blindly (creates a refund, a return, an import). */
  isUnsafeWrite?: boolean;
  /** A follow-up page of a paged read: not charged against the operation's budget. */
  isContinuation?: boolean;
  minIntervalMs?: number;
}

export async function callApi(ctx: ApiContext, spec: CallSpec): Promise<HttpResponse> {
  const started = ctx.clock.now();
  if (!spec.isContinuation) {
    const wait = budgetWait(ctx.budgets, `${ctx.system}:${spec.operation}`, spec.minIntervalMs, started);
    if (wait > 0) throw new ApiError(ctx.system, spec.operation, 'rate_limited', `call budget: wait ${Math.ceil(wait / 1000)} s`, undefined, wait);
    if (spec.minIntervalMs) ctx.budgets.record(`${ctx.system}:${spec.operation}`, started);
  }
  const query = spec.query && [...spec.query.keys()].length ? `?${spec.query.toString()}` : '';
  const url = `${ctx.baseUrl.replace(/\/$/, '')}${spec.path}${query}`;
  let status: number | null = null;
  let outcome = 'ok';
  try {
    let response: HttpResponse;
    try {
      response = await ctx.http({
        method: spec.method,
        url,
        headers: { accept: 'application/json', ...(spec.headers ?? {}) },
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        timeoutMs: ctx.timeoutMs ?? 30_000,
      });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      const kind = error.maybeSent && spec.isUnsafeWrite ? 'uncertain' : 'network';
      outcome = kind;
      throw new ApiError(ctx.system, spec.operation, kind, error.message);
    }
    status = response.status;
    if (status >= 200 && status < 300) return response;
    const message = errorMessage(response);
    if (status === 429) {
      outcome = 'rate_limited';
      throw new ApiError(ctx.system, spec.operation, 'rate_limited', message, status, retryAfterMs(response, ctx.clock.now()));
    }
    const kind =
      status === 401 || status === 403
        ? 'auth'
        : status === 404
          ? 'not_found'
          : status >= 500
            ? spec.isUnsafeWrite
              ? 'uncertain'
              : 'server'
            : 'rejected';
    outcome = kind;
    throw new ApiError(ctx.system, spec.operation, kind, message, status);
  } finally {
    ctx.journal.record({
      at: started,
      system: ctx.system,
      operation: spec.operation,
      method: spec.method,
      path: spec.path,
      status,
      durationMs: Math.max(0, ctx.clock.now() - started),
      outcome,
    });
  }
}

/**
 * Reads a 2xx answer. After an unsafe write (a refund, a stock import, a return created) an answer we cannot read
 * says nothing about whether the change was made: it is `uncertain`, to be probed, never "failed" and never re-sent.
 */
export function parseJson<S extends z.ZodType>(
  ctx: Pick<ApiContext, 'system'>,
  operation: string,
  response: HttpResponse,
  schema: S,
  options: { isUnsafeWrite?: boolean } = {},
): z.output<S> {
  const kind = options.isUnsafeWrite ? 'uncertain' : 'invalid_response';
  let raw: unknown;
  try {
    raw = JSON.parse(response.body);
  } catch {
    throw new ApiError(ctx.system, operation, kind, 'the answer is not JSON', response.status);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ApiError(ctx.system, operation, kind, `unexpected answer (${describeIssues(parsed.error)})`, response.status);
  return parsed.data;
}

/**
 * Reads an answer that is one record (a return order by id): when the record cannot be read, the error carries it,
 * raw, so the caller can hold it aside for a person instead of retrying in silence.
 */
export function readOne<S extends z.ZodType>(
  ctx: Pick<ApiContext, 'system'>,
  operation: string,
  label: string,
  response: HttpResponse,
  schema: S,
  keyOf: (raw: unknown) => string | undefined,
): z.output<S> {
  const raw = parseJson(ctx, operation, response, z.unknown());
  const { records, quarantined } = readRecords(operation, label, [raw], schema, keyOf);
  const [record] = records;
  if (record !== undefined) return record;
  const [unreadable] = quarantined;
  throw new ApiError(ctx.system, operation, 'invalid_response', unreadable?.problem ?? 'unreadable record', response.status, undefined, unreadable);
}

/** Mirakl answers `{status, message}`; ReBound `{error: {code, message}}`; anything else is kept as text. */
function errorMessage(response: HttpResponse): string {
  try {
    const body = JSON.parse(response.body) as { message?: unknown; error?: { message?: unknown; code?: unknown; details?: unknown } };
    if (typeof body.message === 'string') return `${response.status} ${body.message}`;
    if (body.error && typeof body.error.message === 'string') {
      // ReBound's per-field details say what exactly was refused (e.g. which quantity was too high).
      const details = Array.isArray(body.error.details)
        ? (body.error.details as { field?: unknown; issue?: unknown }[]).map((d) => `${String(d.field ?? '')}: ${String(d.issue ?? '')}`).join('; ')
        : '';
      return `${response.status} ${String(body.error.code ?? '')} ${body.error.message}${details ? ` (${details})` : ''}`.trim();
    }
  } catch {
    // not JSON: fall through
  }
  return `${response.status} ${response.body.slice(0, 200)}`.trim();
}

/** Retry-After is either seconds or an HTTP date (RFC 9110); both become milliseconds from now. */
export function retryAfterMs(response: HttpResponse, now: number): number | undefined {
  const raw = response.headers['retry-after'];
  if (raw === undefined) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
