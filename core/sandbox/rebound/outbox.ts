import type { Clock } from '../../ports';
import type { Rng } from '../rng';
import type { Scenario } from '../scenario';
import { uuidLike } from './ids';
import type { DeliveryAttemptTruth, NotificationTruth, NotificationType, RefundTriggerType, ReboundCounters, StatusDescription } from './model';
import { signReboundPayload } from './signature';
import type { WebhookTransport } from './transport';

// Notification delivery on sandbox time (NOTES §6.5): at-least-once, any 2xx acks, anything else is retried at
// 1 m, 5 m, 30 m, 2 h and then daily for 7 days. The body is serialised once, so retries and duplicates carry the
// same bytes and the same delivery id; only the timestamp and signature are renewed per attempt.
// What the outbox keeps is bounded: a notification that will never be sent again (delivered and its duplicate sent,
// abandoned, or never subscribed) is dropped once its last attempt is older than the retry window, as a real sender
// drops its delivered messages; the counters still count it. Without that, a sandbox running for weeks keeps every body.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const retryDelaysMs: readonly number[] = [MINUTE, 5 * MINUTE, 30 * MINUTE, 120 * MINUTE, ...Array.from({ length: 7 }, () => DAY)];
/** A held-back notification waits for a later one to overtake it, but never longer than this. */
const MAX_HOLD_MS = 7 * DAY;
/** How long a notification can still be attempted after its first attempt (NOTES §6.5: about 7 days 2.6 hours). */
export const retryWindowMs = retryDelaysMs.reduce((sum, d) => sum + d, 0);
const PRUNE_EVERY_MS = 60 * MINUTE;

type NotificationCounts = ReboundCounters['notifications'];
/** Counts over every notification the outbox ever made, dropped ones included. */
export type OutboxCounts = NotificationCounts;

export interface Subscription {
  url: string;
  secret: string | null;
  authorizationHeader: string | null;
  updatedAt: number;
}

interface Entry {
  seq: number;
  deliveryId: string;
  type: NotificationType;
  reboundOrderId: string;
  event: StatusDescription | RefundTriggerType;
  createdAt: number;
  /** The body as sent; the truth parses it back (keeping the object too would hold every body twice). */
  rawBody: string;
  isHeldBack: boolean;
  lateMs: number;
  isDuplicated: boolean;
  duplicateDelayMs: number;
  duplicateDueAt: number | null;
  isDuplicateSent: boolean;
  outcome: NotificationTruth['outcome'];
  nextAttemptAt: number | null;
  firstAttemptAt: number | null;
  failedCount: number;
  isInFlight: boolean;
  attempts: DeliveryAttemptTruth[];
  /** When it was last sent or given up on (or made, if nobody is subscribed): the retry window counts from here. */
  lastActivityAt: number;
}

export interface OutboxOptions {
  clock: Clock;
  rng: Rng;
  scenario: Scenario;
  transport: WebhookTransport;
  timeoutMs: number;
  /** Defaults to retryWindowMs. */
  keepSettledMs?: number;
  subscription(type: NotificationType): Subscription | undefined;
  /** True when the return order will emit nothing more, so a held-back notification cannot be overtaken. */
  isOrderSettled(reboundOrderId: string): boolean;
}

export interface Outbox {
  enqueue(input: { type: NotificationType; reboundOrderId: string; event: StatusDescription | RefundTriggerType; at: number; body: unknown }): void;
  /** Starts every attempt that is due at the current sandbox time. */
  dispatchDue(): void;
  /** The sandbox time of the next attempt (a held-back notification may wait longer), or null when none waits. */
  nextDueAt(): number | null;
  flush(): Promise<void>;
  /** The notifications still kept (pending ones always, settled ones until they are older than the retry window). */
  truth(): NotificationTruth[];
  counts(): OutboxCounts;
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { clock, rng, scenario } = options;
  let entries: Entry[] = [];
  let nextSeq = 0;
  let prunedAt = clock.now();
  const keepSettledMs = options.keepSettledMs ?? retryWindowMs;
  const dropped: NotificationCounts = { created: 0, unsubscribed: 0, pending: 0, delivered: 0, abandoned: 0, attempts: 0, failedAttempts: 0, duplicatesSent: 0, heldBack: 0 };
  const waiting = new Set<Entry>();
  const inFlight = new Set<Promise<void>>();
  const lastAttemptedSeq = new Map<string, number>();
  const repeats = new Map<string, number>();

