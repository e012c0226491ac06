import type { EngineContext } from '../context';
import { areWritesFrozen, releaseDue, sendIntents } from '../execute';
import { takeTouched } from '../touched';
import { isArrived, returnOrderStatusRank, type UnitRow } from '../../ledger/units';
import type { Intent } from '../../ledger/intents';
import { applyBatch, raisePushRejected } from './intake';
import { actOnNotificationSoon, isReturnOrderCurrentSince } from './rebound-sync';
import { refundIntentsOf } from '../../ledger/refunds';

// Mirakl is updated only after ReBound confirms (DESIGN rule 3): RT25 once ReBound has registered units of the
// return, RT26 once it has graded them, RT27 once every refund the return needs is REFUNDED (judged from a fresh read
// of ReBound's return order: a unit can still turn up after ReBound processed it). Each is an intent,
// sent in batches of at most 100 with every per-item error handled on its own. The planners look only at returns
// something happened to (see touched.ts); a batch may wait a short window for more to join it (see pacing.ts).

const scope = (taken: { all: true } | { all: false; ids: string[] }): readonly string[] | 'all' => (taken.all ? 'all' : taken.ids);

export function planMiraklPushes(ctx: EngineContext): void {
  const taken = takeTouched(ctx, 'pushes');
  if (!taken.all && taken.ids.length === 0) return;
  const rows = ctx.repo.returnsForPushes(returnOrderStatusRank.ITEMS_REGISTERED, scope(taken));
  for (const r of rows) {
    const units = ctx.physical.units(r.id);
    const receive = ctx.intents.findByKey(`rt25:${r.id}`);
    if (receive && receive.state !== 'confirmed' && (r.state === 'RECEIVED' || r.state === 'CLOSED')) {
      ctx.intents.confirmObserved(receive.id, { observedState: r.state });
    }
    if (r.state === 'IN_PROGRESS' && units.some(isArrived)) {
      ctx.intents.plan({ kind: 'mirakl.receive', key: `rt25:${r.id}`, subject: r.id, payload: { id: r.id } });
    }
    const isGraded = r.ro_rank >= returnOrderStatusRank.PROCESSED && units.every((u) => u.stage === 'graded' || u.stage === 'missing' || u.stage === 'lost');
    if (r.state === 'RECEIVED' && isGraded) {
      const lines = new Map<string, UnitRow[]>();
      for (const u of units) lines.set(u.order_line_id, [...(lines.get(u.order_line_id) ?? []), u]);
      const returnLines = [...lines].map(([orderLineId, lineUnits]) => {
        const missing = lineUnits.filter((u) => !isArrived(u)).length;
        const damaged = lineUnits.filter((u) => u.grade === 'D_DAMAGED').length;
        if (missing === 0 && damaged === 0) return { order_line_id: orderLineId, compliant: true };
        return {
          order_line_id: orderLineId,
          compliant: false,
          non_compliance_reason_code: missing > 0 ? 'RETURN_NON_COMPLIANT_MISSING_ITEM' : 'RETURN_NON_COMPLIANT_DAMAGED_PRODUCT',
          non_compliance_additional_info: missing > 0 ? `${missing} of ${lineUnits.length} unit(s) did not arrive at ReBound` : `${damaged} unit(s) graded damaged by ReBound`,
        };
      });
      ctx.intents.plan({ kind: 'mirakl.compliance', key: `rt26:${r.id}`, subject: r.id, payload: { id: r.id, return_lines: returnLines } });
    }
  }
}

/**
 * Closing ends the customer's return for good, so it is planned only from a read of ReBound's return order this
 * recent (or ReBound's list of changes read since, without it): a unit ReBound registers after it processed the order
 * (a late unit) is owed a refund, and a return order read PROCESSED is otherwise not read again. When neither is that
 * recent, a read is asked for (first in the next ReBound run) and the close waits for it.
 */
