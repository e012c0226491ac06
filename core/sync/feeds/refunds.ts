import type { OrderTaxMode } from '../../mirakl/schemas';
import type { DomainContext, EngineContext } from '../context';
import { isoAt } from '../context';
import { sendIntents } from '../execute';
import type { Intent } from '../../ledger/intents';
import type { TaxLine } from '../../store/mirakl-repo';
import { isArrived, type UnitRow } from '../../ledger/units';

// A refund (OR28) is sent only for units whose receipt ReBound verified, once Mirakl knows the return was
// received. Mirakl has no idempotency key, so each refund is an intent keyed by return line (planned once), and an
// intent whose outcome is unknown — a lost answer, a 5xx, or a refused batch that may have been partly applied —
// is probed in OR11 refunds[] before it may ever be sent again.

export interface RefundPayload {
  returnId: string;
  order_line_id: string;
  units: string[];
  amountMinor: number;
  shippingMinor: number;
  taxMinor: number;
  shippingTaxMinor: number;
  currency: string;
  reason_code: string;
  /**
   * The order tax mode the amounts are in, and so the mode OR28 is sent in: TAX_EXCLUDED amounts leave out the
   * taxes, which are sent beside them. (Absent on intents planned before the mode was a setting: TAX_INCLUDED.)
   */
  taxMode?: OrderTaxMode;
  /** The tax of the refund per Mirakl tax code, summing to taxMinor (absent on older intents: one line "VAT"). */
  taxes?: TaxLine[];
  shippingTaxes?: TaxLine[];
  /** Set when a person refunded before a verified receipt: who, and why (audited). */
  override?: { by: string; reason: string };
  /**
   * The refunds of the line already in our copy of Mirakl's ledger when this refund was planned: none of them can be
   * the one this call makes, so a probe never mistakes an earlier refund for ours. (Absent on intents planned before
   * this field existed.)
   */
  knownRefundIds?: string[];
}

export interface GuardCondition {
  name: string;
  holds: boolean;
  detail: string;
}

/** Why a refund for this return line may or may not be sent now: every condition, not just the first failing. */
export function evaluateRefundGuard(ctx: DomainContext, returnId: string, orderLineId: string) {
  const policy = ctx.mappings().policy;
  const ret = ctx.store.getReturn(returnId);
  const line = ctx.store.returnLines(returnId).find((l) => l.orderLineId === orderLineId);
  const orderLine = ctx.store.orderLine(orderLineId);
  const units = ctx.physical.units(returnId).filter((u) => u.order_line_id === orderLineId);
  const verified = units.filter((u) => isVerified(u, policy.refunds.trigger));
  const receivePushed = ctx.intents.findByKey(`rt25:${returnId}`)?.state === 'confirmed' || ret?.state === 'RECEIVED' || ret?.state === 'CLOSED';
  const compliancePushed = ctx.intents.findByKey(`rt26:${returnId}`)?.state === 'confirmed';
  const mapping = line ? ctx.mappings().reasonCodes.reasons.find((r) => r.mirakl === line.reasonCode) : undefined;
  const conditions: GuardCondition[] = [
    { name: 'order line known', holds: Boolean(orderLine && line), detail: orderLine ? `${orderLine.productTitle}, ${orderLine.quantity} sold` : 'OR11 has not returned this line' },
    {
      name: 'verified receipt',
      holds: verified.length > 0,
      detail: `${verified.length} of ${units.length} unit(s) ${policy.refunds.trigger === 'inspected' ? 'registered and passed inspection' : 'registered by ReBound with the right SKU'}`,
    },
    { name: 'Mirakl told of the receipt', holds: receivePushed, detail: receivePushed ? 'RT25 confirmed' : 'waiting for RT25' },
    ...(policy.refunds.trigger === 'inspected'
      ? [{ name: 'Mirakl told of the inspection', holds: compliancePushed, detail: compliancePushed ? 'RT26 confirmed' : 'waiting for RT26' }]
      : []),
    { name: 'refund reason mapped', holds: Boolean(mapping), detail: mapping ? `${line?.reasonCode} → ${mapping.refund}` : `no mapping for ${line?.reasonCode}` },
  ];
  return { allowed: conditions.every((c) => c.holds), conditions, verified, units, orderLine, mapping };
}

