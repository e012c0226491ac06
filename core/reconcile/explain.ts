import type { RefundGuard, RefundIntentView, ReturnSummary, ReturnTimeline, TimelineEntry, TimelineSource } from '../contract/explain';
import { AppError } from '../errors';
import { exceptionTypes } from '../exceptions/catalogue';
import { refundStateStage } from '../contract/money';
import type { DomainContext } from '../ledger/domain';
import { evaluateRefundGuard, type RefundPayload } from '../ledger/refunds';
import type { Intent } from '../ledger/intents';
import type { StoredOrderLine } from '../store/mirakl-repo';

// The explainer only reads: it never plans, sends or resolves anything. A return's timeline is every fact the store
// keeps about it, from either system, the bridge and people, in time order; a refund's guard is the engine's own
// evaluateRefundGuard, so what it says is exactly why the engine did or did not plan that refund.

const miraklStateTitles: Record<string, string> = {
  WAITING_ACCEPTANCE: 'Return waiting for acceptance on Mirakl',
  IN_PROGRESS: 'Return accepted on Mirakl',
  REFUSED: 'Return refused on Mirakl',
  RECEIVED: 'Mirakl shows the return received',
  NO_RECEPTION: 'Mirakl marked the return as never received',
  CLOSED: 'Return closed on Mirakl',
  CANCELED: 'Return cancelled on Mirakl',
};

const reboundStatusTitles: Record<string, string> = {
  CREATED: 'ReBound created the return order',
  LABEL_ISSUED: 'ReBound issued the return label',
  IN_CARRIER_NETWORK: 'Parcel is in the carrier network',
  AT_HUB: "Parcel arrived at ReBound's hub",
  ITEMS_REGISTERED: 'ReBound registered the items',
  PROCESSED: 'ReBound finished inspecting the items',
  DELIVERED_TO_CLIENT: 'ReBound sent the items on to the seller',
  EXPIRED: 'Return label expired without a carrier scan',
  CANCELLED: 'ReBound cancelled the return order',
};

const trackingTitles: Record<string, string> = {
  returnOrderCreated: 'ReBound created the return order',
  postalIncoming: 'Parcel entered the carrier network',
  hubArrival: "Parcel arrived at ReBound's hub",
  deliveredToClient: 'ReBound sent the items on to the seller',
  cancelled: 'ReBound cancelled the return order',
};

const sourceOrder: Record<TimelineSource, number> = { mirakl: 0, rebound: 1, bridge: 2, exception: 3, user: 4 };

const lookup = (table: Record<string, string>, key: string | null): string | undefined =>
  key !== null && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A timestamp from either system as UTC ISO (Mirakl sends offsets and whole seconds; we write milliseconds). */
function toIso(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at : new Date(ms).toISOString();
}

const sortable = (iso: string) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
};

export function formatMinor(minor: number, currency: string | null): string {
  if (currency) {
    try {
      return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(minor / 100);
    } catch {
      return `${(minor / 100).toFixed(2)} ${currency}`;
    }
  }
  return (minor / 100).toFixed(2);
}

function exceptionTitle(type: string): string {
  return Object.prototype.hasOwnProperty.call(exceptionTypes, type) ? exceptionTypes[type as keyof typeof exceptionTypes].title : type;
}

function requireReturn(ctx: DomainContext, returnId: string) {
  const ret = ctx.store.getReturn(returnId);
  if (!ret) throw new AppError('NOT_FOUND', `Return ${returnId} not found`);
  return ret;
}

interface IntentLabels {
  todo: string;
  done: string;
  /** The API call, for the technical tooltip only. */
  code: string;
}