const closeReadMaxAgeMs = 2 * 60_000;
/** How soon a planned close held for an unpaid refund is looked at again. */
const closeRecheckMs = 15 * 60_000;

export function planCloses(ctx: EngineContext): void {
  const taken = takeTouched(ctx, 'closes');
  const rows = !taken.all && taken.ids.length === 0 ? [] : ctx.repo.returnsToClose(scope(taken));
  for (const id of rows) {
    if (!refundsSettled(ctx, id)) continue;
    if (isReadSince(ctx, id, ctx.clock.now() - closeReadMaxAgeMs)) ctx.intents.plan({ kind: 'mirakl.close', key: `rt27:${id}`, subject: id, payload: { id } });
    else askForRead(ctx, id);
  }
  // A close whose answer was lost: RT11 shows the return CLOSED, so it is done.
  const closed = ctx.repo.closesSeenDone();
  for (const c of closed) {
    ctx.intents.confirmObserved(c.intent, { observedState: 'CLOSED' });
    ctx.intake.moveTo(c.id, 'done');
  }
}

/**
 * True when ReBound's return order of this return is known as of `since`: read since, or not among the changes ReBound
 * listed since (or the return has no order to read).
 */
function isReadSince(ctx: EngineContext, returnId: string, since: number): boolean {
  const ro = ctx.physical.returnOrderOf(returnId);
  return !ro || isReturnOrderCurrentSince(ctx, ro, since);
}

/** Asks the next ReBound run to read this return's order first (once per read it is to follow), and brings that run on. */
function askForRead(ctx: EngineContext, returnId: string): void {
  const ro = ctx.physical.returnOrderOf(returnId);
  if (!ro) return;
  const isNew = ctx.repo.recordEvent({
    key: `close-check:${ro.rebound_order_id}:${ro.synced_at}`,
    source: 'poll',
    type: 'close-check',
    reboundOrderId: ro.rebound_order_id,
    status: null,
    occurredAt: null,
    payload: { returnId, lastReadAt: ro.synced_at },
    outcome: 'pending',
  });
  if (isNew) actOnNotificationSoon(ctx);
}

/**
 * A close planned earlier goes out only if what it was planned on still holds: every refund settled, and ReBound's
 * return order read recently (within the planning read's age plus the longest a batch may wait). Otherwise it waits —
 * as a failed call retried later, so the engine does not spin on it — and, for a read, one is asked for.
 */
function isCloseStillDue(ctx: EngineContext, intent: Intent<{ id: string }>): boolean {
  const id = intent.payload.id;
  const { fillSeconds } = ctx.mappings().policy.batching;
  const now = ctx.clock.now();
  let reason: string | null = null;
  let retryAt = now;
  ctx.transaction(() => {
    if (!refundsSettled(ctx, id)) {
      reason = 'waiting: a refund of this return is not paid yet (a unit ReBound registered after the close was planned)';
      retryAt = now + closeRecheckMs;
    } else if (!isReadSince(ctx, id, now - closeReadMaxAgeMs - fillSeconds * 1000)) {
      reason = "waiting: ReBound's return order is read again before the return is closed";
      retryAt = now + closeReadMaxAgeMs;
      askForRead(ctx, id);
    }
    if (reason) ctx.intents.fail(intent.id, reason, retryAt, intent.state);
  });
  return reason === null;
}

/**
 * True when every unit ReBound verified has its refund REFUNDED in Mirakl's ledger, or a person accepted the line as
 * it stands. A refund Mirakl rejected for good holds the return open and is raised (REFUND_STALLED): closing it would
 * end the customer's return with their money not paid.
 */
