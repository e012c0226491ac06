import { httpWebhookTransport, type WebhookRequest, type WebhookTransport } from '../../core/sandbox/rebound/transport';
import type { FaultKind, PlannedFault } from './plan';

// ReBound's notifications pass through here on their way to the engine's real receiver. They are held while the
// engine runs a cycle and delivered between cycles, in a fixed order, so a run replays exactly. On the way they can
// be duplicated, held back for a few cycles (late), reordered, refused (ReBound retries later) or lost after ReBound
// was told they arrived (missing: the engine must find out by polling).

interface Held {
  request: WebhookRequest;
  settle: (result: { status: number } | Error) => void;
  stepsLeft: number;
}

export interface NotificationChaos {
  transport: WebhookTransport;
  /** Delivers what ReBound sent since the last call (or withholds it); only ever between engine cycles. */
  deliver(options: { isReceiverUp: boolean; take: (kind: FaultKind, where: string) => PlannedFault | null }): Promise<void>;
  /** Answers everything still held as refused, so nothing is left in flight when the sandbox closes. */
  refuseAll(): void;
  /** Delivery ids the engine's receiver acknowledged (2xx): each must be stored exactly once. */
  readonly acknowledged: Set<string>;
  /** Delivery ids acknowledged to ReBound that never reached the engine. */
  readonly withheld: Set<string>;
  readonly held: number;
}

export function createNotificationChaos(): NotificationChaos {
  let queue: Held[] = [];
  const acknowledged = new Set<string>();
  const withheld = new Set<string>();

  const idOf = (r: WebhookRequest) => r.headers['x-rebound-delivery-id'] ?? '?';

  return {
    transport: (request) => new Promise((resolve, reject) => queue.push({ request, stepsLeft: 0, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) })),
    acknowledged,
    withheld,
    get held() {
      return queue.length;
    },
    async deliver({ isReceiverUp, take }) {
      const ready = queue.filter((h) => h.stepsLeft <= 0);
      queue = queue.filter((h) => h.stepsLeft > 0);
      for (const h of queue) h.stepsLeft--;
      if (ready.length >= 2 && take('notificationsReordered', `${ready.length} notifications`)) ready.reverse();
      for (const h of ready) {
        const id = idOf(h.request);
        if (!isReceiverUp) {
          h.settle(new Error('connect ECONNREFUSED (the app is not running)'));
          continue;
        }
        const late = take('notificationLate', id);
        if (late) {
          queue.push({ ...h, stepsLeft: late.amount });
          continue;
        }
        if (take('notificationMissing', id)) {
          withheld.add(id);
          h.settle({ status: 200 });
          continue;
        }
        if (take('notificationRefused', id)) {
          h.settle({ status: 503 });
          continue;
        }
        const times = take('notificationDuplicate', id) ? 2 : 1;
        let result: { status: number } | Error = new Error('not sent');
        for (let n = 0; n < times; n++) {
          try {
            result = await httpWebhookTransport(h.request, 10_000);
            if (result.status >= 200 && result.status < 300) acknowledged.add(id);
          } catch (error) {
            result = error instanceof Error ? error : new Error(String(error));
          }
        }
        h.settle(result);
      }
    },
    refuseAll() {
      for (const h of queue) h.settle({ status: 503 });
      queue = [];
    },
  };
}