  function isDue(entry: Entry, now: number): boolean {
    if (entry.isInFlight) return false;
    if (entry.outcome === 'pending') return entry.nextAttemptAt !== null && entry.nextAttemptAt <= now;
    return entry.duplicateDueAt !== null && !entry.isDuplicateSent && entry.duplicateDueAt <= now;
  }

  function mayLeaveHold(entry: Entry, now: number): boolean {
    if (!entry.isHeldBack || entry.firstAttemptAt !== null) return true;
    if (now >= entry.createdAt + MAX_HOLD_MS) return true;
    const overtakenBy = lastAttemptedSeq.get(entry.reboundOrderId) ?? -1;
    return overtakenBy > entry.seq || options.isOrderSettled(entry.reboundOrderId);
  }

  function attempt(entry: Entry, kind: DeliveryAttemptTruth['kind']): void {
    const subscription = options.subscription(entry.type);
    const at = clock.now();
    if (!subscription) {
      // The subscription cannot be removed, so this only happens for a duplicate of an unsubscribed type.
      return;
    }
    entry.isInFlight = true;
    if (entry.firstAttemptAt === null) entry.firstAttemptAt = at;
    lastAttemptedSeq.set(entry.reboundOrderId, Math.max(lastAttemptedSeq.get(entry.reboundOrderId) ?? -1, entry.seq));
    const timestamp = String(Math.floor(at / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-rebound-event': entry.type,
      'x-rebound-delivery-id': entry.deliveryId,
      'x-rebound-timestamp': timestamp,
    };
    if (subscription.secret !== null) headers['x-rebound-signature'] = signReboundPayload(subscription.secret, timestamp, entry.rawBody);
    if (subscription.authorizationHeader !== null) headers.authorization = subscription.authorizationHeader;

    const settle = (status: number | null, error: string | null) => {
      entry.isInFlight = false;
      entry.lastActivityAt = clock.now();
      const isAck = status !== null && status >= 200 && status < 300;
      entry.attempts.push({ at: new Date(at).toISOString(), kind, status, error, isAck });
      if (kind === 'duplicate') {
        entry.isDuplicateSent = true;
        waiting.delete(entry);
        return;
      }
      if (isAck) {
        entry.outcome = 'delivered';
        entry.nextAttemptAt = null;
        if (entry.isDuplicated) entry.duplicateDueAt = at + entry.duplicateDelayMs;
        else waiting.delete(entry);
        return;
      }
      entry.failedCount++;
      const delay = retryDelaysMs[entry.failedCount - 1];
      if (delay === undefined) {
        entry.outcome = 'abandoned';
        entry.nextAttemptAt = null;
        waiting.delete(entry);
      } else {
        entry.nextAttemptAt = at + delay;
      }
    };
    const promise = options
      .transport({ url: subscription.url, headers, body: entry.rawBody }, options.timeoutMs)
      .then(
        (response) => settle(response.status, null),
        (error: unknown) => settle(null, error instanceof Error ? error.message : String(error)),
      )
      .finally(() => inFlight.delete(promise));
    inFlight.add(promise);
  }

  return {
    enqueue(input) {
      // An order sends the same event again for a late unit (its own itemRegistration, itemProcessed…): a new
      // notification, with a delivery id of its own, or the client would take it for a duplicate of the first.
      const event = `${input.type}:${input.reboundOrderId}:${input.event}`;
      const repeat = repeats.get(event) ?? 0;
      repeats.set(event, repeat + 1);
      const key = repeat === 0 ? event : `${event}#${repeat}`;
      const fate = rng.fork(`notification:${key}`);
      const isSubscribed = options.subscription(input.type) !== undefined;
      const isHeldBack = fate.chance(scenario.outOfOrderNotificationRate);
      const lateMs = fate.int(scenario.lateNotificationMinutes[0], scenario.lateNotificationMinutes[1]) * MINUTE;
      const isDuplicated = fate.chance(scenario.duplicateNotificationRate);
      const duplicateDelayMs = fate.int(1, Math.max(1, scenario.lateNotificationMinutes[1])) * MINUTE;
      const entry: Entry = {
        seq: nextSeq++,
        deliveryId: uuidLike(fate.fork('delivery-id')),
        type: input.type,
        reboundOrderId: input.reboundOrderId,
        event: input.event,
        createdAt: input.at,
        rawBody: JSON.stringify(input.body),
        isHeldBack: isSubscribed && isHeldBack,
        lateMs,
        isDuplicated: isSubscribed && isDuplicated,
        duplicateDelayMs,
        duplicateDueAt: null,
        isDuplicateSent: false,
        outcome: isSubscribed ? 'pending' : 'unsubscribed',
        nextAttemptAt: isSubscribed ? input.at + (isHeldBack ? lateMs : 0) : null,
        firstAttemptAt: null,
        failedCount: 0,
        isInFlight: false,
        attempts: [],
        lastActivityAt: clock.now(),
      };
      entries.push(entry);
      if (isSubscribed) waiting.add(entry);
      // Nothing will be sent for it, so it must not keep an earlier held-back notification waiting.
      else lastAttemptedSeq.set(entry.reboundOrderId, entry.seq);
    },

    dispatchDue() {
      const now = clock.now();
      if (now - prunedAt >= PRUNE_EVERY_MS) prune(now);
      const due = [...waiting].filter((e) => isDue(e, now)).sort((a, b) => dueAt(a) - dueAt(b) || a.seq - b.seq);
      // Two passes: what is sent now can overtake a held-back notification in the same catch-up.
      const held: Entry[] = [];
      for (const entry of due) {
        if (entry.outcome === 'pending' && !mayLeaveHold(entry, now)) held.push(entry);
        else attempt(entry, kindOf(entry));
      }
      for (const entry of held) if (mayLeaveHold(entry, now)) attempt(entry, kindOf(entry));
    },

    nextDueAt() {
      let next: number | null = null;
      for (const e of waiting) {
        if (e.isInFlight) continue;
        const at = e.outcome === 'pending' ? e.nextAttemptAt : e.isDuplicateSent ? null : e.duplicateDueAt;
        if (at !== null && (next === null || at < next)) next = at;
      }
      return next;
    },

    async flush() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    truth() {
      return entries.map((e) => ({
        deliveryId: e.deliveryId,
        type: e.type,
        reboundOrderId: e.reboundOrderId,
        event: e.event,
        createdAt: new Date(e.createdAt).toISOString(),
        isHeldBack: e.isHeldBack,
        isDuplicated: e.isDuplicated,
        outcome: e.outcome,
        nextAttemptAt: e.nextAttemptAt === null ? null : new Date(e.nextAttemptAt).toISOString(),
        attempts: e.attempts.map((a) => ({ ...a })),
        body: JSON.parse(e.rawBody) as unknown,
      }));
    },

    counts() {
      const all = { ...dropped };
      for (const e of entries) tally(all, e);
      return all;
    },
  };

  function isSettled(entry: Entry): boolean {
    if (entry.isInFlight || waiting.has(entry)) return false;
    return entry.outcome !== 'pending';
  }

  function prune(now: number): void {
    prunedAt = now;
    const kept: Entry[] = [];
    for (const e of entries) {
      if (isSettled(e) && now - e.lastActivityAt > keepSettledMs) tally(dropped, e);
      else kept.push(e);
    }
    entries = kept;
  }
}

function tally(counts: NotificationCounts, e: Entry): void {
  counts.created++;
  counts[e.outcome]++;
  counts.attempts += e.attempts.length;
  counts.failedAttempts += e.attempts.filter((a) => !a.isAck).length;
  counts.duplicatesSent += e.attempts.filter((a) => a.kind === 'duplicate').length;
  if (e.isHeldBack) counts.heldBack++;
}

function dueAt(entry: Entry): number {
  return entry.outcome === 'pending' ? (entry.nextAttemptAt ?? 0) : (entry.duplicateDueAt ?? 0);
}

function kindOf(entry: Entry): DeliveryAttemptTruth['kind'] {
  if (entry.outcome !== 'pending') return 'duplicate';
  return entry.failedCount > 0 ? 'retry' : 'delivery';
}
