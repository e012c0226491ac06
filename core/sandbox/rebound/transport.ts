import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

// How notifications leave the simulator. Real HTTP by default, because the engine's receiver is a real server;
// injectable so a harness can capture deliveries without one.

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Resolves with the receiver's HTTP status; rejects when no answer came (refused, reset, timed out). */
export type WebhookTransport = (request: WebhookRequest, timeoutMs: number) => Promise<{ status: number }>;

export const httpWebhookTransport: WebhookTransport = (request, timeoutMs) =>
  new Promise((resolve, reject) => {
    const url = new URL(request.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        // No pooled sockets: a receiver closed between attempts must not see a stale connection reused.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