function intentLabels(intent: Intent, productOf: (orderLineId: string) => string, currency: string | null): IntentLabels {
  switch (intent.kind) {
    case 'mirakl.accept':
      return { todo: 'accept the return on Mirakl', done: 'Return accepted on Mirakl', code: 'RT21' };
    case 'rebound.salesOrder':
      return { todo: 'send the order to ReBound', done: 'Order sent to ReBound', code: 'ReBound sales order' };
    case 'rebound.createReturn':
      return { todo: 'create the return in ReBound', done: 'Return created in ReBound', code: 'ReBound create return' };
    case 'mirakl.patch':
      return { todo: 'push the return label and tracking to Mirakl', done: 'Return label pushed to Mirakl (the customer can print it)', code: 'RT04' };
    case 'mirakl.receive':
      return { todo: 'tell Mirakl the return arrived at the hub', done: 'Told Mirakl the return arrived at the hub', code: 'RT25' };
    case 'mirakl.compliance':
      return { todo: 'tell Mirakl the inspection result', done: 'Told Mirakl the inspection result', code: 'RT26' };
    case 'mirakl.close':
      return { todo: 'close the return on Mirakl', done: 'Return closed on Mirakl', code: 'RT27' };
    case 'mirakl.refund': {
      const p = intent.payload as RefundPayload;
      const what = `${formatMinor(p.amountMinor, p.currency ?? currency)} for ${productOf(p.order_line_id)}`;
      return { todo: `refund ${what}`, done: `Refund of ${what} sent to Mirakl`, code: 'OR28' };
    }
    default:
      return { todo: words(intent.kind), done: `Done: ${words(intent.kind)}`, code: intent.kind };
  }
}

function intentOutcomeDetail(intent: Intent): string | null {
  const outcome = (intent.outcome ?? {}) as { refundId?: string; via?: string; observedState?: string };
  const parts: string[] = [];
  if (outcome.refundId) parts.push(`Mirakl refund ${outcome.refundId}`);
  if (outcome.via === 'probe') parts.push('confirmed by finding it in Mirakl (OR11) after the answer was lost');
  if (outcome.observedState) parts.push(`Mirakl already showed ${outcome.observedState}`);
  if (intent.attempts > 1) parts.push(`after ${plural(intent.attempts, 'attempt')}`);
  return parts.length ? parts.join('; ') : null;
}

function refundPlanDetail(p: RefundPayload): string {
  return `${plural(p.units.length, 'verified unit')}${p.shippingMinor > 0 ? `, shipping ${formatMinor(p.shippingMinor, p.currency)}` : ''}, reason ${p.reason_code}`;
}

function changeSummary(before: string | null, after: string | null): string | null {
  const parse = (s: string | null): unknown => {
    if (s === null) return null;
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return s;
    }
  };
  const b = parse(before);
  const a = parse(after);
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const show = (v: unknown) => (v === null || v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
  if (isRecord(b) && isRecord(a)) {
    // What the action set, in its own words: a field only in `before` was not changed to "null" by anyone.
    const keys = Object.keys(a).filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]));
    return keys.length ? keys.map((k) => (k in b ? `${k}: ${show(b[k])} → ${show(a[k])}` : `${k}: ${show(a[k])}`)).join(', ') : null;
  }
  if (isRecord(a) && b === null) {
    const keys = Object.keys(a).filter((k) => a[k] !== null && a[k] !== undefined);
    return keys.length ? keys.map((k) => `${k}: ${show(a[k])}`).join(', ') : null;
  }
  if (b === null && a === null) return null;
  return `${show(b)} → ${show(a)}`;
}

/** What a person did, as a sentence: "alice resolved “Short receipt”". */
const personVerbs: Record<string, string> = {
  'exception.assign': 'assigned',
  'exception.resolve': 'resolved',
  'exception.reopen': 'reopened',
  'exception.snooze': 'snoozed',
  'exception.comment': 'commented on',
  'match.confirm': 'confirmed a suggested match on',
  'match.reject': 'rejected a suggested match on',
  'refund.now': 'sent the refund now',
  'return.acceptPartial': 'accepted a partial return',
  'return.retry': 'retried the return',
  'refund.override': 'refunded without a verified receipt',
  'refund.retry': 'retried the refund',
};

function personTitle(actor: string, action: string, about: string | null): string {
  const refused = action.endsWith('.refused');
  const base = refused ? action.slice(0, -'.refused'.length) : action;
  const did = lookup(personVerbs, base) ?? words(base);
  const verb = refused ? `was refused (${did})` : did;
  return `${actor} ${verb}${about ? ` “${about}”` : ''}`;
}

const words = (s: string) => s.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[._]+/g, ' ').toLowerCase();

