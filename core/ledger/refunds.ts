import type { OrderTaxMode } from '../mirakl/schemas';
import type { TaxLine } from '../store/mirakl-repo';
import type { DomainContext } from './domain';
import type { Intent } from './intents';
import { isArrived, type UnitRow } from './units';

// A refund (OR28) is sent only for units whose receipt ReBound verified, never twice for the same unit or the same
// money, and an intent whose outcome is unknown is probed in Mirakl's ledger (OR11 refunds[]) before it may ever be
// sent again (Mirakl has no idempotency key). Every path that plans, checks or settles a refund — the engine,
// "refund now", "refund the difference", a person's "mark failed" — goes through these functions.

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
  // Mirakl having closed the return leaves nothing to tell it first (a database put back from before our RT26, whose
  // call Mirakl now refuses on a closed return, would otherwise hold the refund for ever).
  const compliancePushed = ctx.intents.findByKey(`rt26:${returnId}`)?.state === 'confirmed' || ret?.state === 'CLOSED';
  const mapping = reasonMappingOf(ctx, line);
  const conditions: GuardCondition[] = [
    { name: 'order line known', holds: Boolean(orderLine && line), detail: orderLine ? `${orderLine.productTitle}, ${orderLine.quantity} sold` : 'OR11 has not returned this line' },
    {
      name: 'verified receipt',
      holds: verified.length > 0,
      detail: `${verified.length} of ${units.length} unit(s) ${policy.refunds.trigger === 'inspected' ? 'registered and passed inspection' : 'registered by ReBound with the right SKU'}`,
    },
    { name: 'Mirakl told of the receipt', holds: receivePushed, detail: receivePushed ? 'RT25 confirmed' : 'waiting for RT25' },
    ...(policy.refunds.trigger === 'inspected'
      ? [{ name: 'Mirakl told of the inspection', holds: compliancePushed, detail: compliancePushed ? (ret?.state === 'CLOSED' ? 'Mirakl closed the return' : 'RT26 confirmed') : 'waiting for RT26' }]
      : []),
    { name: 'refund reason mapped', holds: Boolean(mapping), detail: mapping ? `${line?.reasonCode} → ${mapping.refund}` : `no mapping for ${line?.reasonCode}` },
  ];
  return { allowed: conditions.every((c) => c.holds), conditions, verified, units, orderLine, mapping };
}

/** The mapping that gives a return line's refund reason (RE01, type REFUND); undefined when its reason is not mapped. */
function reasonMappingOf(ctx: DomainContext, returnLine: { reasonCode: string } | undefined) {
  return returnLine ? ctx.mappings().reasonCodes.reasons.find((r) => r.mirakl === returnLine.reasonCode) : undefined;
}

function isVerified(u: UnitRow, trigger: 'registered' | 'inspected'): boolean {
  if (!isArrived(u)) return false;
  return trigger === 'registered' || (u.stage === 'graded' && u.grade !== 'D_DAMAGED');
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
  return ctx.intents.bySubject<RefundPayload>(returnId, 'mirakl.refund').filter((i) => i.payload.order_line_id === orderLineId);
}

/**
 * The OR28 line for refunding these units of a return line: their price and tax, the shipping when the policy says
 * so, never more than Mirakl still holds refundable on the line. Units another refund intent of the line already
 * covers (whatever its state: a failed one is retried, never replaced) are left out, and refunds of ours not yet in
 * Mirakl's ledger count as spent, so no two paths (the engine, "refund now", "refund the difference") can refund the
 * same unit or the same money twice. `capped` explains a cut; no payload when nothing is left to refund (or the line
 * or its reason mapping is unknown).
 */
