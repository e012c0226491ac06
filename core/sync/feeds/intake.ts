import { basename } from 'node:path';
import type { IntakeStage } from '../../store/intake-repo';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { ApiError } from '../../net/api-error';
import { backoffDelay, defaultBackoff } from '../backoff';
import { areWritesFrozen, releaseDue, sendIntents } from '../execute';
import type { Intent } from '../../ledger/intents';
import type { ReturnOrderSnapshot } from '../../ledger/units';

// Intake: from a return Mirakl reports (Mirakl owns the return request) to a ReBound return order with its label
// and tracking pushed back to Mirakl. A return whose order is not visible yet waits with backoff, then raises
// ORDER_NOT_FOUND but keeps being retried: it is never dropped and never half-created in ReBound. Creating the
// ReBound return is idempotent: before any attempt we look for a return order ReBound already has for it.

const handledElsewhereStates = new Set(['REFUSED', 'CANCELED', 'CLOSED', 'RECEIVED', 'NO_RECEPTION']);
/**
 * Of those, the states a parcel may have reached ReBound in: a return order made for it before this database knew of
 * the return (an earlier copy of this database, put back from a backup since; or one made by hand) is looked for.
 */
const receivedStates = new Set(['CLOSED', 'RECEIVED']);

type Stage = IntakeStage;

export interface CreateReturnPayload {
  returnId: string;
  clientOrderId: string;
  items: { clientItemId: string; sku: string; quantity: string; reasonCode: string; wish: 'REFUND' }[];
}

export async function runIntake(ctx: EngineContext): Promise<void> {
  // What the stages decide is one write.
  ctx.transaction(() => advanceStages(ctx));
  await sendAccepts(ctx);
  await sendSalesOrders(ctx);
  await sendCreateReturns(ctx);
  await findReturnOrders(ctx);
  await sendLabelPushes(ctx);
}

/** How long a return waiting on a call of ours is parked before intake looks again anyway (the call confirming wakes it). */
const parkMs = 30 * 60_000;

/** After a read that did not find it, OR11 is asked for the order again after 1, 2, 4, 8, 16, then every 30 minutes. */
export function orderAskDelay(attempts: number): number {
  return Math.min(30 * 60_000, 60_000 * 2 ** Math.min(Math.max(0, attempts - 1), 5));
}

function setStage(ctx: EngineContext, returnId: string, stage: Stage, extra: { nextAttemptAt?: number | null; error?: string | null; attempts?: number } = {}) {
  ctx.intake.setStage(returnId, stage, extra);
}

/**
 * OR11 was asked for these orders and did not return them: only now does each of their returns back off, and once its
 * wait has run out it raises ORDER_NOT_FOUND (and keeps being asked for, never dropped).
 */
export function ordersNotFound(ctx: EngineContext, orderIds: readonly string[]): void {
  const now = ctx.clock.now();
  const policy = ctx.mappings().policy;
  for (const orderId of orderIds) {
    for (const row of ctx.intake.awaitingOrder(orderId)) {
      const attempts = row.attempts + 1;
      ctx.intake.setOrderAsk(row.return_id, now + orderAskDelay(attempts), attempts, 'order not visible in OR11 yet');
      const ret = ctx.store.getReturn(row.return_id);
      if (ret && now >= waitUntilOf(ctx, row, ret, policy.returns.orderWaitMinutes)) raiseOrderNotFound(ctx, ret);
    }
  }
}

function waitUntilOf(ctx: EngineContext, row: { return_id: string; order_wait_until: string | null }, ret: { dateCreated: string; firstSeenAt: string }, waitMinutes: number): number {
  if (row.order_wait_until) return Date.parse(row.order_wait_until);
  // The wait runs from when we could first look for the order: a return requested days before the app first read it
  // (a backlog, the first sync) gets its full wait too, instead of an exception before the first try.
  const until = Math.max(Date.parse(ret.dateCreated), Date.parse(ret.firstSeenAt)) + waitMinutes * 60_000;
  ctx.intake.setOrderWaitUntil(row.return_id, until);
  return until;
}