function isVerified(u: UnitRow, trigger: 'registered' | 'inspected'): boolean {
  if (!isArrived(u)) return false;
  return trigger === 'registered' || (u.stage === 'graded' && u.grade !== 'D_DAMAGED');
}

export function planRefunds(ctx: EngineContext): void {
  const mappings = ctx.mappings();
  // Lines with a unit ReBound registered that no refund intent of ours covers yet: the first refund of a line, and
  // any unit verified after an earlier refund of its line was planned (a late unit gets its own refund).
  const candidates = ctx.repo.linesWithUnrefundedUnits();
  for (const c of candidates) {
    const guard = evaluateRefundGuard(ctx, c.return_id, c.order_line_id);
    if (!guard.allowed) continue;
    const refund = refundFor(ctx, c.return_id, c.order_line_id, guard.verified.map((u) => u.id));
    if (refund.capped) {
      ctx.exceptions.raise({
        type: 'REFUND_AMOUNT_MISMATCH',
        subjectKey: `${c.return_id}:${c.order_line_id}`,
        returnId: c.return_id,
        orderLineId: c.order_line_id,
        cause: refund.capped,
      });
    }
    if (!refund.payload) continue;
    ctx.intents.plan<RefundPayload>({
      kind: 'mirakl.refund',
      key: refundKey(ctx, c.return_id, c.order_line_id, refund.payload.units),
      subject: c.return_id,
      payload: refund.payload,
      mappingVersion: mappings.versions.reasonCodes,
    });
  }
}

/**
 * A refund intent's key names the real-world effect: the line's first refund is `refund:<return>:<line>` (as it always
 * was), and a later one for units verified afterwards is keyed by those units, so neither can be planned twice.
 */
export function refundKey(ctx: DomainContext, returnId: string, orderLineId: string, units: readonly string[]): string {
  const first = `refund:${returnId}:${orderLineId}`;
  return ctx.intents.findByKey(first) ? `${first}:${[...units].sort().join(',')}` : first;
}

/** Every refund intent of a return line, oldest first. */
export function refundIntentsOf(ctx: DomainContext, returnId: string, orderLineId: string): Intent<RefundPayload>[] {
  return ctx.intents.bySubject<RefundPayload>(returnId).filter((i) => i.kind === 'mirakl.refund' && i.payload.order_line_id === orderLineId);
}

/**
 * The OR28 line for refunding these units of a return line: their price and tax, the shipping when the policy says
 * so, never more than Mirakl still holds refundable on the line. Units another refund intent of the line already
 * covers (whatever its state: a failed one is retried, never replaced) are left out, and refunds of ours not yet in
 * Mirakl's ledger count as spent, so no two paths (the engine, "refund now", "refund the difference") can refund the
 * same unit or the same money twice. `capped` explains a cut; no payload when nothing is left to refund (or the line
 * or its reason mapping is unknown).
 */
