import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  notificationSchemas,
  reboundNotificationTypes,
  type ReboundItemProcessed,
  type ReboundNotificationType,
  type ReboundRefundTrigger,
  type ReboundTrackingUpdate,
} from './schemas';

// A notification is acted on only if ReBound signed these exact bytes with our secret, recently: the signature
// covers the timestamp (NOTES §6.5), so a captured delivery cannot be replayed outside the tolerance window.
// Duplicates inside the window are expected (at-least-once delivery): the caller dedups on deliveryId.

export type ReboundNotification =
  | { eventType: 'trackingUpdate'; body: ReboundTrackingUpdate }
  | { eventType: 'refundTrigger'; body: ReboundRefundTrigger }
  | { eventType: 'itemProcessed'; body: ReboundItemProcessed };

export type WebhookRefusalReason = 'missing_header' | 'bad_signature' | 'timestamp_out_of_window' | 'unknown_event_type' | 'invalid_body';

export type WebhookVerification =
  | ({ ok: true; deliveryId: string; /** Unix seconds, as signed. */ timestamp: number } & ReboundNotification)
  | { ok: false; reason: WebhookRefusalReason; message: string };

export interface VerifyReboundWebhookInput {
  /** As received; names are matched case-insensitively (node's IncomingHttpHeaders fits). */
  headers: Record<string, string | string[] | undefined>;
  /** The bytes exactly as they arrived: re-serialised JSON would not match the signature. */
  rawBody: string | Buffer;
  secret: string;
  /** Milliseconds since the epoch, from the injected clock. */
  now: number;
  toleranceSeconds?: number;
}

export function verifyReboundWebhook({ headers, rawBody, secret, now, toleranceSeconds = 300 }: VerifyReboundWebhookInput): WebhookVerification {
  const eventType = header(headers, 'x-rebound-event');
  const deliveryId = header(headers, 'x-rebound-delivery-id');
  const timestamp = header(headers, 'x-rebound-timestamp');
  const signature = header(headers, 'x-rebound-signature');
  const missing = [
    ['X-Rebound-Event', eventType],
    ['X-Rebound-Delivery-Id', deliveryId],
    ['X-Rebound-Timestamp', timestamp],
    ['X-Rebound-Signature', signature],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (!eventType || !deliveryId || !timestamp || !signature) return refuse('missing_header', `missing ${missing.join(', ')}`);

  // Authenticity first, so an unsigned sender learns nothing about what else we check.
  if (!isSignatureValid(secret, timestamp, rawBody, signature)) return refuse('bad_signature', 'X-Rebound-Signature does not match the body and timestamp');

  const seconds = /^\d+$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) return refuse('timestamp_out_of_window', `X-Rebound-Timestamp ${timestamp} is not a Unix time in seconds`);
  const skewSeconds = Math.abs(now / 1000 - seconds);
  if (skewSeconds > toleranceSeconds) {
    return refuse('timestamp_out_of_window', `X-Rebound-Timestamp is ${Math.round(skewSeconds)} s from now (tolerance ${toleranceSeconds} s)`);
  }

  if (!isNotificationType(eventType)) return refuse('unknown_event_type', `unknown X-Rebound-Event ${eventType}`);

  let raw: unknown;
  try {
    raw = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return refuse('invalid_body', 'the body is not JSON');
  }
  const base = { ok: true as const, deliveryId, timestamp: seconds };
  // One branch per type keeps the body's type tied to its event type without a cast.
  switch (eventType) {
    case 'trackingUpdate': {
      const parsed = notificationSchemas.trackingUpdate.safeParse(raw);
      return parsed.success ? { ...base, eventType, body: parsed.data } : refuse('invalid_body', describe(eventType, parsed.error.issues));
    }
    case 'refundTrigger': {
      const parsed = notificationSchemas.refundTrigger.safeParse(raw);
      return parsed.success ? { ...base, eventType, body: parsed.data } : refuse('invalid_body', describe(eventType, parsed.error.issues));
    }
    case 'itemProcessed': {
      const parsed = notificationSchemas.itemProcessed.safeParse(raw);
      return parsed.success ? { ...base, eventType, body: parsed.data } : refuse('invalid_body', describe(eventType, parsed.error.issues));
    }
  }
}

function refuse(reason: WebhookRefusalReason, message: string): WebhookVerification {
  return { ok: false, reason, message };
}

function header(headers: VerifyReboundWebhookInput['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    // A repeated security header is ambiguous: treat it as absent rather than pick one.
    const single = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
    return single?.trim() || undefined;
  }
  return undefined;
}

/** base64(HMAC-SHA256(secret, "<timestamp>.<raw body>")), compared in constant time. */
function isSignatureValid(secret: string, timestamp: string, rawBody: string | Buffer, signature: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('base64'), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function isNotificationType(value: string): value is ReboundNotificationType {
  return (reboundNotificationTypes as readonly string[]).includes(value);
}

function describe(eventType: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const where = issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  return `the ${eventType} body does not match its schema (${where})`;
}
