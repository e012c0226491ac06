import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reboundNotificationTypes } from '../rebound/schemas';
import { verifyReboundWebhook } from '../rebound/webhook';
import type { EngineContext } from './context';
import { actOnNotificationSoon, recordNotification, type InboundNotification } from './feeds/rebound-sync';

// Inbound ReBound notifications on 127.0.0.1. A notification is verified (signature over timestamp and body,
// within the replay window), recorded once per delivery id, and acknowledged once recorded; it brings the ReBound feed
// to within a few seconds (the debounce), which reads the return order back and pushes what it shows to Mirakl.
// Notifications that arrive together are recorded in one transaction (each is acknowledged only after it commits).
// Anything unsigned or stale is refused with 401.

const maxBodyBytes = 512 * 1024;
/** How long the first notification of a burst waits for the others to share its commit (ReBound allows 10 s to answer). */
const groupCommitMs = 10;

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(ctx: EngineContext, secret: string, port = 0): Promise<WebhookReceiver> {
  // Notifications waiting for the next group commit: those that arrive within a few milliseconds of each other (ReBound
  // sends them in bursts) are written in one transaction, and each is acknowledged once it is committed.
  let batch: { n: InboundNotification; settle: (isNew: boolean) => void; fail: (error: unknown) => void }[] = [];
  const record = (n: InboundNotification): Promise<boolean> =>
    new Promise((resolve, reject) => {
      if (batch.length === 0) setTimeout(commit, groupCommitMs);
      batch.push({ n, settle: resolve, fail: reject });
    });
  function commit(): void {
    const taken = batch;
    batch = [];
    let outcomes: boolean[];
    try {
      outcomes = ctx.transaction(() => {
        const recorded = taken.map((t) => recordNotification(ctx, t.n));
        if (recorded.some(Boolean)) actOnNotificationSoon(ctx);
        return recorded;
      });
    } catch (error) {
      for (const t of taken) t.fail(error);
      return;
    }
    taken.forEach((t, i) => t.settle(outcomes[i] ?? false));
  }

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
    const isNew = await record({
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