function raiseOrderNotFound(ctx: EngineContext, ret: { id: string; orderId: string; dateCreated: string }): void {
  ctx.exceptions.raise({
    type: 'ORDER_NOT_FOUND',
    subjectKey: ret.id,
    returnId: ret.id,
    cause: `Mirakl shows return ${ret.id} for order ${ret.orderId}, but OR11 has not returned that order since ${ret.dateCreated}.`,
  });
}

/**
 * Moves every due return as far as local facts allow, planning the intents the next steps need. A return that must
 * wait (for its order, for a call of ours) is parked, and woken by what it waits for: a cycle with nothing new to
 * do reads nothing here and writes nothing.
 */
function advanceStages(ctx: EngineContext): void {
  const now = ctx.clock.now();
  const mappings = ctx.mappings();
  const reasonRows = new Map(mappings.reasonCodes.reasons.map((r) => [r.mirakl, r]));
  const rows = ctx.intake.due(1000);

  for (const row of rows) {
    const ret = ctx.store.getReturn(row.return_id);
    if (!ret) continue;
    const lines = ctx.store.returnLines(ret.id);

    if (row.stage === 'awaiting_order' || row.stage === 'blocked') {
      if (!ctx.store.hasOrder(ret.orderId)) {
        // OR11's queue asks for the order (oldest waiting first); the read that stores it wakes this return. Here the
        // return only sleeps until its wait runs out, and its order goes back to the head of OR11's queue.
        const waitUntil = waitUntilOf(ctx, row, ret, mappings.policy.returns.orderWaitMinutes);
        if (now >= waitUntil) raiseOrderNotFound(ctx, ret);
        const until = now >= waitUntil ? now + parkMs : waitUntil;
        const error = 'order not visible in OR11 yet';
        if (row.stage === 'blocked') setStage(ctx, ret.id, 'awaiting_order', { nextAttemptAt: until, error });
        else ctx.intake.park(ret.id, until, { error, askOrderNow: row.attempts > 0 });
        continue;
      }
      ctx.exceptions.autoResolve('ORDER_NOT_FOUND', ret.id, 'the order is now visible in OR11');
      const problems: string[] = [];
      const unmapped = new Set<string>();
      const unitLines: { orderLineId: string; quantity: number; offerSku: string }[] = [];
      for (const line of lines) {
        const orderLine = ctx.store.orderLine(line.orderLineId);
        if (!orderLine || orderLine.orderId !== ret.orderId) problems.push(`line ${line.orderLineId} is not part of order ${ret.orderId}`);
        else if (line.quantity > orderLine.quantity) problems.push(`line ${line.orderLineId} returns ${line.quantity} of ${orderLine.quantity} sold`);
        else unitLines.push({ orderLineId: line.orderLineId, quantity: line.quantity, offerSku: orderLine.offerSku });
        if (!reasonRows.has(line.reasonCode)) unmapped.add(line.reasonCode);
      }
      if (problems.length) {
        ctx.exceptions.raise({ type: 'RETURN_NOT_CREATED', subjectKey: ret.id, returnId: ret.id, cause: `The return does not match its order: ${problems.join('; ')}.` });
        setStage(ctx, ret.id, 'blocked', { nextAttemptAt: now + 30 * 60_000, error: problems.join('; ') });
        continue;
      }
      if (unmapped.size) {
        ctx.exceptions.raise({
          type: 'UNMAPPED_REASON',
          subjectKey: ret.id,
          returnId: ret.id,
          cause: `Return reason ${[...unmapped].join(', ')} has no mapping under Settings › Reason mappings (${basename(mappings.sources.reasonCodes)}); the return waits until one is added.`,
        });
        setStage(ctx, ret.id, 'blocked', { nextAttemptAt: now + 30 * 60_000, error: `unmapped reason ${[...unmapped].join(', ')}` });
        continue;
      }
      ctx.exceptions.autoResolve('UNMAPPED_REASON', ret.id, 'every reason of the return is now mapped');
      ctx.physical.createUnits(ret.id, unitLines);
      row.stage = 'awaiting_acceptance';
    }

    if (row.stage === 'awaiting_acceptance') {
      const accept = ctx.intents.findByKey(`rt21:${ret.id}`);
      if (accept && accept.state !== 'confirmed' && ret.state !== 'WAITING_ACCEPTANCE') ctx.intents.confirmObserved(accept.id, { observedState: ret.state });
      if (ret.state === 'WAITING_ACCEPTANCE') {
        if (mappings.policy.returns.autoAccept) {
          ctx.intents.plan({ kind: 'mirakl.accept', key: `rt21:${ret.id}`, subject: ret.id, payload: { id: ret.id } });
        }
        // Woken when RT21 is confirmed, or when RT11 shows the return changed.
        setStage(ctx, ret.id, 'awaiting_acceptance', { nextAttemptAt: now + parkMs });
        continue;
      }
      if (ret.state !== 'IN_PROGRESS') {
        if (receivedStates.has(ret.state)) {
          // Received or closed before it reached us: there is nothing to create, but a return order ReBound may hold
          // for it carries its units, and so its refunds and its restock. Looked for (findReturnOrders), never created.
          setStage(ctx, ret.id, 'find_return', { error: `Mirakl state ${ret.state}` });
        } else if (handledElsewhereStates.has(ret.state)) {
          // Refused or cancelled before it reached us: there is nothing to create.
          setStage(ctx, ret.id, 'skipped', { error: `Mirakl state ${ret.state}` });
        } else {
          // A state Mirakl added without notice: wait for one we understand rather than guess.
          setStage(ctx, ret.id, 'awaiting_acceptance', { nextAttemptAt: now + 10 * 60_000, error: `unknown Mirakl state ${ret.state}` });
        }
        continue;
      }
      row.stage = 'sales_order';
    }

    if (row.stage === 'sales_order') {
      const salesOrder = ctx.intents.plan({ kind: 'rebound.salesOrder', key: `sales-order:${ret.orderId}`, subject: ret.orderId, payload: { orderId: ret.orderId } });
      if (isRefusedButReceived(salesOrder, ret.state)) {
        setStage(ctx, ret.id, 'find_return', { error: `Mirakl state ${ret.state}; our sales order was refused` });
        continue;
      }
      if (salesOrder.state !== 'confirmed') {
        // Woken when the sales order is confirmed.
        setStage(ctx, ret.id, 'sales_order', { nextAttemptAt: now + parkMs });
        continue;
      }
      row.stage = 'create_return';
    }

    if (row.stage === 'create_return') {
      const payload: CreateReturnPayload = {
        returnId: ret.id,
        clientOrderId: ret.orderId,
        items: lines.map((l) => ({
          clientItemId: l.orderLineId,
          sku: ctx.store.orderLine(l.orderLineId)?.offerSku ?? '',
          quantity: String(l.quantity),
          reasonCode: reasonRows.get(l.reasonCode)?.rebound ?? '',
          wish: 'REFUND' as const,
        })),
      };
      const intent = ctx.intents.plan({
        kind: 'rebound.createReturn',
        key: `rebound-return:${ret.id}`,
        subject: ret.id,
        payload,
        mappingVersion: mappings.versions.reasonCodes,
      });
      if (isRefusedButReceived(intent, ret.state)) {
        setStage(ctx, ret.id, 'find_return', { error: `Mirakl state ${ret.state}; our create was refused` });
        continue;
      }
      if (intent.state !== 'confirmed') {
        // Woken when ReBound's return order is adopted (created, or found already there).
        setStage(ctx, ret.id, 'create_return', { nextAttemptAt: now + parkMs });
        continue;
      }
      row.stage = 'push_label';
    }

    if (row.stage === 'push_label') {
      const ro = ctx.physical.returnOrderOf(ret.id);
      if (!ro) {
        setStage(ctx, ret.id, 'push_label', { nextAttemptAt: now + parkMs });
        continue;
      }
      const intent = ctx.intents.plan({
        kind: 'mirakl.patch',
        key: `rt04:${ret.id}`,
        subject: ret.id,
        payload: {
          id: ret.id,
          rma: ro.rebound_order_id,
          ...(ro.tracking_number ? { tracking: { carrier_code: ro.carrier ?? 'UNKNOWN', carrier_name: carrierName(ro.carrier), tracking_number: ro.tracking_number } } : {}),
        },
      });
      // Confirmed (or refused for good) RT04 moves it on.
      setStage(ctx, ret.id, intent.state === 'confirmed' ? 'in_flight' : 'push_label', intent.state === 'confirmed' ? {} : { nextAttemptAt: now + parkMs });
      if (intent.state === 'confirmed') ctx.touch(ret.id);
    }
  }
}