/** Everything known about one return, from Mirakl, ReBound, the bridge, exceptions and people, oldest first. */
export function explainReturn(ctx: DomainContext, returnId: string): ReturnTimeline {
  const ret = requireReturn(ctx, returnId);
  const reads = ctx.explain;
  const currency = reads.currencyOf(ret.orderId);
  const lines = ctx.store.returnLines(returnId);
  const orderLines = new Map<string, StoredOrderLine | undefined>(lines.map((l) => [l.orderLineId, ctx.store.orderLine(l.orderLineId)]));
  const productOf = (orderLineId: string) => {
    const line = orderLines.has(orderLineId) ? orderLines.get(orderLineId) : ctx.store.orderLine(orderLineId);
    return line ? line.productTitle : `line ${orderLineId}`;
  };
  const entries: { entry: TimelineEntry; tie: number }[] = [];
  const add = (at: string, source: TimelineSource, kind: string, title: string, detail: string | null, ref: string | null, tie = sourceOrder[source], technical: string | null = null) =>
    entries.push({ entry: { at: toIso(at), source, kind, title, detail, ref, technical }, tie });

  // Mirakl: the request, then each state as we saw it.
  const requested = lines.reduce((s, l) => s + l.quantity, 0);
  add(
    ret.dateCreated,
    'mirakl',
    'mirakl.requested',
    `Customer asked to return ${plural(requested, 'item')} (order ${ret.commercialId})`,
    lines.map((l) => `${l.quantity} × ${productOf(l.orderLineId)} (${l.reasonCode})`).join('; ') || null,
    ret.id,
  );
  const states = reads.returnStates(returnId);
  // The calls of ours that move a return's state on Mirakl, and when Mirakl confirmed each.
  const causedBy: Record<string, string> = { IN_PROGRESS: 'mirakl.accept', RECEIVED: 'mirakl.receive', CLOSED: 'mirakl.close' };
  const confirmedAt = new Map(ctx.intents.bySubject(returnId).filter((i) => i.state === 'confirmed').map((i) => [i.kind, Date.parse(i.updatedAt)]));
  let previousUpdate = Number.NEGATIVE_INFINITY;
  for (const s of states) {
    // A state the bridge set after Mirakl confirmed our call keeps Mirakl's older last_updated (which another call, such
    // as the label push, may have moved): when we saw it is then the better time.
    const updated = Date.parse(s.last_updated);
    const ourCall = confirmedAt.get(lookup(causedBy, s.state) ?? '');
    const isOurs = !(updated > previousUpdate) || (ourCall !== undefined && updated < ourCall && Date.parse(s.seen_at) >= ourCall);
    previousUpdate = Math.max(previousUpdate, Number.isNaN(updated) ? previousUpdate : updated);
    add(
      isOurs ? s.seen_at : s.last_updated,
      'mirakl',
      'mirakl.state',
      lookup(miraklStateTitles, s.state) ?? `Mirakl state ${s.state} (not known to the bridge)`,
      isOurs ? 'Recorded when Mirakl confirmed the bridge’s call' : null,
      `mirakl-state:${s.id}`,
      // It follows the bridge's confirmation that caused it.
      isOurs ? sourceOrder.bridge + 0.5 : sourceOrder.mirakl,
      `Mirakl return state ${s.state}`,
    );
  }

  // ReBound: the return order, its notifications and reads, and each unit's physical progress.
  const order = reads.returnOrder(returnId);
  if (order) {
    add(
      order.created_at,
      'rebound',
      'rebound.order',
      `ReBound return order ${order.rebound_order_id} created`,
      order.tracking_number ? `Tracking ${order.tracking_number}${order.carrier ? ` (${order.carrier})` : ''}` : null,
      order.rebound_order_id,
    );
    const events = reads.reboundEvents(order.rebound_order_id);
    for (const e of events) {
      // A read that changed nothing says nothing new.
      if (e.source === 'poll' && e.outcome === 'no_change') continue;
      let title: string;
      if (e.type === 'snapshot') {
        const status = e.status?.replace(/^UNKNOWN:/, '') ?? null;
        title = lookup(reboundStatusTitles, status) ?? `ReBound status ${status ?? 'unknown'} (not known to the bridge)`;
      } else if (e.type === 'trackingUpdate') title = lookup(trackingTitles, e.status) ?? `ReBound tracking update: ${e.status ? words(e.status) : 'no status'}`;
      else if (e.type === 'refundTrigger') title = 'ReBound signalled the items were registered (refund trigger)';
      else if (e.type === 'itemProcessed') title = 'ReBound signalled the items were inspected';
      else title = `ReBound notification ${e.type}`;
      const how = e.source === 'webhook' ? `Notified by ReBound (${e.type})` : 'Read from ReBound';
      const outcome = e.outcome === 'pending' ? 'not applied yet: waiting for the next ReBound read' : e.outcome === 'applied' ? 'applied' : words(e.outcome);
      add(e.occurred_at ?? e.received_at, 'rebound', `rebound.${e.type}`, title, `${how}; ${outcome}`, e.key);
    }
  }

  const units = reads.units(returnId);
  // Units that moved together (same line, same moment, same result) are one entry; so are restocks.
  const batches = new Map<string, { at: string; source: TimelineSource; kind: string; title: (n: number) => string; detail: string | null; ids: string[] }>();
  const batch = (id: string, at: string, source: TimelineSource, kind: string, variant: string, title: (n: number) => string, detail: string | null = null) => {
    const key = [kind, at, variant].join('|');
    const b = batches.get(key) ?? { at, source, kind, title, detail, ids: [] };
    b.ids.push(id);
    batches.set(key, b);
  };
  for (const u of units) {
    const product = productOf(u.order_line_id);
    const some = (n: number) => `${plural(n, 'unit')} of ${product}`;
    const variant = u.order_line_id;
    if (u.registered_at && u.received_sku !== null && u.received_sku !== u.offer_sku) {
      batch(u.id, u.registered_at, 'rebound', 'unit.registered', `${variant}|${u.received_sku}`, (n) => `${some(n)} registered under the wrong SKU`,
        `ReBound registered SKU ${u.received_sku}; the order line sold ${u.offer_sku}. Not a verified receipt.`);
    } else if (u.registered_at) {
      batch(u.id, u.registered_at, 'rebound', 'unit.registered', variant, (n) => `${some(n)} registered at ReBound's hub`, 'Verified receipt: the right SKU');
    }
    if (u.graded_at && u.grade) {
      batch(u.id, u.graded_at, 'rebound', 'unit.graded', `${variant}|${u.grade}`, (n) => `${some(n)} graded ${u.grade}`,
        u.is_sellable === 1 ? 'Sellable: goes back on sale' : 'Not sellable');
    }
    if (u.stage === 'missing') batch(u.id, u.updated_at, 'rebound', 'unit.missing', variant, (n) => `${some(n)} did not arrive at ReBound`);
    if (u.stage === 'lost') batch(u.id, u.updated_at, 'rebound', 'unit.lost', variant, (n) => `${some(n)} lost: nothing came back`);
  }

  // The bridge: every side effect it planned for this return and where it stands, then restocking.
  const intents = [...ctx.intents.bySubject(returnId)];
  const salesOrder = ctx.intents.findByKey(`sales-order:${ret.orderId}`);
  if (salesOrder) intents.push(salesOrder);
  intents.sort((a, b) => a.id - b.id);
  for (const intent of intents) {
    const labels = intentLabels(intent, productOf, currency);
    const technical = `${labels.code} · ${intent.kind} · ${intent.state}`;
    const bridge = sourceOrder.bridge;
    add(intent.createdAt, 'bridge', 'intent.planned', `Planned to ${labels.todo}`, intent.kind === 'mirakl.refund' ? refundPlanDetail(intent.payload as RefundPayload) : null, intent.key, bridge, technical);
    switch (intent.state) {
      case 'confirmed':
        add(intent.updatedAt, 'bridge', 'intent.confirmed', labels.done, intentOutcomeDetail(intent), intent.key, bridge, technical);
        break;
      case 'sending':
        add(intent.updatedAt, 'bridge', 'intent.sending', `Sending: ${labels.todo}`, `Attempt ${intent.attempts}`, intent.key, bridge, technical);
        break;
      case 'failed':
        add(
          intent.updatedAt,
          'bridge',
          'intent.failed',
          `Could not ${labels.todo}`,
          `${intent.lastError ?? 'no reason given'}; ${intent.nextAttemptAt ? `retrying at ${intent.nextAttemptAt}` : 'it will not be retried by itself: a person must act'}`,
          intent.key,
          bridge,
          technical,
        );
        break;
      case 'uncertain':
        add(
          intent.updatedAt,
          'bridge',
          'intent.uncertain',
          `Outcome unknown: ${labels.todo}`,
          `${intent.lastError ?? 'no answer'}; the source of truth is checked before anything is sent again`,
          intent.key,
          bridge,
          technical,
        );
        break;
      case 'planned':
        break;
    }
  }

  const stock = reads.stockIncrements(returnId);
  for (const x of stock) {
    const sku = x.offer_sku;
    if (x.state === 'skipped') {
      batch(x.unit_id, x.created_at, 'bridge', 'stock.skipped', sku, (n) => `${plural(n, 'unit')} not restocked (offer ${sku})`, x.note);
      continue;
    }
    batch(x.unit_id, x.created_at, 'bridge', 'stock.queued', sku, (n) => `${plural(n, 'unit')} queued to go back on sale (offer ${sku})`);
    if (x.state === 'applied') batch(x.unit_id, x.updated_at, 'bridge', 'stock.applied', sku, (n) => `Stock +${n} on Mirakl offer ${sku}`);
    if (x.state === 'rejected') batch(x.unit_id, x.updated_at, 'bridge', 'stock.rejected', sku, (n) => `Mirakl rejected the stock update for ${plural(n, 'unit')} (offer ${sku})`, x.note);
  }
  for (const b of batches.values()) add(b.at, b.source, b.kind, b.title(b.ids.length), b.detail, b.ids.join(', '));

  // Mirakl's refund ledger for the lines of this return.
  let refundedMinor = 0;
  let refundPendingMinor = 0;
  const ledger: { id: string; at: string; amountMinor: number; isPaid: boolean }[] = [];
  for (const line of lines) {
    for (const r of ctx.store.refundsOfLine(line.orderLineId)) {
      ledger.push({ id: r.id, at: r.date_created, amountMinor: r.amount_minor + r.shipping_minor, isPaid: r.refund_state === 'REFUNDED' });
      if (r.refund_state === 'REFUNDED') refundedMinor += r.amount_minor;
      else refundPendingMinor += r.amount_minor;
      // The refund stages every money figure uses (core/contract/money.ts).
      const stage = refundStateStage(r.refund_state) === 'paid' ? 'paid by Mirakl' : 'accepted by Mirakl, awaiting payment';
      add(
        r.date_created,
        'mirakl',
        'mirakl.refund',
        `Refund of ${formatMinor(r.amount_minor, currency)} for ${productOf(line.orderLineId)} ${stage}`,
        `Refund ${r.id}${r.shipping_minor > 0 ? `, shipping ${formatMinor(r.shipping_minor, currency)}` : ''}`,
        r.id,
        sourceOrder.mirakl,
        `Mirakl refund state ${r.refund_state} · reason ${r.reason_code}`,
      );
    }
  }

  // Exceptions, their notes, and what people did.
  const exceptions = reads.exceptions(returnId);
  for (const x of exceptions) {
    const title = exceptionTitle(x.type);
    const ref = `exception:${x.id}`;
    add(x.detected_at, 'exception', 'exception.raised', `Exception raised: ${title}`, `${x.cause} Owner: ${x.owner_team}${x.assignee ? `, assigned to ${x.assignee}` : ''}.`, ref);
    if (x.state === 'resolved' && x.resolved_at) {
      const by = x.resolved_by && x.resolved_by !== 'auto' ? ` (by ${x.resolved_by})` : '';
      add(x.resolved_at, 'exception', 'exception.resolved', `Exception resolved: ${title}`, x.resolution ? `${x.resolution}${by}` : by.trim() || null, ref);
    }
    const notes = reads.notes(x.id);
    for (const n of notes) add(n.at, 'user', 'exception.note', `${n.author} added a note to “${title}”`, n.body, ref);
  }
  const subjects: { subject: string; about: string | null }[] = [
    { subject: `return:${returnId}`, about: null },
    ...exceptions.map((x) => ({ subject: `exception:${x.id}`, about: exceptionTitle(x.type) })),
  ];
  for (const { subject, about } of subjects) {
    const rows = reads.audit(subject);
    for (const a of rows) {
      const detail = [a.reason ? `Reason: ${a.reason}` : null, changeSummary(a.before, a.after)].filter((p): p is string => p !== null).join('. ');
      add(a.at, 'user', `audit.${a.action}`, personTitle(a.actor, a.action, about), detail || null, `audit:${a.seq}`, sourceOrder.user, a.action);
    }
  }

  // Ties keep a fixed order: Mirakl, ReBound, bridge, exceptions, people; within a source, the order read above.
  const sorted = entries
    .map((e, i) => ({ ...e, i, ms: sortable(e.entry.at) }))
    .sort((a, b) => (a.ms === b.ms ? 0 : a.ms - b.ms) || a.tie - b.tie || a.i - b.i)
    .map((e) => e.entry);

  const summary: ReturnSummary = {
    orderId: ret.orderId,
    commercialId: ret.commercialId,
    rma: ret.rma,
    miraklState: ret.state,
    reboundOrderId: order?.rebound_order_id ?? null,
    reboundStatus: order?.status ?? null,
    trackingNumber: order?.tracking_number ?? ret.trackingNumber,
    unitsExpected: requested,
    unitsArrived: units.filter((u) => u.stage === 'registered' || u.stage === 'graded').length,
    unitsMissing: units.filter((u) => u.stage === 'missing' || u.stage === 'lost').length,
    currency,
    refundedMinor,
    refundPendingMinor,
    openExceptions: exceptions.filter((x) => x.state !== 'resolved').length,
  };
  const arrivedAt = units.flatMap((u) => (u.registered_at && (u.received_sku === null || u.received_sku === u.offer_sku) ? [u.registered_at] : [])).sort()[0] ?? null;
  // Requested: our refund calls Mirakl has not answered, or answered with a refund not in its ledger as we last read it.
  const inLedger = new Set(ledger.map((r) => r.id));
  const requestedRefunds = intents.filter(
    (i) =>
      i.kind === 'mirakl.refund' &&
      (['planned', 'sending', 'uncertain'].includes(i.state) || (i.state === 'confirmed' && !inLedger.has((i.outcome as { refundId?: string } | null)?.refundId ?? ''))),
  );
  const reply = replyToCustomer({
    arrivedAt,
    trackingNumber: summary.trackingNumber,
    isInTransit: ['IN_CARRIER_NETWORK', 'LABEL_ISSUED', 'CREATED'].includes(order?.status ?? ''),
    isAtHub: order?.status === 'AT_HUB',
    currency,
    refunds: ledger,
    requestedMinor: requestedRefunds.reduce((n, i) => n + (i.payload as RefundPayload).amountMinor, 0),
    isClosedWithoutRefund: ret.state === 'CLOSED' && ledger.length === 0,
  });
  const returnLines = lines.map((l) => ({ orderLineId: l.orderLineId, product: productOf(l.orderLineId), quantity: l.quantity, reasonCode: l.reasonCode }));
  return { returnId, summary, lines: returnLines, entries: sorted, reply };
}

const longDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const onDay = (iso: string) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : longDate.format(ms);
};

/**
 * The answer to "where is my refund?" a CS lead can paste to the customer: what arrived and when, and each refund at
 * the stage the money figures use (requested, accepted and awaiting payment, paid). No codes, no internal ids.
 */
export function replyToCustomer(facts: {
  arrivedAt: string | null;
  trackingNumber: string | null;
  isInTransit: boolean;
  isAtHub: boolean;
  currency: string | null;
  refunds: { at: string; amountMinor: number; isPaid: boolean }[];
  requestedMinor: number;
  isClosedWithoutRefund: boolean;
}): string {
  const money = (minor: number) => formatMinor(minor, facts.currency);
  const parts: string[] = [];
  if (facts.arrivedAt) parts.push(`Your return arrived at our returns centre on ${onDay(facts.arrivedAt)}.`);
  else if (facts.isAtHub) parts.push('Your parcel has reached our returns centre and is being checked in.');
  else if (facts.isInTransit) parts.push(`Your return is on its way to our returns centre${facts.trackingNumber ? ` (tracking number ${facts.trackingNumber})` : ''}.`);
  else parts.push('We have your return request and are waiting for the parcel to reach our returns centre.');
  const paid = facts.refunds.filter((r) => r.isPaid);
  const accepted = facts.refunds.filter((r) => !r.isPaid);
  const sum = (rs: { amountMinor: number }[]) => rs.reduce((n, r) => n + r.amountMinor, 0);
  const last = (rs: { at: string }[]) => rs.map((r) => r.at).sort().at(-1) ?? '';
  if (paid.length) parts.push(`The refund of ${money(sum(paid))} was sent on ${onDay(last(paid))}; banks usually take 3–5 working days to show it.`);
  if (accepted.length) parts.push(`A refund of ${money(sum(accepted))} was approved on ${onDay(last(accepted))} and is being paid; banks usually take 3–5 working days once it is sent.`);
  if (facts.requestedMinor > 0) parts.push(`Your refund of ${money(facts.requestedMinor)} is being processed now.`);
  if (!facts.refunds.length && facts.requestedMinor === 0) {
    if (facts.arrivedAt) parts.push('We are checking the items; your refund follows as soon as they are verified.');
    else if (facts.isClosedWithoutRefund) parts.push('This return was closed without a refund; please reply if you think that is wrong.');
    else parts.push('Your refund is sent once the items arrive and are checked.');
  }
  return parts.join(' ');
}

