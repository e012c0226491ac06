import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reboundNotificationTypes } from '../rebound/schemas';
import { verifyReboundWebhook } from '../rebound/webhook';
import type { EngineContext } from './context';
import { recordNotification } from './feeds/rebound-sync';

// Inbound ReBound notifications on 127.0.0.1. A notification is verified (signature over timestamp and body,
// within the replay window), recorded once per delivery id, and acknowledged at once; what it says is applied by
// the next ReBound cycle, which reads the return order back. Anything unsigned or stale is refused with 401.

const maxBodyBytes = 512 * 1024;

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(ctx: EngineContext, secret: string, port = 0): Promise<WebhookReceiver> {
  const server = createServer((req, res) => {
    void handle(req)
      .catch((error: unknown) => {
        // Not recorded (the database refused the write, the engine is not ready): 503 makes ReBound deliver it again
        // later. Left unanswered, the request would hang and the rejection would bring the whole process down.
        try {
          ctx.log.warn('could not record a ReBound notification; ReBound will send it again', { error: (error as Error).message });
        } catch {
          // no engine to log through yet
        }
        return { status: 503, body: { error: 'temporarily_unavailable' } };
      })
      .then(({ status, body }) => {
        // After a 413 the rest of the body is never read, so the connection cannot be used again: say so.
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}) });
        res.end(JSON.stringify(body));
      });
  });

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    if (req.method !== 'POST' || req.url !== '/rebound/notifications') return { status: 404, body: { error: 'not found' } };
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) return { status: 413, body: { error: 'body too large' } };
      chunks.push(chunk as Buffer);
    }
    const verified = verifyReboundWebhook({ headers: req.headers, rawBody: Buffer.concat(chunks), secret, now: ctx.clock.now() });
    if (!verified.ok) {
      ctx.log.warn('refused a ReBound notification', { reason: verified.reason, detail: verified.message });
      return { status: verified.reason === 'invalid_body' || verified.reason === 'unknown_event_type' ? 400 : 401, body: { error: verified.reason } };
    }
    const order = (verified.body as { order?: { reboundOrderId?: string; statusDescription?: string; timestamp?: string } }).order;
    const isNew = recordNotification(ctx, {
      deliveryId: verified.deliveryId,
      eventType: verified.eventType,
      reboundOrderId: order?.reboundOrderId ?? null,
      status: order?.statusDescription ?? null,
      occurredAt: order?.timestamp ?? null,
      body: verified.body,
    });
    return { status: 200, body: { received: true, duplicate: !isNew } };
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rebound/notifications`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Asks ReBound to send every notification type to `url`, signed with `secret`. */
export async function subscribeToNotifications(
  subscribe: (type: (typeof reboundNotificationTypes)[number], target: { url: string; secret: string }) => Promise<unknown>,
  url: string,
  secret: string,
): Promise<void> {
  for (const type of reboundNotificationTypes) await subscribe(type, { url, secret });
}
