// The network is a port: core calls `http(request)`, tests and the sandbox pass their own. Only the default
// adapter below touches global fetch.

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type HttpPort = (request: HttpRequest) => Promise<HttpResponse>;

/** Why a call failed without an HTTP answer. `maybeSent` is false only when the request surely never left. */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(
    message: string,
    readonly maybeSent: boolean,
  ) {
    super(message);
  }
}

const neverSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export const fetchHttp: HttpPort = async (request) => {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers ?? {},
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const code = cause?.code ?? (error as { name?: string }).name ?? 'UNKNOWN';
    throw new NetworkError(`${request.method} ${new URL(request.url).pathname}: ${code}`, !neverSentCodes.has(code));
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    // Headers arrived but the body was cut: the server certainly received the request.
    throw new NetworkError(`${request.method} ${new URL(request.url).pathname}: response cut (${(error as Error).message})`, true);
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return { status: response.status, headers, body };
};
