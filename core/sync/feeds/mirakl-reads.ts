import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { knownReturnStates } from '../../store/mirakl-repo';
import { ordersNotFound } from './intake';

// Reading Mirakl within its budgets. RT11 runs at Mirakl's recommended cadence: by creation date for new returns, and,
// less often, by last update for every change (most of which, in a busy hour, are our own writes coming back), each
// with a short overlap (Mirakl's clocks and replication are not ours); a record unchanged since we stored it is skipped,
// not saved again.
// OR11 may be called once a minute, so one call per minute fetches up to 100 orders, chosen by need: probes of
// uncertain refunds first, then the orders of waiting returns (the oldest waiting first), then the orders whose refunds
// we sent and have not seen in Mirakl's ledger, then those of returns still open, stalest first. Only a read that did
// not find an order makes its returns back off.

const overlapMs = 2 * 60_000;
const cursorKey = 'rt11.last_updated';
/** The newest date_created read (Mirakl's clock): where the next look for new returns starts. */
const createdKey = 'rt11.date_created';
/** When RT11 last read every change (our clock): the look by creation date runs in between. */
const changesReadKey = 'rt11.changes_read_at';

export async function pollReturns(ctx: EngineContext): Promise<{ seen: number; added: number; quarantined: number }> {
  // Returns last seen in a state we do not know, and returns whose last copy could not be read, are read again by id
  // (at most every 30 minutes, in place of one incremental poll: the next one's overlap covers the gap), since their
  // last update may never come round again.
  const unknown = ctx.repo.returnsInUnknownState(knownReturnStates, 100);
  const recheck = [...new Set([...unknown, ...ctx.quarantine.heldKeys('RT11', 100).filter((k) => !k.startsWith('#'))])].slice(0, 100);
  const lastRecheck = ctx.cursors.get('rt11.recheck');
  if (recheck.length > 0 && (!lastRecheck || ctx.clock.now() - Date.parse(lastRecheck) >= 30 * 60_000)) {
    ctx.cursors.set('rt11.recheck', isoAt(ctx.clock.now()));
    let page = await ctx.mirakl.listReturns({ returnIds: recheck, limit: 100 });
    let seen = 0;
    let quarantined = 0;
    for (;;) {
      seen += page.data.length;
      quarantined += takePage(ctx, page).quarantined;
      if (!page.next_page_token) break;
      page = await ctx.mirakl.listReturns({ pageToken: page.next_page_token });
    }
    return { seen, added: 0, quarantined };
  }
  const cursor = ctx.cursors.get(cursorKey);
  const now = ctx.clock.now();
  const changesReadAt = ctx.cursors.get(changesReadKey);
  const changesEveryMs = ctx.mappings().policy.cadences.returnsChangesPollSeconds * 1000;
  const created = ctx.cursors.get(createdKey);
  const sinceChanges = changesReadAt === null ? Infinity : now - Date.parse(changesReadAt);
  if (cursor && created && sinceChanges >= 0 && sinceChanges < changesEveryMs) return pollNewReturns(ctx, created);
  const updatedFrom = cursor ? isoAt(Date.parse(cursor) - overlapMs).replace(/\.\d{3}Z$/, 'Z') : undefined;
  let page = await ctx.mirakl.listReturns({ ...(updatedFrom ? { updatedFrom } : {}), limit: 100 });
  let high = cursor;
  let newest = created;
  let seen = 0;
  let added = 0;
  let quarantined = 0;
  for (;;) {
    const taken = takePage(ctx, page);
    seen += page.data.length;
    added += taken.added;
    quarantined += taken.quarantined;
    if (taken.high && (!high || taken.high > high)) high = taken.high;
    if (taken.newest && (!newest || taken.newest > newest)) newest = taken.newest;
    if (!page.next_page_token) break;
    page = await ctx.mirakl.listReturns({ pageToken: page.next_page_token });
  }
  // Only after every page was read: a failure midway re-reads the window next time, which the upserts absorb. A
  // record held aside does not hold the cursor back: it is read again when Mirakl changes it, or by id above.
  ctx.transaction(() => {
    if (high && high !== cursor) ctx.cursors.set(cursorKey, high);
    if (newest && newest !== created) ctx.cursors.set(createdKey, newest);
    ctx.cursors.set(changesReadKey, isoAt(now));
  });
  return { seen, added, quarantined };
}