function refundsSettled(ctx: EngineContext, returnId: string): boolean {
  const units = ctx.physical.units(returnId);
  let isSettled = true;
  for (const line of ctx.store.returnLines(returnId)) {
    const verified = units.filter((u) => u.order_line_id === line.orderLineId && isArrived(u));
    if (verified.length === 0 || ctx.repo.isRefundLineAcceptedByPerson(returnId, line.orderLineId)) continue;
    const intents = refundIntentsOf(ctx, returnId, line.orderLineId);
    const covered = new Set(intents.flatMap((i) => i.payload.units));
    if (verified.some((u) => !covered.has(u.id))) isSettled = false;
    for (const intent of intents) {
      if (intent.state === 'failed' && intent.nextAttemptAt === null) {
        ctx.exceptions.raise({
          type: 'REFUND_STALLED',
          subjectKey: `${returnId}:${line.orderLineId}`,
          returnId,
          orderLineId: line.orderLineId,
          cause: `Mirakl refused the refund of ${(intent.payload.amountMinor / 100).toFixed(2)} ${intent.payload.currency}${intent.lastError ? ` (${intent.lastError})` : ''}; the return stays open until it is refunded or a person accepts the line as it is.`,
        });
        isSettled = false;
        continue;
      }
      if (intent.state !== 'confirmed') {
        isSettled = false;
        continue;
      }
      const refundId = (intent.outcome as { refundId?: string } | null)?.refundId;
      const ledger = refundId ? ctx.store.refundsOfLine(line.orderLineId).find((r) => r.id === refundId) : undefined;
      if (ledger?.refund_state !== 'REFUNDED') isSettled = false;
    }
  }
  return isSettled;
}

export async function sendMiraklPushes(ctx: EngineContext): Promise<void> {
  if (areWritesFrozen(ctx)) return;
  const receive = releaseDue(ctx, 'mirakl.receive', ctx.intents.due<{ id: string }>('mirakl.receive', 100));
  await sendIntents(ctx, receive, {
    point: 'rt25',
    isUnsafeWrite: false,
    call: () => ctx.mirakl.receive(receive.map((i) => i.payload.id)),
    onResult: (result) =>
      applyBatch(ctx, receive, result, (id) => {
        ctx.store.setReturnState(id, 'RECEIVED');
        // Its compliance and refunds may be planned now.
        ctx.touch(id);
      }),
  });
  const compliance = releaseDue(
    ctx,
    'mirakl.compliance',
    ctx.intents.due<{ id: string; return_lines: { order_line_id: string; compliant: boolean }[] }>('mirakl.compliance', 100),
  );
  const complianceRefused = (intent: Intent<{ id: string }>, message: string) => raisePushRejected(ctx, 'RT26', 'the inspection result', intent, message);
  const complianceVerdict = await sendIntents(ctx, compliance, {
    point: 'rt26',
    isUnsafeWrite: false,
    call: () => ctx.mirakl.compliance(compliance.map((i) => i.payload)),
    onResult: (result) => applyBatch(ctx, compliance, result, (id) => ctx.touch(id), complianceRefused),
  });
  if (complianceVerdict?.kind === 'rejected') compliance.forEach((i) => complianceRefused(i, complianceVerdict.message));
  const close = releaseDue(ctx, 'mirakl.close', ctx.intents.due<{ id: string }>('mirakl.close', 100)).filter((i) => isCloseStillDue(ctx, i));
  const closeRefused = (intent: Intent<{ id: string }>, message: string) => raisePushRejected(ctx, 'RT27', 'closing the return', intent, message);
  const closeVerdict = await sendIntents(ctx, close, {
    point: 'rt27',
    isUnsafeWrite: false,
    call: () => ctx.mirakl.close(close.map((i) => i.payload.id)),
    onResult: (result) =>
      applyBatch(
        ctx,
        close,
        result,
        (id) => {
          ctx.store.setReturnState(id, 'CLOSED');
          ctx.intake.moveTo(id, 'done');
        },
        closeRefused,
      ),
  });
  if (closeVerdict?.kind === 'rejected') close.forEach((i) => closeRefused(i, closeVerdict.message));
}