/** Why the refund of one return line did or did not go out: every guard condition, the intent if any, and a verdict. */
export function explainRefundGuard(ctx: DomainContext, returnId: string, orderLineId: string): RefundGuard {
  const ret = requireReturn(ctx, returnId);
  if (!ctx.store.returnLines(returnId).some((l) => l.orderLineId === orderLineId)) {
    throw new AppError('NOT_FOUND', `Return ${returnId} has no line ${orderLineId}`);
  }
  const guard = evaluateRefundGuard(ctx, returnId, orderLineId);
  const conditions = guard.conditions.map((c) => ({ name: c.name, holds: c.holds, detail: c.detail }));
  const intent = ctx.intents.findByKey<RefundPayload>(`refund:${returnId}:${orderLineId}`);
  const reads = ctx.explain;
  const currency = intent?.payload.currency ?? reads.currencyOf(ret.orderId);
  const view: RefundIntentView | null = intent
    ? {
        state: intent.state,
        attempts: intent.attempts,
        lastError: intent.lastError,
        nextAttemptAt: intent.nextAttemptAt,
        amountMinor: intent.payload.amountMinor,
        refundId: (intent.outcome as { refundId?: string } | null)?.refundId ?? null,
      }
    : null;

  let verdict: string;
  if (intent && view) {
    const amount = formatMinor(view.amountMinor, currency);
    const ledger = view.refundId ? ctx.store.refundsOfLine(orderLineId).find((r) => r.id === view.refundId) : undefined;
    switch (intent.state) {
      case 'confirmed':
        // The stages every money figure uses (core/contract/money.ts): accepted by Mirakl, awaiting payment → paid.
        verdict = ledger?.refund_state === 'REFUNDED'
          ? `Paid: Mirakl shows refund ${ledger.id} of ${amount} as paid (REFUNDED).`
          : ledger
            ? `Accepted by Mirakl, awaiting payment: refund ${ledger.id} of ${amount} (${ledger.refund_state}). It counts as refunded, not as money at risk.`
            : `Requested: Mirakl took the refund of ${amount}${view.refundId ? ` (refund ${view.refundId})` : ''}; it is not in the Mirakl ledger we read yet.`;
        break;
      case 'uncertain':
        verdict = `Outcome unknown: the refund of ${amount} may have reached Mirakl (${intent.lastError ?? 'no answer'}); it is being probed in Mirakl's refunds (OR11) and will not be sent again until that settles it.`;
        break;
      case 'sending':
        verdict = `Being sent: the refund of ${amount} is in flight to Mirakl (attempt ${intent.attempts}).`;
        break;
      case 'planned':
        verdict = `Planned: the refund of ${amount} goes out with the next refund call to Mirakl (OR28).`;
        break;
      case 'failed':
        verdict = intent.nextAttemptAt
          ? `Failed, retrying at ${intent.nextAttemptAt}: the refund of ${amount} was not applied (${intent.lastError ?? 'no reason given'}).`
          : `Failed and not retried by itself: Mirakl refused the refund of ${amount} (${intent.lastError ?? 'no reason given'}); retry it or escalate.`;
        break;
    }
  } else if (!guard.allowed) {
    verdict = `Waiting for: ${guard.conditions
      .filter((c) => !c.holds)
      .map((c) => `${c.name} (${c.detail})`)
      .join('; ')}.`;
  } else {
    // The guard holds but the engine plans refunds only for returns it is still following, and never beyond what
    // the line has left to refund.
    const stage = reads.intakeStage(returnId);
    const mismatch = reads.openMismatchCause(returnId, orderLineId);
    if (mismatch !== undefined) verdict = `Not planned: every condition holds, but nothing is left to refund on the line: ${mismatch}`;
    else if (stage !== 'in_flight') verdict = `Not planned: every condition holds, but the bridge is not following this return (intake ${stage ?? 'never started'}).`;
    else verdict = 'Ready: every condition holds; the refund is planned in the next sync cycle.';
  }
  return { returnId, orderLineId, allowed: guard.allowed, conditions, intent: view, verdict };
}