/**
 * ReBound refused our sales order or return create for good (a person was asked to retry it), and Mirakl now shows the
 * return received: someone else got it to ReBound (another installation, or by hand), and RETURN_NOT_CREATED no longer
 * holds. Its return order is then looked for, never created, as for a return received before it reached us; left
 * parked on the refused call, its units would never be refunded nor restocked.
 */
function isRefusedButReceived(intent: { state: string; nextAttemptAt: string | null }, miraklState: string): boolean {
  return intent.state === 'failed' && intent.nextAttemptAt === null && receivedStates.has(miraklState);
}

/**
 * The return is in flight: the planners of receipts, refunds and closes take only returns in flight, so what ReBound
 * showed of it before (a parcel registered while its label push waited for its call) is looked at now, not at their
 * next sweep.
 */
function enterFlight(ctx: EngineContext, returnId: string): void {
  ctx.intake.moveTo(returnId, 'in_flight');
  ctx.touch(returnId);
}

async function sendAccepts(ctx: EngineContext): Promise<void> {
  const due = releaseDue(ctx, 'mirakl.accept', ctx.intents.due<{ id: string }>('mirakl.accept', 100));
  await sendIntents(ctx, due, {
    point: 'rt21',
    isUnsafeWrite: false,
    call: () => ctx.mirakl.accept(due.map((i) => ({ id: i.payload.id, accepted: true }))),
    onResult: (result) =>
      applyBatch(ctx, due, result, (id) => {
        ctx.store.setReturnState(id, 'IN_PROGRESS');
        ctx.intake.wake(id);
      }),
  });
}

