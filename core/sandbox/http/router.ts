import type { ShapeVariant } from './faults';
import type { Rng } from '../rng';

// A small method + path matcher for the simulators: each route names the API operation it serves (RT11, OR28…)
// so budgets, faults and call counters are kept per operation.

export interface SimRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Parsed JSON body; throws BadRequest when the body is not JSON. */
  json(): unknown;
  /** Parsed multipart or urlencoded form. */
  form(): Promise<FormData>;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  /** Defaults to application/json when body is not a string or Buffer. */
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler<Ctx> = (req: SimRequest, ctx: Ctx) => SimResponse | Promise<SimResponse>;

export interface Route<Ctx> {
  operation: string;
  method: string;
  pattern: string;
  handler: Handler<Ctx>;
  /** Follow-up page of an earlier call (page_token, offset > 0): not charged against the call budget. */
  isContinuation?: (req: SimRequest) => boolean;
  /** Replaces one enum-like value in a response with a value the client has never seen. */
  withUnknownEnum?: (body: unknown) => void;
  /** Reshapes a response record by record (the `shapes` fault); returns one entry per record and variant applied. */
  withShapes?: (body: unknown, rng: Rng) => ShapeVariant[];
  /** Does not need the API's credentials (token endpoints, health checks). */
  isPublic?: boolean;
  /** A /_sim/ ground-truth hook: no credentials, no budget, no injected faults. */
  isTestHook?: boolean;
  /** Serves only the requests this accepts (two operations on one path, told apart by their query). */
  when?: (req: Pick<SimRequest, 'query'>) => boolean;
}

export function matchRoute<Ctx>(
  routes: Route<Ctx>[],
  method: string,
  path: string,
  query: URLSearchParams = new URLSearchParams(),
): { route: Route<Ctx>; params: Record<string, string> } | null {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    if (route.when && !route.when({ query })) continue;
    const pattern = route.pattern.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const isMatch = pattern.every((segment, i) => {
      const part = parts[i] ?? '';
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(part);
        return true;
      }
      return segment === part;
    });
    if (isMatch) return { route, params };
  }
  return null;
}

export class BadRequest extends Error {
  override name = 'BadRequest';
}
