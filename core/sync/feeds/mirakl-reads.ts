import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { knownReturnStates } from '../../store/mirakl-repo';

// Reading Mirakl within its budgets. RT11 is polled by last update with an overlap window (Mirakl's clocks and
// replication are not ours), and every snapshot is an idempotent upsert. OR11 may be called once a minute, so
// one call per minute fetches up to 100 orders, chosen by need: probes of uncertain refunds first, then orders
// of new returns, then the orders whose refunds or lines we are watching, stalest first.

const overlapMs = 10 * 60_000;
const cursorKey = 'rt11.last_updated';

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
  const updatedFrom = cursor ? isoAt(Date.parse(cursor) - overlapMs).replace(/\.\d{3}Z$/, 'Z') : undefined;
  let page = await ctx.mirakl.listReturns({ ...(updatedFrom ? { updatedFrom } : {}), limit: 100 });
  let high = cursor;
  let seen = 0;
  let added = 0;
  let quarantined = 0;
  for (;;) {
    const taken = takePage(ctx, page);
    seen += page.data.length;
    added += taken.added;
    quarantined += taken.quarantined;
    if (taken.high && (!high || taken.high > high)) high = taken.high;
    if (!page.next_page_token) break;
    page = await ctx.mirakl.listReturns({ pageToken: page.next_page_token });
  }
  // Only after every page was read: a failure midway re-reads the window next time, which the upserts absorb. A
  // record held aside does not hold the cursor back: it is read again when Mirakl changes it, or by id above.
  if (high && high !== cursor) ctx.cursors.set(cursorKey, high);
  return { seen, added, quarantined };
}

/** Stores one RT11 page: readable returns are saved (new ones queued for intake), unreadable ones held aside. */
function takePage(ctx: EngineContext, page: Awaited<ReturnType<EngineContext['mirakl']['listReturns']>>) {
  let added = 0;
  let high: string | undefined;
  for (const r of page.data) {
    // The return and its place in intake are one write: a return stored without it would never be worked on. Every
    // return read is queued if it is not yet (which also heals one stored before this was one write).
    ctx.transaction(() => {
      if (ctx.store.saveReturn(r)) added++;
      ctx.intake.queue(r.id);
    });
    if (!high || r.last_updated > high) high = r.last_updated;
  }
  ctx.quarantine.release('RT11', page.data.map((r) => r.id));
  ctx.quarantine.hold(page.quarantined);
  return { added, high, quarantined: page.quarantined.length };
}

export async function refreshOrders(ctx: EngineContext): Promise<{ fetched: number; missing: string[] }> {
  const ids = ordersToFetch(ctx, 100);
  if (ids.length === 0) return { fetched: 0, missing: [] };
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
  ctx.transaction(() => {
    for (const o of orders) ctx.store.saveOrder(o, taxMode);
    // Remember when each order's ledger was read, so the stalest go first next time and a probe knows what it may
    // trust — only for orders OR11 returned and we could read: an order asked for but absent or unreadable was not.
    for (const o of orders) ctx.repo.stampOrderRead(o.order_id, askedAt);
    ctx.quarantine.release('OR11', orders.map((o) => o.order_id));
    ctx.quarantine.hold(quarantined);
  });
  const found = new Set(orders.map((o) => o.order_id));
  return { fetched: orders.length, missing: ids.filter((id) => !found.has(id) && !unreadable.has(id)) };
}

/** The order ids most worth one OR11 call now. */
function ordersToFetch(ctx: EngineContext, limit: number): string[] {
  const picked: string[] = [];
  const add = (ids: string[]) => {
    for (const id of ids) if (picked.length < limit && !picked.includes(id)) picked.push(id);
  };
  // 1. Refunds whose outcome is unknown: the probe that must precede any retry.
  add(ctx.repo.ordersOfUncertainRefunds(limit));
  // 2. New returns whose order we have not seen yet (and whose wait is due).
  add(ctx.repo.ordersAwaited(limit));
  // 3. Orders with refunds we sent and are waiting on (every 30 minutes), then orders of returns still open
  //    (every 6 hours, to notice refunds or changes made outside the bridge), stalest first.
  const now = ctx.clock.now();
  add(ctx.repo.ordersWithRefundsInFlight(now - 30 * 60_000, now - 24 * 60 * 60_000, limit));
  // A finished return's order is still read every 6 hours for two weeks: a refund made in the back office after ours
  // is how a customer gets paid twice, and it must be seen (REFUND_EXCEEDS_RECEIPT).
  add(ctx.repo.ordersOfOpenReturns(now - 6 * 60 * 60_000, now - 14 * 24 * 60 * 60_000, limit));
  return picked;
}