/** Per-item outcome of a Mirakl batch call: every item is checked, a failing one never blocks the others. */
export function applyBatch(
  ctx: EngineContext,
  intents: Intent<{ id: string }>[],
  result: { return_success: { id: string }[]; return_errors: { id: string; message: string }[] },
  onSuccess: (returnId: string) => void,
  onRefused: (intent: Intent<{ id: string }>, message: string) => void = () => undefined,
): void {
  const ok = new Set(result.return_success.map((s) => s.id));
  const errors = new Map(result.return_errors.map((e) => [e.id, e.message]));
  ctx.transaction(() => {
    for (const intent of intents) {
      if (ok.has(intent.payload.id)) {
        ctx.intents.confirm(intent.id, { at: isoAt(ctx.clock.now()) });
        onSuccess(intent.payload.id);
      } else {
        // "Invalid state" often means an earlier call whose answer was lost already did it: retry a few times while
        // the next RT11 poll shows the real state (the planners then confirm it as observed). Anything else, or a
        // state that never comes right, is final and left to the detectors.
        const message = errors.get(intent.payload.id) ?? 'missing from the answer';
        const isStateError = /invalid state/i.test(message) && intent.attempts < 4;
        ctx.intents.fail(intent.id, message, isStateError ? ctx.clock.now() + 10 * 60_000 : null);
        if (!isStateError) onRefused(intent, message);
      }
    }
  });
}

async function sendSalesOrders(ctx: EngineContext): Promise<void> {
  if (areWritesFrozen(ctx)) return;
  for (const intent of ctx.intents.due<{ orderId: string }>('rebound.salesOrder', 100)) {
    // ReBound's budget is shared: what is left this minute waits for the next.
    if (ctx.reboundCalls.left(ctx.clock.now()) < 1) return;
    const order = ctx.intake.order(intent.payload.orderId);
    if (!order) continue;
    const address = (JSON.parse(order.customer_address) ?? {}) as { street_1?: string; city?: string; zip_code?: string; country_iso_code?: string };
    const lines = ctx.intake.orderLines(order.order_id);
    await sendIntents(ctx, [intent], {
      point: 'sales-order',
      // Creating a sales order twice is harmless: ReBound answers 409 for a known clientOrderId.
      isUnsafeWrite: false,
      call: () =>
        ctx.rebound.createSalesOrder({
          clientOrderId: order.order_id,
          clientOrderCreatedDate: order.date_created,
          businessUnit: 'asos-marketplace',
          customerAddress: {
            name: order.customer_name,
            line1: address.street_1 ?? '',
            city: address.city ?? '',
            postcode: address.zip_code ?? '',
            countryCode: alpha2(address.country_iso_code ?? 'GBR'),
          },
          salesItems: lines.map((l) => ({
            clientItemId: l.order_line_id,
            sku: l.offer_sku,
            articleDescription: l.product_title,
            quantity: String(l.quantity),
            commercialValue: (l.price_unit_minor / 100).toFixed(2),
            commercialValueCurrency: order.currency,
          })),
          clientMetadata: [{ key: 'miraklCommercialId', value: order.commercial_id }],
        }),
      onResult: (result) =>
        ctx.transaction(() => {
          ctx.intents.confirm(intent.id, { created: result.created });
          ctx.intake.wakeOrder(intent.payload.orderId, 'sales_order');
        }),
    });
  }
}

