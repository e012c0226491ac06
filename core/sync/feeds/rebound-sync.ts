import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { returnOrderStatusRank, type ReturnOrderSnapshot } from '../../ledger/units';

// ReBound owns physical status. A notification is only a hint that something moved: it is stored once per delivery id
// (duplicates are acknowledged and ignored), brings this feed's next run to within a few seconds (the debounce, so
// notifications arriving together are read together), and the return order is then read back from ReBound and applied
// forward-only, so a late or reordered notification cannot move anything back. The receipt it shows is pushed to Mirakl
// in the same cycle (the status pushes run right after this feed).
//
// A desktop rarely receives inbound webhooks, and webhooks get lost: every run also asks ReBound what changed since the
// last look (one call a page), and reads what did. Where ReBound cannot say what changed (the list is a modelled
// endpoint) and no notification reaches us, parcels at the hub are read every run instead (their registration is the
// receipt). Whatever budget is left re-reads open return orders not read for hours.
// Every read spends ReBound's per-client budget, which intake shares: this feed runs first, so reads that move returns
// on come before creating more.

export interface InboundNotification {
  deliveryId: string;
  eventType: string;
  reboundOrderId: string | null;
  status: string | null;
  occurredAt: string | null;
  body: unknown;
}

/** Records a verified notification. Returns false when this delivery was already received. */
export function recordNotification(ctx: EngineContext, n: InboundNotification): boolean {
  const inserted = ctx.repo.recordEvent({
    key: n.deliveryId,
    source: 'webhook',
    type: n.eventType,
    reboundOrderId: n.reboundOrderId,
    status: n.status,
    occurredAt: n.occurredAt,
    payload: n.body,
    outcome: 'pending',
  });
  return inserted;
}

/** Brings the ReBound feed's next run to within the debounce: a notification is acted on in seconds, not at the cadence. */
export function actOnNotificationSoon(ctx: EngineContext): void {
  const debounceMs = ctx.mappings().policy.cadences.eventDebounceSeconds * 1000;
  ctx.feeds.runBy('rebound', isoAt(ctx.clock.now() + debounceMs));
}

const changesCursor = 'rebound.changes';
/** When ReBound's list of changes was last read to its end: what it did not list then had not changed. */
const changesReadCursor = 'rebound.changes.read_at';
/** ReBound's list of changes is read from a little before the last change seen (its replication is not ours to know). */
const changesOverlapMs = 2 * 60_000;
/** When ReBound does not offer the list of changes (it is a modelled endpoint), it is asked again this often. */
const changesRetryMs = 24 * 60 * 60_000;
/** The safety net's share of ReBound's budget in one run: it never crowds out reads that move returns on. */
const staleShare = 0.2;

export async function syncRebound(ctx: EngineContext, options: { staleMinutes?: number } = {}): Promise<{ refreshed: number; changed: number }> {
  const now = ctx.clock.now();
  const left = () => ctx.reboundCalls.left(ctx.clock.now());
  const { hints: changed, isAvailable } = await pollChanges(ctx);
  const ids: string[] = [];
  const seen = new Set<string>();
  const take = (candidates: string[]) => {
    for (const id of candidates) {
      if (seen.has(id)) continue;
      seen.add(id);
      ids.push(id);
    }
  };
  // Orders a notification or the list of changes told us about first, then (with neither) parcels at the hub, then
  // open orders not refreshed for a while.
  take(ctx.repo.hintedReturnOrders(Math.max(0, left())));
  if (!ctx.webhook && !isAvailable && left() > ids.length) take(ctx.repo.returnOrdersAtRank(returnOrderStatusRank.AT_HUB, now - 60_000, left() - ids.length));
  const staleRoom = Math.min(left() - ids.length, Math.floor(ctx.mappings().policy.rebound.callsPerMinute * staleShare));
  if (staleRoom > 0) {
    const staleMinutes = options.staleMinutes ?? (ctx.webhook ? 12 * 60 : 180);
    take(ctx.repo.staleReturnOrders(now - staleMinutes * 60_000, staleRoom));
  }
  const read: { returnId: string; ro: ReturnOrderSnapshot }[] = [];
  for (const id of ids) {
    if (left() <= 0) break;
    const returnId = ctx.repo.returnOfReturnOrder(id);
    if (!returnId) continue;
    let ro: ReturnOrderSnapshot | null;
    try {
      ro = await ctx.rebound.getReturnOrder(id);
    } catch (error) {
      // An answer that cannot be read is shown to a person (and read again next cycle); others are retried quietly.
      if (isApiError(error) && error.quarantined) ctx.quarantine.hold([error.quarantined], { returnId });
      ctx.log.warn('ReBound refresh failed; will retry next cycle', { reboundOrderId: id, error: (error as Error).message });
      if (isApiError(error) && error.kind === 'rate_limited') break;
      continue;
    }
    if (ro) read.push({ returnId, ro });
  }
  // Everything read in this run is applied in one transaction.
  ctx.transaction(() => {
    for (const { returnId, ro } of read) {
      ctx.quarantine.release('returnOrders.get', [ro.reboundOrderId]);
      applyAndRecord(ctx, returnId, ro);
    }
  });
  // Notifications for orders we do not know (yet) stay pending until the order is ours, then apply as above.
  return { refreshed: read.length, changed };
}

/**
 * Asks ReBound which return orders changed since the last look, page by page while the budget lasts, and records each
 * of ours that changed since we last read it as a hint (read by this run, or the next if the budget ran out). The
 * cursor is ReBound's own clock (the changes' updatedAt), so ours being off changes nothing. Returns the hints recorded,
 * and whether ReBound answered (false: it does not offer the list, or it failed this time).
 */
