import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import type { ReturnOrderSnapshot } from '../../ledger/units';

// ReBound owns physical status. A notification is only a hint that something moved: it is stored once per
// delivery id (duplicates are acknowledged and ignored), and the return order is then read back from ReBound
// and applied forward-only, so a late or reordered notification cannot move anything back. A desktop rarely
// receives inbound webhooks, so open return orders are also refreshed by polling, oldest first.

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
  const inserted = ctx
    .q(
      `INSERT INTO rebound_events (key, source, type, rebound_order_id, status, occurred_at, received_at, payload, outcome)
       VALUES (@key, 'webhook', @type, @orderId, @status, @occurredAt, @now, @payload, 'pending') ON CONFLICT (key) DO NOTHING`,
    )
    .run({
      key: n.deliveryId,
      type: n.eventType,
      orderId: n.reboundOrderId,
      status: n.status,
      occurredAt: n.occurredAt,
      now: isoAt(ctx.clock.now()),
      payload: JSON.stringify(n.body),
    }).changes;
  return inserted === 1;
}

export async function syncRebound(ctx: EngineContext, options: { maxPerCycle?: number; staleMinutes?: number } = {}): Promise<{ refreshed: number }> {
  const max = options.maxPerCycle ?? 50;
  // Without notifications, each open return order is re-read every few hours: parcels move in days, and ReBound's
  // 300 calls a minute are shared with everything else.
  // With notifications arriving, polling is only a safety net.
  const staleBefore = isoAt(ctx.clock.now() - (options.staleMinutes ?? (ctx.webhook ? 12 * 60 : 180)) * 60_000);
  // Orders a notification told us about first, then open orders not refreshed for a while.
  const hinted = ctx
    .q(
      `SELECT DISTINCT e.rebound_order_id AS id FROM rebound_events e JOIN rebound_return_orders o ON o.rebound_order_id = e.rebound_order_id
       WHERE e.outcome = 'pending' LIMIT ?`,
    )
    .all(max) as { id: string }[];
  const stale = ctx
    .q(`SELECT rebound_order_id AS id FROM rebound_return_orders WHERE is_open = 1 AND synced_at <= ? ORDER BY synced_at LIMIT ?`)
    .all(staleBefore, max) as { id: string }[];
  const ids = [...new Set([...hinted, ...stale].map((r) => r.id))].slice(0, max);
  let refreshed = 0;
  for (const id of ids) {
    const row = ctx.q('SELECT return_id FROM rebound_return_orders WHERE rebound_order_id = ?').get(id) as { return_id: string } | undefined;
    if (!row) continue;
    let ro: ReturnOrderSnapshot | null;
    try {
      ro = await ctx.rebound.getReturnOrder(id);
    } catch (error) {
      // An answer that cannot be read is shown to a person (and read again next cycle); others are retried quietly.
      if (isApiError(error) && error.quarantined) ctx.quarantine.hold([error.quarantined], { returnId: row.return_id });
      ctx.log.warn('ReBound refresh failed; will retry next cycle', { reboundOrderId: id, error: (error as Error).message });
      continue;
    }
    if (!ro) continue;
    ctx.quarantine.release('returnOrders.get', [id]);
    applyAndRecord(ctx, row.return_id, ro);
    refreshed++;
  }
  // Notifications for orders we do not know (yet) stay pending until the order is ours, then apply as above.
  return { refreshed };
}

export function applyAndRecord(ctx: EngineContext, returnId: string, ro: ReturnOrderSnapshot): void {
  const policy = ctx.mappings().policy;
  ctx.db.transaction(() => {
    const before = ctx.physical.returnOrderOf(returnId);
    const changes = ctx.physical.applySnapshot(returnId, ro, policy.stock.sellableGrades);
    ctx
      .q(
        `INSERT INTO rebound_events (key, source, type, rebound_order_id, status, occurred_at, received_at, payload, outcome)
         VALUES (@key, 'poll', 'snapshot', @id, @status, @at, @now, @payload, @outcome) ON CONFLICT (key) DO NOTHING`,
      )
      .run({
        key: `poll:${ro.reboundOrderId}:${ro.status}:${ro.updatedAt}`,
        id: ro.reboundOrderId,
        status: ro.status,
        at: ro.updatedAt,
        now: isoAt(ctx.clock.now()),
        payload: JSON.stringify({ status: ro.status, items: ro.items.length }),
        outcome: changes.unitsAdvanced > 0 || before?.status !== ro.status ? 'applied' : 'no_change',
      });
    ctx.q(`UPDATE rebound_events SET outcome = 'applied' WHERE rebound_order_id = ? AND outcome = 'pending'`).run(ro.reboundOrderId);
  })();
}
