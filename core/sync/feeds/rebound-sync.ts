import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
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

export async function syncRebound(ctx: EngineContext, options: { maxPerCycle?: number; staleMinutes?: number } = {}): Promise<{ refreshed: number }> {
  const max = options.maxPerCycle ?? 50;
  // Without notifications, each open return order is re-read every few hours: parcels move in days, and ReBound's
  // 300 calls a minute are shared with everything else.
  // With notifications arriving, polling is only a safety net.
  // Orders a notification told us about first, then open orders not refreshed for a while.
  const hinted = ctx.repo.hintedReturnOrders(max);
  const stale = ctx.repo.staleReturnOrders(ctx.clock.now() - (options.staleMinutes ?? (ctx.webhook ? 12 * 60 : 180)) * 60_000, max);
  const ids = [...new Set([...hinted, ...stale])].slice(0, max);
  let refreshed = 0;
  for (const id of ids) {
    const returnId = ctx.repo.returnOfReturnOrder(id);
    if (!returnId) continue;
    let ro: ReturnOrderSnapshot | null;
    try {
      ro = await ctx.rebound.getReturnOrder(id);
    } catch (error) {
      // An answer that cannot be read is shown to a person (and read again next cycle); others are retried quietly.
      if (isApiError(error) && error.quarantined) ctx.quarantine.hold([error.quarantined], { returnId });
      ctx.log.warn('ReBound refresh failed; will retry next cycle', { reboundOrderId: id, error: (error as Error).message });
      continue;
    }
    if (!ro) continue;
    ctx.quarantine.release('returnOrders.get', [id]);
    applyAndRecord(ctx, returnId, ro);
    refreshed++;
  }
  // Notifications for orders we do not know (yet) stay pending until the order is ours, then apply as above.
  return { refreshed };
}

export function applyAndRecord(ctx: EngineContext, returnId: string, ro: ReturnOrderSnapshot): void {
  const policy = ctx.mappings().policy;
  ctx.transaction(() => {
    const before = ctx.physical.returnOrderOf(returnId);
    const changes = ctx.physical.applySnapshot(returnId, ro, policy.stock.sellableGrades);
    ctx.repo.recordEvent({
      key: `poll:${ro.reboundOrderId}:${ro.status}:${ro.updatedAt}`,
      source: 'poll',
      type: 'snapshot',
      reboundOrderId: ro.reboundOrderId,
      status: ro.status,
      occurredAt: ro.updatedAt,
      payload: { status: ro.status, items: ro.items.length },
      outcome: changes.unitsAdvanced > 0 || before?.status !== ro.status ? 'applied' : 'no_change',
    });
    ctx.repo.markEventsApplied(ro.reboundOrderId);
  });
}