async function sendCreateReturns(ctx: EngineContext): Promise<void> {
  // Frozen: only the calls whose outcome is unknown are looked for (a read); none is created.
  const due = areWritesFrozen(ctx) ? [] : ctx.intents.due<CreateReturnPayload>('rebound.createReturn', 100);
  const candidates = [...ctx.intents.inState<CreateReturnPayload>('rebound.createReturn', 'uncertain', 50), ...due];
  for (const intent of candidates) {
    // A look-up and a create: both within ReBound's budget this minute, or neither.
    if (ctx.reboundCalls.left(ctx.clock.now()) < 2) return;
    // Like a refund probe, give ReBound a few minutes to show a return order a lost answer may have created.
    if (intent.state === 'uncertain' && ctx.clock.now() - Date.parse(intent.updatedAt) < 5 * 60_000) continue;
    // Look before creating: a return order ReBound already holds for this return (a lost response, a crash
    // after the call) is adopted, never created twice.
    let existing: ReturnOrderSnapshot | null;
    try {
      existing = await findExisting(ctx, intent.payload);
    } catch (error) {
      if (intent.state === 'uncertain') continue;
      // Nothing was sent: only the look-up failed. The intent waits (with backoff) from the state it is in; it was
      // never `sending`, so this is not a failed call.
      deferAfterFailedLookup(ctx, intent, error);
      continue;
    }
    if (existing) {
      adopt(ctx, intent, existing);
      continue;
    }
    if (intent.state === 'uncertain') ctx.intents.retryAfterProbe(intent.id, 'no return order found in ReBound: the earlier call was not applied');
    const fresh = ctx.intents.get<CreateReturnPayload>(intent.id);
    if (!fresh) continue;
    const verdict = await sendIntents(ctx, [fresh], {
      point: 'create-return',
      isUnsafeWrite: true,
      call: () => ctx.rebound.createReturnOrder({ clientOrderId: intent.payload.clientOrderId, items: intent.payload.items }),
      onResult: (ro) => adopt(ctx, { ...fresh, state: 'sending' }, ro),
    });
    if (verdict?.kind === 'rejected') {
      ctx.exceptions.raise({
        type: 'RETURN_NOT_CREATED',
        subjectKey: intent.payload.returnId,
        returnId: intent.payload.returnId,
        cause: `ReBound refused the return: ${verdict.message}`,
      });
    }
  }
}

/**
 * Returns Mirakl showed received or closed when they reached us: ReBound is asked for a return order of theirs (by
 * client order id, with the return's lines), made before this database knew of them — by an earlier copy of this
 * database put back from a backup since, or by hand in ReBound's portal. One found is linked and read like any other
 * (its units registered and graded drive refunds and restock, each still once); none found, the return was handled
 * elsewhere and is skipped. A failed look-up is tried again with backoff.
 */