export function refundFor(ctx: DomainContext, returnId: string, orderLineId: string, requestedUnits: string[]): { payload: RefundPayload | null; capped: string | null } {
  const mappings = ctx.mappings();
  const line = ctx.store.orderLine(orderLineId);
  const returnLine = ctx.store.returnLines(returnId).find((l) => l.orderLineId === orderLineId);
  const mapping = returnLine ? mappings.reasonCodes.reasons.find((r) => r.mirakl === returnLine.reasonCode) : undefined;
  if (!line || !returnLine || !mapping) return { payload: null, capped: null };
  const ours = refundIntentsOfLine(ctx, line.orderLineId).map((i) => ({
    payload: i.payload,
    state: i.state,
    refund_id: (i.outcome as { refundId?: string } | null)?.refundId ?? null,
  }));
  const covered = new Set(ours.flatMap((i) => i.payload.units));
  const unitIds = requestedUnits.filter((u) => !covered.has(u));
  const n = unitIds.length;
  if (n === 0) return { payload: null, capped: null };
  const currency = ctx.repo.orderCurrency(line.orderId) ?? '';
  const ledger = ctx.store.refundsOfLine(line.orderLineId);
  const inLedger = new Set(ledger.map((r) => r.id));
  // Ours not in Mirakl's ledger yet (planned, sending, uncertain, to be retried) count as spent.
  const onItsWay = ours.filter((i) => !(i.state === 'confirmed' && i.refund_id !== null && inLedger.has(i.refund_id))).map((i) => i.payload);
  const spent = (pick: (r: { amount: number; shipping: number; tax: number; shippingTax: number }) => number) =>
    ledger.reduce((s, r) => s + pick({ amount: r.amount_minor, shipping: r.shipping_minor, tax: r.tax_minor, shippingTax: r.shipping_tax_minor }), 0) +
    onItsWay.reduce((s, p) => s + pick({ amount: p.amountMinor, shipping: p.shippingMinor ?? 0, tax: p.taxMinor ?? 0, shippingTax: p.shippingTaxMinor ?? 0 }), 0);

  // The units' share of the line's price and of its tax, rounded on the running total (units before + these, minus
  // units before) so that refunds of one unit at a time never add up to more than the line has.
  // The same running total for the price: in a TAX_EXCLUDED shop the net unit price is rounded per unit while the
  // line's net price is rounded once, so n unit prices can be a cent off the line's share — never refund beyond it.
  const before = covered.size;
  const shareUpTo = (whole: number, units: number) => Math.round((whole * Math.min(units, line.quantity)) / line.quantity);
  let amountMinor = shareUpTo(line.priceMinor, before + n) - shareUpTo(line.priceMinor, before);
  let taxMinor = shareUpTo(line.taxMinor, before + n) - shareUpTo(line.taxMinor, before);
  const remaining = line.priceMinor - spent((r) => r.amount);
  let capped: string | null = null;
  if (amountMinor > remaining) {
    const alreadyRefunded = ledger.reduce((s, r) => s + r.amount_minor, 0);
    const inFlight = onItsWay.reduce((s, p) => s + p.amountMinor, 0);
    capped = `${n} unit(s) are worth ${(amountMinor / 100).toFixed(2)} but only ${(Math.max(0, remaining) / 100).toFixed(2)} of the line is still refundable in Mirakl (${(alreadyRefunded / 100).toFixed(2)} already refunded${inFlight ? `, ${(inFlight / 100).toFixed(2)} on its way` : ''}).`;
    amountMinor = Math.max(0, remaining);
    // The tax follows the amount actually refunded.
    taxMinor = line.priceMinor > 0 ? Math.round((line.taxMinor * amountMinor) / line.priceMinor) : 0;
  }
  // Never more tax than the line still has, whoever refunded the rest.
  taxMinor = Math.max(0, Math.min(taxMinor, line.taxMinor - spent((r) => r.tax)));
  if (amountMinor === 0) return { payload: null, capped };

  // Shipping is refunded once, when every unit of the line has come back (policy), and only what the line's shipping
  // still has refundable: a goodwill shipping refund made in the back office is never paid a second time.
  const isLineBack = mappings.policy.refunds.shipping === 'whenLineFullyReturned' && before + n >= line.quantity;
  const shippingMinor = isLineBack ? Math.max(0, Math.min(line.shippingMinor, line.shippingMinor - spent((r) => r.shipping))) : 0;
  const shippingTaxMinor =
    shippingMinor > 0 && line.shippingMinor > 0
      ? Math.max(0, Math.min(Math.round((line.shippingTaxMinor * shippingMinor) / line.shippingMinor), line.shippingTaxMinor - spent((r) => r.shippingTax)))
      : 0;
  return {
    capped,
    payload: {
      returnId,
      order_line_id: line.orderLineId,
      units: unitIds,
      amountMinor,
      shippingMinor,
      taxMinor,
      shippingTaxMinor,
      currency,
      reason_code: mapping.refund,
      taxMode: line.taxMode,
      taxes: shareOf(line.taxes, taxMinor),
      shippingTaxes: shareOf(line.shippingTaxes, shippingTaxMinor),
      knownRefundIds: ledger.map((r) => r.id),
    },
  };
}