async function pollChanges(ctx: EngineContext): Promise<{ hints: number; isAvailable: boolean }> {
  const cursor = ctx.cursors.get(changesCursor);
  const now = ctx.clock.now();
  if (cursor?.startsWith('unsupported:') && now - Date.parse(cursor.slice('unsupported:'.length)) < changesRetryMs) return { hints: 0, isAvailable: false };
  const lastSeen = cursor && !cursor.startsWith('unsupported:') ? cursor : null;
  const from = lastSeen ? isoAt(Date.parse(lastSeen) - changesOverlapMs) : (ctx.repo.earliestOpenReturnOrder() ?? isoAt(now - 24 * 60 * 60_000));
  let high = lastSeen;
  let hints = 0;
  let page: number | null = 1;
  while (page !== null && ctx.reboundCalls.left(ctx.clock.now()) > 0) {
    let answer: Awaited<ReturnType<EngineContext['rebound']['changedReturnOrders']>>;
    try {
      answer = await ctx.rebound.changedReturnOrders(from, page);
    } catch (error) {
      // ReBound without this endpoint (it is modelled, not confirmed) answers 404, 405 or a validation error: the app
      // then relies on notifications, reading parcels at the hub, and the safety net, and asks again tomorrow.
      if (isApiError(error) && (error.kind === 'not_found' || error.kind === 'rejected')) {
        ctx.cursors.set(changesCursor, `unsupported:${isoAt(now)}`);
        ctx.log.warn('ReBound does not list changed return orders; relying on notifications and reads by id', { error: error.message });
        return { hints, isAvailable: false };
      }
      if (isApiError(error)) {
        ctx.log.warn('ReBound changes could not be read; trying again next run', { error: error.message });
        return { hints, isAvailable: page !== 1 };
      }
      throw error;
    }
    ctx.transaction(() => {
      for (const c of answer.changes) {
        if (!high || c.updatedAt > high) high = c.updatedAt;
        const known = ctx.repo.returnOrderAsRead(c.reboundOrderId);
        if (!known || !isNewerThanRead(known, c)) continue;
        // A change stamped the instant we read the order may have come just after our read: read once more, after it.
        const isSameInstant = known.updated_at === c.updatedAt && known.status === c.status;
        const isNew = ctx.repo.recordEvent({
          key: `change:${c.reboundOrderId}:${c.updatedAt}:${c.status}${isSameInstant ? `:after:${known.synced_at}` : ''}`,
          source: 'poll',
          type: 'change',
          reboundOrderId: c.reboundOrderId,
          status: c.status,
          occurredAt: c.updatedAt,
          payload: { status: c.status, updatedAt: c.updatedAt },
          outcome: 'pending',
        });
        if (isNew) hints++;
      }
      // Only once the page's hints are stored: a run that stops midway reads the rest from here next time.
      if (high && high !== lastSeen) ctx.cursors.set(changesCursor, high);
    });
    page = answer.nextPage;
  }
  if (page === null) ctx.cursors.set(changesReadCursor, isoAt(now));
  return { hints, isAvailable: true };
}

/**
 * True when what we hold of a return order is known to be ReBound's view as of `since` or later: we read it since, or
 * ReBound's list of changes was read to its end since and nothing it listed for this order waits to be read.
 */
export function isReturnOrderCurrentSince(ctx: EngineContext, ro: { rebound_order_id: string; synced_at: string }, since: number): boolean {
  if (Date.parse(ro.synced_at) >= since) return true;
  const listedAt = ctx.cursors.get(changesReadCursor);
  return listedAt !== null && Date.parse(listedAt) >= since && !ctx.repo.hasPendingEvents(ro.rebound_order_id);
}

/**
 * Whether a listed change may be one we have not read: a later updatedAt or another status, or the same updatedAt as
 * the read we hold when that read was made no later than it (ReBound stamps changes to the second, or a clock step
 * apart: a unit registered in the same instant as our read would otherwise never be read).
 */
function isNewerThanRead(known: { updated_at: string; status: string; synced_at: string }, change: { updatedAt: string; status: string }): boolean {
  if (known.updated_at < change.updatedAt || known.status !== change.status) return true;
  return known.updated_at === change.updatedAt && Date.parse(known.synced_at) <= Date.parse(change.updatedAt);
}

export function applyAndRecord(ctx: EngineContext, returnId: string, ro: ReturnOrderSnapshot): void {
  const policy = ctx.mappings().policy;
  ctx.transaction(() => {
    const before = ctx.physical.returnOrderOf(returnId);
    const changes = ctx.physical.applySnapshot(returnId, ro, policy.stock.sellableGrades);
    const isChanged = changes.unitsAdvanced > 0 || before?.status !== ro.status;
    ctx.repo.recordEvent({
      key: `poll:${ro.reboundOrderId}:${ro.status}:${ro.updatedAt}`,
      source: 'poll',
      type: 'snapshot',
      reboundOrderId: ro.reboundOrderId,
      status: ro.status,
      occurredAt: ro.updatedAt,
      payload: { status: ro.status, items: ro.items.length },
      outcome: isChanged ? 'applied' : 'no_change',
    });
    const wasAskedFor = ctx.repo.markEventsApplied(ro.reboundOrderId) > 0;
    // The status pushes, refunds and closes of this return may be due now (a close waits for a read it asked for).
    if (isChanged || wasAskedFor) ctx.touch(returnId);
  });
}