async function findReturnOrders(ctx: EngineContext): Promise<void> {
  for (const row of ctx.intake.toFindInRebound(100)) {
    if (ctx.reboundCalls.left(ctx.clock.now()) < 1) return;
    const ret = ctx.store.getReturn(row.return_id);
    if (!ret) continue;
    const items = ctx.store.returnLines(ret.id).map((l) => ({ clientItemId: l.orderLineId, quantity: l.quantity }));
    let found: ReturnOrderSnapshot | null;
    try {
      found = await findExisting(ctx, { clientOrderId: ret.orderId, items });
    } catch (error) {
      const api = error instanceof ApiError ? error : null;
      const retryAt = ctx.clock.now() + backoffDelay(row.attempts + 1, defaultBackoff, () => ctx.random.next(), api?.retryAfterMs);
      setStage(ctx, ret.id, 'find_return', { nextAttemptAt: retryAt, attempts: row.attempts + 1, error: `looking for its return order in ReBound failed: ${(error as Error).message}` });
      continue;
    }
    ctx.transaction(() => {
      if (!found) {
        setStage(ctx, ret.id, 'skipped', { error: `Mirakl state ${ret.state}; ReBound holds no return order for it` });
        return;
      }
      ctx.physical.applySnapshot(ret.id, found, ctx.mappings().policy.stock.sellableGrades);
      doubtRestockIfEarlierCopys(ctx, ret.id, found, ctx.intents.findByKey<CreateReturnPayload>(`rebound-return:${ret.id}`) ?? null);
      ctx.intake.foundInRebound(ret.id, found.reboundOrderId);
      ctx.touch(ret.id);
      ctx.log.info('return order found in ReBound for a return received before it reached this database', { returnId: ret.id, reboundOrderId: found.reboundOrderId });
    });
  }
}

function deferAfterFailedLookup(ctx: EngineContext, intent: Intent<CreateReturnPayload>, error: unknown): void {
  const api = error instanceof ApiError ? error : null;
  const message = `looking for a return order ReBound may already hold failed: ${(error as Error).message ?? String(error)}`;
  const retryAt = ctx.clock.now() + backoffDelay(intent.attempts + 1, defaultBackoff, () => ctx.random.next(), api?.retryAfterMs);
  ctx.intents.fail(intent.id, message, retryAt, intent.state);
  if (api?.kind === 'auth') ctx.exceptions.raise({ type: 'CREDENTIALS_INVALID', subjectKey: api.system, cause: `${api.system} refused our credentials: ${message}` });
}

async function findExisting(ctx: EngineContext, payload: { clientOrderId: string; items: { clientItemId: string; quantity: string | number }[] }): Promise<ReturnOrderSnapshot | null> {
  const claimed = ctx.intake.claimedReturnOrders(payload.clientOrderId);
  const wanted = signature(payload.items.map((i) => ({ clientItemId: i.clientItemId, quantity: Number(i.quantity) })));
  const candidates = await ctx.rebound.listReturnOrders(payload.clientOrderId);
  return (
    candidates
      .filter((ro) => !claimed.has(ro.reboundOrderId) && ro.status !== 'CANCELLED')
      .filter((ro) => signature(expectedItems(ro)) === wanted)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))[0] ?? null
  );
}

function expectedItems(ro: ReturnOrderSnapshot): { clientItemId: string; quantity: number }[] {
  const counts = new Map<string, number>();
  for (const item of ro.items) {
    if (item.grade === 'UNEXPECTED' || item.clientItemId === 'Not available') continue;
    counts.set(item.clientItemId, (counts.get(item.clientItemId) ?? 0) + Math.max(1, Number(item.quantity) || 0));
  }
  return [...counts].map(([clientItemId, quantity]) => ({ clientItemId, quantity }));
}

function signature(items: { clientItemId: string; quantity: number }[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.clientItemId, (counts.get(i.clientItemId) ?? 0) + i.quantity);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, q]) => `${id}x${q}`).join(',');
}

/** How far ReBound's clock may run ahead of this machine's, for telling a return order made before a restore. */
const restoreClockErrorMs = 10 * 60_000;

/**
 * Whether a return order found already in ReBound (not the answer to a call just made) may have had its units put back on
 * sale by an earlier copy of this database: one made before this database was last put back (a date that cannot be read
 * counts as before), unless this database made it itself since (a create of its own sent after the restore, its answer
 * lost), and only once the restore's stock settlement has run: before, that settlement judges the units by the quantities.
 */
function mayBeRestockedByEarlierCopy(ctx: EngineContext, ro: ReturnOrderSnapshot, intent: Intent<CreateReturnPayload> | null): boolean {
  const restoredAt = ctx.restore.lastStartedAt();
  if (restoredAt === null || Date.parse(ro.createdAt) >= restoredAt + restoreClockErrorMs) return false;
  const quarantine = ctx.restore.current();
  if (quarantine !== null && quarantine.stockSettledAt === null) return false;
  return !(intent && intent.attempts > 0 && !ctx.restore.predates(intent.createdAt));
}