/**
 * Splits a refund's tax over the line's tax codes in proportion to each (largest remainder, so the parts sum to
 * exactly `totalMinor`). A line without tax lines keeps one line "VAT", as the app always sent.
 */
export function shareOf(lineTaxes: readonly TaxLine[], totalMinor: number): TaxLine[] {
  const whole = lineTaxes.reduce((s, t) => s + t.amountMinor, 0);
  if (lineTaxes.length === 0 || whole === 0) return totalMinor > 0 ? [{ code: 'VAT', amountMinor: totalMinor }] : [];
  const parts = lineTaxes.map((t) => {
    const exact = (t.amountMinor * totalMinor) / whole;
    return { code: t.code, amountMinor: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = totalMinor - parts.reduce((s, p) => s + p.amountMinor, 0);
  for (const p of [...parts].sort((a, b) => b.rest - a.rest)) {
    if (left <= 0) break;
    p.amountMinor++;
    left--;
  }
  return parts.map(({ code, amountMinor }) => ({ code, amountMinor }));
}

const modeOf = (p: RefundPayload): OrderTaxMode => p.taxMode ?? 'TAX_INCLUDED';

/** What the customer gets back for the goods, whatever the mode: TAX_EXCLUDED amounts leave the tax out. */
export const grossMinor = (amountMinor: number, taxMinor: number, mode: OrderTaxMode) => (mode === 'TAX_EXCLUDED' ? amountMinor + taxMinor : amountMinor);

/** Refunds sent together in one OR28 call (one per order line: Mirakl answers per line). */
const batchSize = 20;

export async function sendRefunds(ctx: EngineContext): Promise<void> {
  const due = ctx.intents.due<RefundPayload>('mirakl.refund', 200);
  // A refund that has already failed once goes alone, so one bad line cannot hold others back twice. One call has
  // one order_tax_mode, so refunds planned in different modes never share a call.
  const solo = due.filter((i) => i.attempts > 0);
  const batched = due.filter((i) => i.attempts === 0).sort((a, b) => modeOf(a.payload).localeCompare(modeOf(b.payload)));
  const batches: (typeof due)[] = solo.map((i) => [i]);
  for (let i = 0; i < batched.length; ) {
    const lines = new Set<string>();
    const batch: typeof due = [];
    while (i < batched.length && batch.length < batchSize) {
      const intent = batched[i] as (typeof due)[number];
      if (lines.has(intent.payload.order_line_id) || (batch[0] && modeOf(batch[0].payload) !== modeOf(intent.payload))) break;
      lines.add(intent.payload.order_line_id);
      batch.push(intent);
      i++;
    }
    batches.push(batch);
  }
  for (const batch of batches) await sendBatch(ctx, batch);
}

/**
 * The guard again, at the moment of sending (nothing can change between this check and the call: both happen in
 * one command of the queue, with no await between them): the units must still be verified (or overridden by a
 * person), the reason still mapped, and the amount still within what Mirakl's ledger leaves refundable on the line,
 * counting every refund it shows and every other refund of ours on its way. Returns why not, or null.
 */
export function whyNotSendNow(ctx: DomainContext, intent: Intent<RefundPayload>): string | null {
  const p = intent.payload;
  const line = ctx.store.orderLine(p.order_line_id);
  if (!line) return `order line ${p.order_line_id} is no longer known`;
  if (!p.override) {
    const arrived = new Set(ctx.physical.units(p.returnId).filter(isArrived).map((u) => u.id));
    const gone = p.units.filter((u) => !arrived.has(u));
    if (gone.length > 0) return `${gone.length} of its unit(s) are no longer verified by ReBound (${gone.join(', ')})`;
  }
  const ledger = ctx.store.refundsOfLine(p.order_line_id);
  const inLedger = new Set(ledger.map((r) => r.id));
  const others = refundIntentsOfLine(ctx, p.order_line_id).filter(
    (i) => i.id !== intent.id && (i.state === 'sending' || i.state === 'uncertain' || (i.state === 'confirmed' && !inLedger.has(String((i.outcome as { refundId?: string } | null)?.refundId)))),
  );
  const refunded = ledger.reduce((s, r) => s + r.amount_minor, 0);
  const onItsWay = others.reduce((s, i) => s + i.payload.amountMinor, 0);
  if (p.amountMinor > line.priceMinor - refunded - onItsWay) {
    return `${(refunded / 100).toFixed(2)} of the line's ${(line.priceMinor / 100).toFixed(2)} is already refunded in Mirakl${onItsWay ? ` and ${(onItsWay / 100).toFixed(2)} more is on its way` : ''}, so ${(p.amountMinor / 100).toFixed(2)} more would refund it beyond what was paid`;
  }
  return null;
}

/** Every refund intent of an order line, whatever its return. */
function refundIntentsOfLine(ctx: DomainContext, orderLineId: string): Intent<RefundPayload>[] {
  return ctx.repo
    .refundIntentIdsOfLine(orderLineId)
    .map((id) => ctx.intents.get<RefundPayload>(id))
    .filter((i): i is Intent<RefundPayload> => i !== undefined);
}

async function sendBatch(ctx: EngineContext, candidates: Intent<RefundPayload>[]): Promise<void> {
  const batch: Intent<RefundPayload>[] = [];
  for (const intent of candidates) {
    const why = whyNotSendNow(ctx, intent);
    if (why === null) {
      batch.push(intent);
      continue;
    }
    // Held back for a person: never sent by itself again (a retry re-reads Mirakl's ledger first).
    ctx.transaction(() => {
      ctx.intents.fail(intent.id, `not sent: ${why}`, null, intent.state);
      ctx.exceptions.raise({
        type: 'REFUND_STALLED',
        subjectKey: `${intent.payload.returnId}:${intent.payload.order_line_id}`,
        returnId: intent.payload.returnId,
        orderLineId: intent.payload.order_line_id,
        cause: `The refund of ${(intent.payload.amountMinor / 100).toFixed(2)} ${intent.payload.currency} was not sent: ${why}.`,
      });
    });
  }
  if (batch.length === 0) return;
  const verdict = await sendIntents(ctx, batch, {
    point: 'or28',
    isUnsafeWrite: true,
    call: () =>
      ctx.mirakl.refund(
        batch.map(({ payload: p }) => ({
          order_line_id: p.order_line_id,
          amount: p.amountMinor / 100,
          shipping_amount: p.shippingMinor / 100,
          reason_code: p.reason_code,
          quantity: p.units.length,
          currency_iso_code: p.currency,
          taxes: (p.taxes ?? shareOf([], p.taxMinor)).map((t) => ({ code: t.code, amount: t.amountMinor / 100 })),
          shipping_taxes: p.shippingMinor > 0 ? (p.shippingTaxes ?? shareOf([], p.shippingTaxMinor)).map((t) => ({ code: t.code, amount: t.amountMinor / 100 })) : [],
        })),
        modeOf((batch[0] as Intent<RefundPayload>).payload),
      ),
    onResult: (result) => {
      ctx.transaction(() => {
        for (const intent of batch) {
          const refund = result.refunds.find((r) => r.order_line_id === intent.payload.order_line_id);
          if (refund) ctx.intents.confirm(intent.id, { refundId: refund.refund_id, amountMinor: intent.payload.amountMinor, via: 'OR28' });
          // Missing from a 200 answer: whether Mirakl made it is unknown, so it is probed like a lost answer.
          else ctx.intents.markUncertain(intent.id, 'OR28 answered without this refund');
        }
      });
    },
  });
  if (verdict?.kind !== 'rejected') return;
  if (batch.length > 1) {
    // Mirakl does not say whether one bad refund rejects the whole call or only itself (specs NOTES §6): treat
    // every refund of the call as uncertain, so each is probed in OR11 before it is ever sent again (alone).
    ctx.transaction(() => {
      for (const intent of batch) {
        if (ctx.intents.get(intent.id)?.state === 'failed') ctx.intents.recheck(intent.id, `refused in a call of ${batch.length}: whether this one was made is probed first`);
      }
    });
    return;
  }
  const p = (batch[0] as Intent<RefundPayload>).payload;
  ctx.exceptions.raise({
    type: 'REFUND_STALLED',
    subjectKey: `${p.returnId}:${p.order_line_id}`,
    returnId: p.returnId,
    orderLineId: p.order_line_id,
    cause: `Mirakl refused the refund of ${(p.amountMinor / 100).toFixed(2)} ${p.currency}: ${verdict.message}`,
  });
}

const probeSettleMs = 5 * 60_000;
/** For intents planned without knownRefundIds: how far before the plan (on our clock) a refund may be dated and still be ours. */
const legacyProbeWindowMs = 24 * 60 * 60_000;

/**
 * An uncertain refund is settled by Mirakl's ledger, never by guessing: once OR11 has been read after the call,
 * a refund on that line with the intended amount that no other intent claims is ours; if there is none, the
 * call was not applied and sending it again is safe.
 */
export function probeUncertainRefunds(ctx: EngineContext): void {
  for (const intent of ctx.intents.inState<RefundPayload>('mirakl.refund', 'uncertain', 200)) probeRefund(ctx, intent);
}

/**
 * Is this refund in Mirakl's ledger the one the intent asked for? Ours is recognised by its line (the caller's
 * query), by being new since we planned (not among knownRefundIds), by its quantity when the ledger gives one, and by what it gives back in all
 * — compared in one mode, since the ledger may have been read in another mode than the refund was sent in, and
 * Mirakl may recompute a proportional tax to within a minor unit per tax line. Never by an exact amount alone.
 */
export function isSameRefund(
  r: { amount_minor: number; tax_minor: number; tax_mode: OrderTaxMode; quantity: number },
  p: RefundPayload,
): boolean {
  // OR28 calls the quantity informative, and Mirakl's own OR11 example lists a refund of quantity 0: a quantity the
  // ledger does give must match, one it leaves at 0 says nothing.
  if (r.quantity > 0 && r.quantity !== p.units.length) return false;
  const theirs = grossMinor(r.amount_minor, r.tax_minor, r.tax_mode);
  const ours = grossMinor(p.amountMinor, p.taxMinor, modeOf(p));
  const slack = 1 + (p.taxes?.length ?? 1);
  return Math.abs(theirs - ours) <= slack;
}

/** Settles one uncertain refund from the ledger already read, if it was read late enough after the call. */
export function probeRefund(ctx: DomainContext, intent: Intent<RefundPayload>): 'ours' | 'not_applied' | 'ledger_not_read_yet' {
  const p = intent.payload;
  const orderId = ctx.store.orderLine(p.order_line_id)?.orderId;
  const lastRead = orderId ? ctx.repo.orderReadAt(orderId) : null;
  // The ledger must have been read well after the call: a refund Mirakl applied may take a moment to show. The read
  // is always after the call (migration 0007 forgets the order's last read when a refund becomes uncertain); the
  // settling time is on our clock.
  if (lastRead === null || lastRead < Date.parse(intent.updatedAt) + probeSettleMs) return 'ledger_not_read_yet';
  const claimed = ctx.repo.claimedRefundIds(p.order_line_id);
  // Which refunds could be ours is decided by what we had already seen when we planned, never by comparing our
  // clock with Mirakl's: ours may be hours off, and a refund wrongly judged "not applied" would be sent twice.
  const known = new Set(p.knownRefundIds ?? []);
  const since = p.knownRefundIds ? '' : isoAt(Date.parse(intent.createdAt) - legacyProbeWindowMs);
  const match = ctx.store
    .refundsOfLine(p.order_line_id)
    .find((r) => !claimed.has(r.id) && !known.has(r.id) && isSameRefund(r, p) && r.date_created.replace('Z', '') >= since.replace(/\.\d{3}Z$/, ''));
  if (match) {
    ctx.intents.confirmUncertain(intent.id, { refundId: match.id, amountMinor: p.amountMinor, via: 'probe' });
    ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', `intent:${intent.id}`, `OR11 shows refund ${match.id}`);
    return 'ours';
  }
  ctx.intents.retryAfterProbe(intent.id, 'OR11 shows no such refund: the call was not applied');
  ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', `intent:${intent.id}`, 'OR11 shows the call was not applied');
  return 'not_applied';
}