export function refundFor(
  ctx: DomainContext,
  returnId: string,
  orderLineId: string,
  requestedUnits: string[],
  options: { isOverride?: boolean } = {},
): { payload: RefundPayload | null; capped: string | null; madeAs?: string } {
  const mappings = ctx.mappings();
  const line = ctx.store.orderLine(orderLineId);
  const returnLine = ctx.store.returnLines(returnId).find((l) => l.orderLineId === orderLineId);
  const mapping = reasonMappingOf(ctx, returnLine);
  if (!line || !returnLine || !mapping) return { payload: null, capped: null };
  const ours = refundIntentsOfLine(ctx, line.orderLineId).map((i) => ({
    payload: i.payload,
    state: i.state,
    refund_id: (i.outcome as { refundId?: string } | null)?.refundId ?? null,
  }));
  const covered = new Set(ours.flatMap((i) => i.payload.units));
  let unitIds = requestedUnits.filter((u) => !covered.has(u));
  let n = unitIds.length;
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
  const shareUpTo = (whole: number, units: number) => unitsShare(whole, units, line.quantity);
  let amountMinor = shareUpTo(line.priceMinor, before + n) - shareUpTo(line.priceMinor, before);
  let taxMinor = shareUpTo(line.taxMinor, before + n) - shareUpTo(line.taxMinor, before);
  // Already made: a refund in Mirakl's ledger that no intent of ours claims, dated after the return was opened, for
  // exactly these units' worth — made by an earlier copy of this database (put back from a backup since) or by anyone
  // else for these very units. It is theirs, so it is recorded as this refund (madeAs), never made a second time.
  // Only once every refund of ours on the line is settled: one whose answer was lost may be that very refund.
  // Units refunded one arrival at a time before, and seen arriving together now (a database put back from before both),
  // match one such refund each: the first k units are tried, most first, and those are this refund; the rest the next.
  const isSettled = !ours.some((i) => i.state === 'sending' || i.state === 'uncertain');
  let madeAs: string | undefined;
  for (let k = n; isSettled && k >= 1 && madeAs === undefined; k--) {
    const amountK = shareUpTo(line.priceMinor, before + k) - shareUpTo(line.priceMinor, before);
    const taxK = shareUpTo(line.taxMinor, before + k) - shareUpTo(line.taxMinor, before);
    const unitsK = [...unitIds].sort().slice(0, k);
    madeAs = alreadyMade(ctx, returnId, line.orderLineId, ledger, { units: unitsK, amountMinor: amountK, taxMinor: taxK, taxMode: line.taxMode, taxes: shareOf(line.taxes, taxK) });
    if (madeAs !== undefined && k < n) {
      unitIds = unitsK;
      n = k;
      amountMinor = amountK;
      taxMinor = taxK;
    }
  }
  const taken = spent((r) => r.amount) - (madeAs ? (ledger.find((r) => r.id === madeAs)?.amount_minor ?? 0) : 0);
  const remaining = line.priceMinor - taken;
  // Nor, without a person's override, beyond the units ReBound verified of the line: every refund of the line counts
  // against them, whoever made it and whatever for (what REFUND_EXCEEDS_RECEIPT would say of it once made).
  const receipt = options.isOverride ? null : receiptOfLine(ctx, line);
  const room = receipt === null ? remaining : Math.min(remaining, receipt.worth - taken);
  let capped: string | null = null;
  if (amountMinor > room) {
    const alreadyRefunded = ledger.reduce((s, r) => s + r.amount_minor, 0);
    const inFlight = onItsWay.reduce((s, p) => s + p.amountMinor, 0);
    const refundedText = `${(alreadyRefunded / 100).toFixed(2)} already refunded${inFlight ? `, ${(inFlight / 100).toFixed(2)} on its way` : ''}`;
    capped =
      receipt !== null && room < remaining
        ? `${n} unit(s) are worth ${(amountMinor / 100).toFixed(2)} but the line's ${receipt.verified} verified unit(s) are worth ${(receipt.worth / 100).toFixed(2)} and its refunds in Mirakl, anyone's, take up ${(taken / 100).toFixed(2)} of that (${refundedText}): only ${(Math.max(0, room) / 100).toFixed(2)} more is refunded without a receipt for more units.`
        : `${n} unit(s) are worth ${(amountMinor / 100).toFixed(2)} but only ${(Math.max(0, remaining) / 100).toFixed(2)} of the line is still refundable in Mirakl (${refundedText}).`;
    amountMinor = Math.max(0, room);
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
    ...(madeAs ? { madeAs } : {}),
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

/** `units` of a line's `quantity` units' share of `whole` (its price or its tax), rounded as refunds add up. */
function unitsShare(whole: number, units: number, quantity: number): number {
  return Math.round((whole * Math.min(units, quantity)) / quantity);
}

/**
 * How many units of an order line count as received, on any of its returns, and what they are worth of its price: those
 * ReBound verified, and those a person refunded by override (they answered for them, whatever became of them since).
 */
function receiptOfLine(ctx: DomainContext, line: { orderLineId: string; priceMinor: number; quantity: number }): { verified: number; worth: number } {
  const received = new Set(ctx.physical.unitsOfLine(line.orderLineId).filter(isArrived).map((u) => u.id));
  for (const i of refundIntentsOfLine(ctx, line.orderLineId)) if (i.payload.override) for (const u of i.payload.units) received.add(u);
  return { verified: received.size, worth: unitsShare(line.priceMinor, received.size, line.quantity) };
}

/**
 * Plans a refund refundFor worked out, under `key` — the one way every path (the engine, "refund now", "refund the
 * difference") records it. One Mirakl's ledger already holds (`madeAs`) is recorded as that refund at once (via
 * 'ledger') and never sent. Returns the intent (an existing one for the key, as planned before, is returned as it is).
 */
export function planRefundIntent(ctx: DomainContext, key: string, payload: RefundPayload, madeAs: string | undefined): Intent<RefundPayload> {
  const intent = ctx.intents.plan<RefundPayload>({ kind: 'mirakl.refund', key, subject: payload.returnId, payload, mappingVersion: ctx.mappings().versions.reasonCodes });
  if (!madeAs || intent.state !== 'planned') return intent;
  ctx.intents.confirmObserved(intent.id, { refundId: madeAs, amountMinor: payload.amountMinor, via: 'ledger' });
  ctx.log.warn('refund found already made in Mirakl: recorded as this one, not sent', { returnId: payload.returnId, orderLineId: payload.order_line_id, refundId: madeAs });
  return ctx.intents.get<RefundPayload>(intent.id) ?? intent;
}

/**
 * A refund someone else made, since this one was planned, for exactly its units: new in the ledger since the plan (not
 * among knownRefundIds), unclaimed, dated no earlier than the return, and the same refund by isSameRefund. It is
 * recorded as this one, never sent again (the other installation's FOREIGN_WRITE still tells a person). Undefined when
 * none, or for an intent planned before knownRefundIds existed (what was new since cannot be told), or while another
 * refund of ours on the line is sending or uncertain: a ledger refund carries no unit, so one of the same worth may be
 * that very refund, until its probe says (as refundFor and the foreign-refund detector wait). Taken here, its probe
 * would find it claimed and send it again (chaos seed 149: a unit's share, tax and all, paid twice).
 */
export function madeElsewhereSincePlanned(ctx: DomainContext, intent: Intent<RefundPayload>): string | undefined {
  const p = intent.payload;
  if (!p.knownRefundIds) return undefined;
  if (refundIntentsOfLine(ctx, p.order_line_id).some((i) => i.id !== intent.id && (i.state === 'sending' || i.state === 'uncertain'))) return undefined;
  const known = new Set(p.knownRefundIds);
  return alreadyMade(ctx, p.returnId, p.order_line_id, ctx.store.refundsOfLine(p.order_line_id).filter((r) => !known.has(r.id)), p);
}

/**
 * The refund in the line's ledger that is these units' refund made already (see refundFor): unclaimed by any intent of
 * ours, dated no earlier than the return (Mirakl's clock both), and the same refund by isSameRefund. Undefined when none.
 */
function alreadyMade(
  ctx: DomainContext,
  returnId: string,
  orderLineId: string,
  ledger: { id: string; amount_minor: number; tax_minor: number; tax_mode: OrderTaxMode; quantity: number; date_created: string }[],
  p: Pick<RefundPayload, 'units' | 'amountMinor' | 'taxMinor' | 'taxMode' | 'taxes'>,
): string | undefined {
  const opened = ctx.store.getReturn(returnId)?.dateCreated;
  if (!opened) return undefined;
  const claimed = ctx.repo.claimedRefundIds(orderLineId);
  const asPayload = { ...p, returnId, order_line_id: orderLineId, shippingMinor: 0, shippingTaxMinor: 0, currency: '', reason_code: '' };
  return ledger.find((r) => !claimed.has(r.id) && Date.parse(r.date_created) >= Date.parse(opened) && isSameRefund(r, asPayload))?.id;
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

export const modeOf = (p: RefundPayload): OrderTaxMode => p.taxMode ?? 'TAX_INCLUDED';

/** What the customer gets back for the goods, whatever the mode: TAX_EXCLUDED amounts leave the tax out. */
export const grossMinor = (amountMinor: number, taxMinor: number, mode: OrderTaxMode) => (mode === 'TAX_EXCLUDED' ? amountMinor + taxMinor : amountMinor);

/**
 * The guard again, at the moment of sending (nothing can change between this check and the call: both happen in
 * one command of the queue, with no await between them): the units must still be verified (or overridden by a
 * person), the reason still mapped, and the amount still within what Mirakl's ledger leaves refundable on the line,
 * counting every refund it shows and every other refund of ours on its way. Returns why not, or null. `isWaiting`: it
 * would fit but for refunds of ours on their way (sending, or their answer lost): they may be the very money the ledger
 * shows, which their probe settles, so the refund waits for that rather than for a person.
 */
export function whyNotSendNow(ctx: DomainContext, intent: Intent<RefundPayload>): { reason: string; isWaiting: boolean } | null {
  const p = intent.payload;
  const line = ctx.store.orderLine(p.order_line_id);
  if (!line) return { reason: `order line ${p.order_line_id} is no longer known`, isWaiting: false };
  if (!p.override) {
    const arrived = new Set(ctx.physical.units(p.returnId).filter(isArrived).map((u) => u.id));
    const gone = p.units.filter((u) => !arrived.has(u));
    if (gone.length > 0) return { reason: `${gone.length} of its unit(s) are no longer verified by ReBound (${gone.join(', ')})`, isWaiting: false };
  }
  if (!isLedgerReadSinceRestore(ctx, p.order_line_id)) {
    return { reason: "its order's refunds in Mirakl have not been read since this database was restored or copied in", isWaiting: true };
  }
  const ledger = ctx.store.refundsOfLine(p.order_line_id);
  const inLedger = new Set(ledger.map((r) => r.id));
  const others = refundIntentsOfLine(ctx, p.order_line_id).filter(
    (i) => i.id !== intent.id && (i.state === 'sending' || i.state === 'uncertain' || (i.state === 'confirmed' && !inLedger.has(String((i.outcome as { refundId?: string } | null)?.refundId)))),
  );
  const refunded = ledger.reduce((s, r) => s + r.amount_minor, 0);
  const onItsWay = others.reduce((s, i) => s + i.payload.amountMinor, 0);
  const onItsWayText = onItsWay ? ` and ${(onItsWay / 100).toFixed(2)} more is on its way` : '';
  if (p.amountMinor > line.priceMinor - refunded - onItsWay) {
    return {
      reason: `${(refunded / 100).toFixed(2)} of the line's ${(line.priceMinor / 100).toFixed(2)} is already refunded in Mirakl${onItsWayText}, so ${(p.amountMinor / 100).toFixed(2)} more would refund it beyond what was paid`,
      isWaiting: p.amountMinor <= line.priceMinor - refunded,
    };
  }
  // Nor beyond the units ReBound verified of the line, whoever refunded the rest (refundFor's cap, checked again now:
  // someone may have refunded the line since this was planned). Only a person's override goes beyond them.
  const receipt = p.override ? null : receiptOfLine(ctx, line);
  if (receipt !== null && p.amountMinor > receipt.worth - refunded - onItsWay) {
    return {
      reason: `${(refunded / 100).toFixed(2)} of the line is already refunded in Mirakl, by anyone${onItsWayText}, against ${receipt.verified} verified unit(s) worth ${(receipt.worth / 100).toFixed(2)}, so ${(p.amountMinor / 100).toFixed(2)} more would refund units ReBound has not verified`,
      isWaiting: p.amountMinor <= receipt.worth - refunded,
    };
  }
  return null;
}

/**
 * Whether our copy of this line's refunds in Mirakl was read since the latest restore (always, when the database was
 * never restored): one read before may lack refunds made after the backup, and nothing is refunded on it.
 */
export function isLedgerReadSinceRestore(ctx: DomainContext, orderLineId: string): boolean {
  const restoredAt = ctx.restore.lastStartedAt();
  if (restoredAt === null) return true;
  const orderId = ctx.store.orderLine(orderLineId)?.orderId;
  const lastRead = orderId ? ctx.repo.orderReadAt(orderId) : null;
  return lastRead !== null && lastRead >= restoredAt;
}

/**
 * The refund reason a failed refund is sent with when a person retries it: the one the mappings in force now give its
 * return line (null when none does: then it cannot be retried until the reason is mapped). A reason fixed in the
 * mappings after Mirakl refused the old one is the one sent; the units and the money stay what the intent claimed.
 */
export function refundReasonNow(ctx: DomainContext, intent: Intent<RefundPayload>): { code: string; mappingVersion: string } | null {
  const mapping = reasonMappingOf(ctx, ctx.store.returnLines(intent.payload.returnId).find((l) => l.orderLineId === intent.payload.order_line_id));
  return mapping ? { code: mapping.refund, mappingVersion: ctx.mappings().versions.reasonCodes } : null;
}

/**
 * Plans a failed refund again from the mappings in force now (its refund reason), before it is retried. Never an
 * uncertain one: that may have gone through and is probed, never re-planned (intents.replan refuses it too). Returns
 * the reason before and after.
 */
export function replanFailedRefund(ctx: DomainContext, intent: Intent<RefundPayload>): { from: string; to: string } {
  const now = refundReasonNow(ctx, intent);
  if (!now) throw new Error(`refund intent ${intent.id}: its return line has no refund reason mapped`);
  const from = intent.payload.reason_code;
  ctx.intents.replan(intent.id, { ...intent.payload, reason_code: now.code }, now.mappingVersion);
  return { from, to: now.code };
}

/** Every refund intent of an order line, whatever its return. */
function refundIntentsOfLine(ctx: DomainContext, orderLineId: string): Intent<RefundPayload>[] {
  return ctx.repo
    .refundIntentIdsOfLine(orderLineId)
    .map((id) => ctx.intents.get<RefundPayload>(id))
    .filter((i): i is Intent<RefundPayload> => i !== undefined);
}

const probeSettleMs = 5 * 60_000;
/** For intents planned without knownRefundIds: how far before the plan (on our clock) a refund may be dated and still be ours. */
const legacyProbeWindowMs = 24 * 60 * 60_000;

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

/**
 * Whether Mirakl's ledger of the refund's order has been read late enough after the call to settle it: a refund Mirakl
 * applied may take a moment to show. The read is always after the call (migration 0007 forgets the order's last read
 * when a refund becomes uncertain); the settling time is on our clock.
 */
export function isLedgerReadSinceCall(ctx: DomainContext, intent: Intent<RefundPayload>): boolean {
  const orderId = ctx.store.orderLine(intent.payload.order_line_id)?.orderId;
  const lastRead = orderId ? ctx.repo.orderReadAt(orderId) : null;
  return lastRead !== null && lastRead >= Date.parse(intent.updatedAt) + probeSettleMs;
}

/** Settles one uncertain refund from the ledger already read, if it was read late enough after the call. */
export function probeRefund(ctx: DomainContext, intent: Intent<RefundPayload>): 'ours' | 'not_applied' | 'ledger_not_read_yet' {
  const p = intent.payload;
  if (!isLedgerReadSinceCall(ctx, intent)) return 'ledger_not_read_yet';
  const claimed = ctx.repo.claimedRefundIds(p.order_line_id);
  // Which refunds could be ours is decided by what we had already seen when we planned, never by comparing our
  // clock with Mirakl's: ours may be hours off, and a refund wrongly judged "not applied" would be sent twice.
  const known = new Set(p.knownRefundIds ?? []);
  const since = p.knownRefundIds ? '' : new Date(Date.parse(intent.createdAt) - legacyProbeWindowMs).toISOString();
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