/** The units graded in ReBound when its return order was found, whose restock an earlier copy may have made (held for a person). */
function doubtRestockIfEarlierCopys(ctx: EngineContext, returnId: string, ro: ReturnOrderSnapshot, intent: Intent<CreateReturnPayload> | null): number {
  if (!mayBeRestockedByEarlierCopy(ctx, ro, intent)) return 0;
  return ctx.physical.doubtRestockOfGraded(returnId, `restored database: ReBound's return order ${ro.reboundOrderId} was made by an earlier copy of this database, which may have put it on sale`);
}

function adopt(ctx: EngineContext, intent: Intent<CreateReturnPayload>, ro: ReturnOrderSnapshot): void {
  const policy = ctx.mappings().policy;
  // Found already there, made by an earlier copy of the database: the units already graded may be on sale (held).
  const mayBeEarlierCopys = intent.state !== 'sending';
  ctx.transaction(() => {
    ctx.physical.applySnapshot(intent.payload.returnId, ro, policy.stock.sellableGrades);
    const doubted = mayBeEarlierCopys ? doubtRestockIfEarlierCopys(ctx, intent.payload.returnId, ro, intent) : 0;
    const outcome = { reboundOrderId: ro.reboundOrderId, status: ro.status, ...(doubted > 0 ? { restockInDoubt: doubted } : {}) };
    if (intent.state === 'uncertain') ctx.intents.confirmUncertain(intent.id, outcome);
    else if (intent.state === 'sending') ctx.intents.confirm(intent.id, outcome);
    else {
      ctx.intents.markSending([intent.id]);
      ctx.intents.confirm(intent.id, { ...outcome, adopted: true });
    }
    ctx.intake.adopted(intent.payload.returnId, ro.reboundOrderId);
    ctx.touch(intent.payload.returnId);
    ctx.exceptions.autoResolve('RETURN_NOT_CREATED', intent.payload.returnId, `ReBound return order ${ro.reboundOrderId} exists`);
  });
}

async function sendLabelPushes(ctx: EngineContext): Promise<void> {
  const due = releaseDue(ctx, 'mirakl.patch', ctx.intents.due<{ id: string; rma: string; tracking?: { tracking_number: string } }>('mirakl.patch', 100));
  const toInFlight = (id: string) => enterFlight(ctx, id);
  // Refused: a person is told, and the return goes on — receiving, grading and refunding do not need Mirakl to hold
  // the label or the tracking number.
  const refused = (intent: Intent<{ id: string }>, message: string) => {
    raisePushRejected(ctx, 'RT04', 'the label and tracking number', intent, message);
    toInFlight(intent.payload.id);
  };
  const verdict = await sendIntents(ctx, due, {
    point: 'rt04',
    isUnsafeWrite: false,
    call: () => ctx.mirakl.patch(due.map((i) => i.payload)),
    onResult: (result) => applyBatch(ctx, due, result, toInFlight, refused),
  });
  if (verdict?.kind === 'rejected') ctx.transaction(() => due.forEach((i) => refused(i, verdict.message)));
}

/** Mirakl refused a status push for good (RT04, RT26, RT27): raised with Mirakl's own message, per return. */
export function raisePushRejected(ctx: EngineContext, operation: 'RT04' | 'RT26' | 'RT27', what: string, intent: Intent<{ id: string }>, message: string): void {
  ctx.exceptions.raise({
    type: 'STATUS_PUSH_REJECTED',
    subjectKey: `${operation.toLowerCase()}:${intent.payload.id}`,
    returnId: intent.payload.id,
    cause: `Mirakl refused ${what} for return ${intent.payload.id} (${operation}): ${message}`,
  });
}

function carrierName(code: string | null): string {
  return (code ?? 'Unknown carrier').toLowerCase().replace(/(^|_)([a-z])/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase());
}

const alpha3to2: Record<string, string> = { GBR: 'GB', FRA: 'FR', DEU: 'DE', IRL: 'IE', ESP: 'ES', ITA: 'IT', NLD: 'NL', POL: 'PL', SWE: 'SE', DNK: 'DK', USA: 'US' };
function alpha2(code: string): string {
  return code.length === 2 ? code : (alpha3to2[code] ?? code.slice(0, 2));
}