/**
 * Between two reads of every change: the returns created since the newest one read (less the overlap). A return whose
 * creation this misses (Mirakl showing it late) is read by the next read of every change, whose window covers it.
 */
async function pollNewReturns(ctx: EngineContext, created: string): Promise<{ seen: number; added: number; quarantined: number }> {
  const createdFrom = isoAt(Date.parse(created) - overlapMs).replace(/\.\d{3}Z$/, 'Z');
  let page = await ctx.mirakl.listReturns({ createdFrom, limit: 100 });
  let newest = created;
  let seen = 0;
  let added = 0;
  let quarantined = 0;
  for (;;) {
    const taken = takePage(ctx, page);
    seen += page.data.length;
    added += taken.added;
    quarantined += taken.quarantined;
    if (taken.newest && taken.newest > newest) newest = taken.newest;
    if (!page.next_page_token) break;
    page = await ctx.mirakl.listReturns({ pageToken: page.next_page_token });
  }
  if (newest !== created) ctx.cursors.set(createdKey, newest);
  return { seen, added, quarantined };
}

/**
 * Stores one RT11 page in one transaction: readable returns that changed since we stored them are saved (new ones
 * queued for intake, known ones woken), unchanged ones are skipped, unreadable ones held aside.
 */
function takePage(ctx: EngineContext, page: Awaited<ReturnType<EngineContext['mirakl']['listReturns']>>) {
  let added = 0;
  let high: string | undefined;
  let newest: string | undefined;
  ctx.transaction(() => {
    for (const r of page.data) {
      if (!high || r.last_updated > high) high = r.last_updated;
      if (!newest || r.date_created > newest) newest = r.date_created;
      // Read again through the overlap, or bumped by none but the fields we do not keep: nothing to save or plan.
      if (ctx.store.isStoredAsOf(r.id, r.last_updated, r.state)) continue;
      // The return and its place in intake are one write: a return stored without it would never be worked on. Every
      // return read is queued if it is not yet (which also heals one stored before this was one write).
      if (ctx.store.saveReturn(r)) added++;
      ctx.intake.queue(r.id);
      ctx.intake.wake(r.id);
      ctx.touch(r.id);
    }
    ctx.quarantine.release('RT11', page.data.map((r) => r.id));
    ctx.quarantine.hold(page.quarantined);
  });
  return { added, high, newest, quarantined: page.quarantined.length };
}

/** Whether OR11 is the bottleneck now: its last call for orders was full, so more are waiting. */
export function isOrdersReadBusy(ctx: EngineContext): boolean {
  return Number(ctx.cursors.get('or11.last_batch') ?? 0) >= 100;
}

