import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { knownReturnStates } from '../mirakl-store';

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
  const unknown = ctx
    .q(`SELECT id FROM mirakl_returns WHERE state NOT IN (${knownReturnStates.map((s) => `'${s}'`).join(', ')}) ORDER BY synced_at LIMIT 100`)
    .all() as { id: string }[];
  const recheck = [...new Set([...unknown.map((u) => u.id), ...ctx.quarantine.heldKeys('RT11', 100).filter((k) => !k.startsWith('#'))])].slice(0, 100);
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
  const queue = ctx.q(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES (?, 'awaiting_order', ?) ON CONFLICT (return_id) DO NOTHING`);
  for (const r of page.data) {
    // The return and its place in intake are one write: a return stored without it would never be worked on. Every
    // return read is queued if it is not yet (which also heals one stored before this was one write).
    ctx.db.transaction(() => {
      if (ctx.store.saveReturn(r)) added++;
      queue.run(r.id, isoAt(ctx.clock.now()));
    })();
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
  const askedAt = isoAt(ctx.clock.now());
  let read;
  try {
    read = await ctx.mirakl.ordersById(ids, taxMode);
  } catch (error) {
    if (isApiError(error) && error.kind === 'rate_limited') return { fetched: 0, missing: [] };
    throw error;
  }
  const { orders, quarantined } = read;
  const touch = ctx.q(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  const unreadable = new Set(quarantined.map((q) => q.key));
  ctx.db.transaction(() => {
    for (const o of orders) ctx.store.saveOrder(o, taxMode);
    // Remember when each order's ledger was read, so the stalest go first next time and a probe knows what it may
    // trust — only for orders OR11 returned and we could read: an order asked for but absent or unreadable was not.
    for (const o of orders) touch.run(`or11:${o.order_id}`, askedAt, askedAt);
    ctx.quarantine.release('OR11', orders.map((o) => o.order_id));
    ctx.quarantine.hold(quarantined);
  })();
  const found = new Set(orders.map((o) => o.order_id));
  return { fetched: orders.length, missing: ids.filter((id) => !found.has(id) && !unreadable.has(id)) };
}

/** The order ids most worth one OR11 call now. */
function ordersToFetch(ctx: EngineContext, limit: number): string[] {
  const picked: string[] = [];
  const add = (rows: { order_id: string }[]) => {
    for (const r of rows) if (picked.length < limit && !picked.includes(r.order_id)) picked.push(r.order_id);
  };
  // 1. Refunds whose outcome is unknown: the probe that must precede any retry.
  add(
    ctx
      .q(
        `SELECT DISTINCT l.order_id FROM intents i JOIN mirakl_order_lines l ON l.order_line_id = json_extract(i.payload, '$.order_line_id')
         WHERE i.kind = 'mirakl.refund' AND i.state = 'uncertain' ORDER BY i.id LIMIT ?`,
      )
      .all(limit) as { order_id: string }[],
  );
  // 2. New returns whose order we have not seen yet (and whose wait is due).
  add(
    ctx
      .q(
        `SELECT DISTINCT r.order_id FROM return_intake i JOIN mirakl_returns r ON r.id = i.return_id
         LEFT JOIN mirakl_orders o ON o.order_id = r.order_id
         WHERE i.stage = 'awaiting_order' AND o.order_id IS NULL AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= ?)
         ORDER BY i.next_attempt_at, r.date_created LIMIT ?`,
      )
      .all(isoAt(ctx.clock.now()), limit) as { order_id: string }[],
  );
  // 3. Orders with refunds we sent and are waiting on (every 30 minutes), then orders of returns still open
  //    (every 6 hours, to notice refunds or changes made outside the bridge), stalest first.
  const stale = (minutes: number) => isoAt(ctx.clock.now() - minutes * 60_000);
  add(
    ctx
      .q(
        `SELECT order_id FROM (
           SELECT l.order_id FROM mirakl_refunds f JOIN mirakl_order_lines l ON l.order_line_id = f.order_line_id
             WHERE f.refund_state != 'REFUNDED'
           UNION
           SELECT l.order_id FROM intents i JOIN mirakl_order_lines l ON l.order_line_id = json_extract(i.payload, '$.order_line_id')
             WHERE i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND i.updated_at >= @recent
               AND NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = json_extract(i.outcome, '$.refundId'))
         ) AS waiting
         LEFT JOIN sync_cursors c ON c.feed = 'or11:' || waiting.order_id
         WHERE c.value IS NULL OR c.value <= @stale
         ORDER BY c.value LIMIT @limit`,
      )
      .all({ stale: stale(30), recent: stale(24 * 60), limit }) as { order_id: string }[],
  );
  add(
    ctx
      .q(
        `SELECT DISTINCT r.order_id AS order_id FROM mirakl_returns r JOIN return_intake i ON i.return_id = r.id
           LEFT JOIN sync_cursors c ON c.feed = 'or11:' || r.order_id
           WHERE i.stage NOT IN ('awaiting_order', 'done', 'skipped') AND (c.value IS NULL OR c.value <= @stale)
           ORDER BY c.value LIMIT @limit`,
      )
      .all({ stale: stale(6 * 60), limit }) as { order_id: string }[],
  );
  return picked;
}