export async function refreshOrders(ctx: EngineContext): Promise<{ fetched: number; missing: string[] }> {
  const ids = ordersToFetch(ctx, 100);
  if (ids.length === 0) {
    if (isOrdersReadBusy(ctx)) ctx.cursors.set('or11.last_batch', '0');
    return { fetched: 0, missing: [] };
  }
  const taxMode = ctx.mappings().policy.mirakl.orderTaxMode;
  // A probe trusts a ledger read that *began* after its call: the read is stamped with when it was asked for.
  const askedAt = ctx.clock.now();
  let read;
  try {
    read = await ctx.mirakl.ordersById(ids, taxMode);
  } catch (error) {
    if (isApiError(error) && error.kind === 'rate_limited') return { fetched: 0, missing: [] };
    throw error;
  }
  const { orders, quarantined } = read;
  const unreadable = new Set(quarantined.map((q) => q.key));
  const found = new Set(orders.map((o) => o.order_id));
  const missing = ids.filter((id) => !found.has(id) && !unreadable.has(id));
  ctx.transaction(() => {
    for (const o of orders) ctx.store.saveOrder(o, taxMode);
    // Remember when each order's ledger was read, so the stalest go first next time and a probe knows what it may
    // trust — only for orders OR11 returned and we could read: an order asked for but absent or unreadable was not.
    for (const o of orders) {
      ctx.repo.stampOrderRead(o.order_id, askedAt);
      // Its returns waiting for it go on now (intake runs later in this cycle); those in flight may now close.
      ctx.intake.wakeOrder(o.order_id, 'awaiting_order');
      for (const returnId of ctx.repo.returnsOfOrder(o.order_id)) ctx.touch(returnId);
    }
    ctx.quarantine.release('OR11', orders.map((o) => o.order_id));
    ctx.quarantine.hold(quarantined);
    ordersNotFound(ctx, missing);
    ctx.cursors.set('or11.last_batch', String(ids.length));
  });
  return { fetched: orders.length, missing };
}

/** A refund of a finished return's order is still watched this long (as step 4 of ordersToFetch). */
const watchedAfterDoneMs = 14 * 24 * 60 * 60_000;

/** The orders whose refund ledger must be read again before a quarantine after restore ends: none left means done. */
export function ordersToRereadAfterRestore(ctx: EngineContext, since: number, limit: number): string[] {
  return ctx.repo.ordersOfOpenReturns(since, since - watchedAfterDoneMs, limit);
}

/** Refunds sent and still not in Mirakl's ledger (or not REFUNDED there) have their order read at least this often. */
const refundRereadMs = 30 * 60_000;
/** A refund whose answer was lost is probed with a ledger read begun this long after the call (see probeRefund). */
const probeSettleMs = 5 * 60_000;

/** The order ids most worth one OR11 call now, most needed first; a lower need is asked only while there is room. */
function ordersToFetch(ctx: EngineContext, limit: number): string[] {
  const picked = new Set<string>();
  const add = (ids: string[]) => {
    for (const id of ids) if (picked.size < limit) picked.add(id);
  };
  const room = () => limit - picked.size;
  const now = ctx.clock.now();
  // 0. After a restore: every order with refund work not read since (no refund is planned or sent before it is).
  const restoredAt = ctx.restore.lastStartedAt();
  if (restoredAt !== null) add(ordersToRereadAfterRestore(ctx, restoredAt, limit));
  // 1. Refunds whose outcome is unknown: the probe that must precede any retry, once a read can settle it.
  add(
    ctx.repo
      .ordersOfUncertainRefunds(limit)
      .filter((u) => {
        const readyAt = Date.parse(u.since) + probeSettleMs;
        const lastRead = ctx.repo.orderReadAt(u.order_id);
        return now >= readyAt && (lastRead === null || lastRead < readyAt);
      })
      .map((u) => u.order_id),
  );
  // 2. The orders of returns waiting for theirs, the oldest waiting first (those a read did not find, after backoff).
  if (room() > 0) add(ctx.repo.ordersAwaited(room()));
  // 3. Orders with refunds we sent and have not seen in Mirakl's ledger since (at once, then every 30 minutes), or
  //    that Mirakl has not paid yet (every 30 minutes), stalest first.
  if (room() > 0) add(ctx.repo.ordersWithRefundsInFlight(now - refundRereadMs, now - 24 * 60 * 60_000, room()));
  // 4. A finished return's order is still read every 6 hours for two weeks: a refund made in the back office after ours
  //    is how a customer gets paid twice, and it must be seen (REFUND_EXCEEDS_RECEIPT).
  if (room() > 0) add(ctx.repo.ordersOfOpenReturns(now - 6 * 60 * 60_000, now - 14 * 24 * 60 * 60_000, room()));
  return [...picked];
}
