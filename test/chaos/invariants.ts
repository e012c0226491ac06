import type { Database } from 'better-sqlite3';
import type { Mappings } from '../../core/mappings/load';
import type { Sandbox } from '../../core/sandbox/index';
import { returnOrderStatusRank, statusRank } from '../../core/ledger/units';
import { includedVat } from '../../core/sandbox/world/money';
import { checkClosesAfterRefunds } from '../support/invariants';
import type { CallRecord, LostCall, PushRejection } from './chaos-http';
import type { SecondEngineWrites } from './second-engine';

// What must hold once the faults have stopped and the engine has gone quiet, checked against the sandbox's ground
// truth (what Mirakl really refunded and holds in stock, what ReBound really received) rather than against what
// the engine believes. Each violation names the money, stock or event that went wrong. Money in the truth is gross
// (tax included) whatever the shop's tax mode, so every comparison below is in gross terms.

export interface QuietCheckInput {
  sandbox: Sandbox;
  db: Database;
  mappings: Mappings;
  lostCalls: LostCall[];
  /** Notification delivery ids the engine's receiver acknowledged. */
  acknowledged: Set<string>;
  /** Mirakl refunds made in the back office, outside the app (a backOfficeRefund fault): not the engine's. */
  backOfficeRefunds: Set<string>;
  /** When an engine last started on a database put back from a backup (sandbox time), if one did. */
  lastRestoreAt?: number | null;
  /** Each restore: when its backup was taken, and when an engine started on the database put back (sandbox time). */
  restores?: { backupAt: number; startedAt: number | null }[];
  /** Status pushes Mirakl refused for one return, whose answer reached the engine. */
  pushRejections: PushRejection[];
  /** What second installations with databases of their own (secondEngineOwnDb) wrote to Mirakl: not this engine's. */
  secondEngine?: SecondEngineWrites;
  /** Every call the engines sent (chaos-http.ts CallRecord): who read which order's refunds when, who wrote while paused. */
  calls?: CallRecord[];
}

const sellableOf = (mappings: Mappings, grade: string | null) => grade !== null && mappings.policy.stock.sellableGrades.includes(grade);

/** The largest clock skew a chaos run draws (plan.ts, clockSkew), with a step to spare. */
const restoreClockMarginMs = 2 * 60 * 60_000;

export function checkQuietInvariants(input: QuietCheckInput): { violations: string[]; stats: Record<string, number> } {
  const { sandbox, db, mappings } = input;
  /**
   * Made by the engine between a backup and the start of an engine on that backup put back: the database put back knows
   * nothing of it, and cannot tell it from anyone else's (refunds.ts). It counts in the line's money and its detectors
   * (over-refund, beyond receipt), but no intent of the restored database claims it. Both times are the sandbox's, as
   * Mirakl stamps its refunds.
   */
  const isEarlierCopys = (at: number) =>
    (input.restores ?? []).some((w) => w.startedAt !== null && at >= w.backupAt && at <= w.startedAt);
  const truth = sandbox.truth();
  const violations: string[] = [];
  const stats: Record<string, number> = {};
  const bump = (key: string, n = 1) => {
    stats[key] = (stats[key] ?? 0) + n;
  };
  const all = <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[];
  const openExceptions = (returnId: string) =>
    all<{ type: string }>(`SELECT type FROM exceptions WHERE state != 'resolved' AND (return_id = ? OR subject_key LIKE ?)`, returnId, `${returnId}%`).map((e) => e.type);
  const isOpen = (type: string, subjectKey: string) =>
    Boolean(db.prepare(`SELECT 1 FROM exceptions WHERE state != 'resolved' AND type = ? AND subject_key = ?`).get(type, subjectKey));

  // 1. Storage.
  const integrity = db.pragma('integrity_check', { simple: true });
  if (integrity !== 'ok') violations.push(`INTEGRITY: PRAGMA integrity_check says ${String(integrity)}`);

  // 2. Every side effect's outcome is known, or a person is told it is not.
  const intents = all<{ id: number; kind: string; key: string; state: string; payload: string; outcome: string | null; subject: string }>(
    `SELECT id, kind, key, state, payload, outcome, subject FROM intents ORDER BY id`,
  );
  for (const i of intents) {
    bump(`intents.${i.state}`);
    if (i.state === 'sending') violations.push(`OUTCOME LOST: intent ${i.id} (${i.key}) is still 'sending' after the engine went quiet; nothing will ever probe it`);
    if (i.state === 'uncertain' && !isOpen('OUTCOME_UNKNOWN', `intent:${i.id}`)) {
      violations.push(`OUTCOME UNKNOWN NOT SURFACED: intent ${i.id} (${i.key}) is uncertain with no open OUTCOME_UNKNOWN exception`);
    }
  }
  const refundIntents = intents
    .filter((i) => i.kind === 'mirakl.refund')
    .map((i) => ({ ...i, line: (JSON.parse(i.payload) as { order_line_id: string }).order_line_id, refundId: i.outcome ? ((JSON.parse(i.outcome) as { refundId?: string }).refundId ?? null) : null }));

  // 3. A response lost after the server applied the change is settled by a probe, or surfaced.
  const ourOrders = new Set(all<{ id: string }>(`SELECT rebound_order_id AS id FROM rebound_return_orders`).map((r) => r.id));
  // Return orders a second installation created that the engine does not know: its own create of the return was refused
  // for good and waits for a person (RETURN_NOT_CREATED, checked in 5.), whose retry looks first and adopts this one.
  // Until then the units ReBound verified in them are unknown to the engine.
  const unknownFromSecond = new Set([...(input.secondEngine?.returnOrders ?? [])].filter((id) => !ourOrders.has(id)));
  for (const lost of input.lostCalls) {
    bump(`lost.${lost.operation}`);
    if (lost.operation === 'OR28' && lost.body) {
      const sent = JSON.parse(lost.body) as { order_tax_mode?: string; refunds: { order_line_id: string; amount: number }[] };
      // The truth is gross; a TAX_EXCLUDED request (named, or the shop's default) sent the amount net of its tax.
      const isNet = (sent.order_tax_mode ?? truth.mirakl.taxMode) === 'TAX_EXCLUDED';
      for (const r of sent.refunds) {
        const applied = (truth.mirakl.refundsByLine[r.order_line_id] ?? []).find(
          (t) => Date.parse(t.createdAt) === lost.at && (isNet ? t.amountMinor - t.taxMinor : t.amountMinor) === Math.round(r.amount * 100),
        );
        if (!applied) continue;
        const claim = refundIntents.filter((i) => i.line === r.order_line_id && i.state === 'confirmed' && i.refundId === applied.id);
        const pending = refundIntents.some((i) => i.line === r.order_line_id && i.state === 'uncertain' && isOpen('OUTCOME_UNKNOWN', `intent:${i.id}`));
        // Its probe took a second installation's refund of the same amount on the line for it: not told apart (Mirakl has
        // no idempotency key). Or it was lost by an earlier copy of a database since put back, which knows nothing of it.
        const takenForOther = [...(input.secondEngine?.refunds ?? [])].some((id) => {
          const other = (truth.mirakl.refundsByLine[r.order_line_id] ?? []).find((t) => t.id === id);
          return other !== undefined && other.amountMinor === applied.amountMinor && refundIntents.some((i) => i.state === 'confirmed' && i.refundId === id);
        });
        if (claim.length !== 1 && !pending && !takenForOther && !(claim.length === 0 && isEarlierCopys(lost.at))) {
          violations.push(`LOST RESPONSE NOT SETTLED: Mirakl applied refund ${applied.id} on ${r.order_line_id} (${lost.how}) but ${claim.length} intent(s) claim it`);
        }
      }
    }
    if (lost.operation === 'returnOrders.create' && lost.body) {
      const clientOrderId = (JSON.parse(lost.body) as { clientOrderId: string }).clientOrderId;
      const created = truth.rebound.returnOrders.find((ro) => ro.clientOrderId === clientOrderId && Date.parse(ro.createdAt) === lost.at);
      const pending = intents.some((i) => i.kind === 'rebound.createReturn' && i.state === 'uncertain' && i.payload.includes(clientOrderId) && isOpen('OUTCOME_UNKNOWN', `intent:${i.id}`));
      if (created && created.status !== 'CANCELLED' && !ourOrders.has(created.reboundOrderId) && !pending) {
        violations.push(`LOST RESPONSE NOT SETTLED: ReBound created return order ${created.reboundOrderId} for ${clientOrderId} (${lost.how}) and the engine never adopted it`);
      }
    }
  }

  // 4. Refunds: never twice, never more than refundable, never before a verified receipt, never silently missing.
  // Each unit counts from its own registration: a late unit from when it reached the hub, after the rest.
  const registeredAt = new Map<string, number>();
  const receivedByLine = new Map<string, { at: number; grade: string; isLate: boolean; reboundItemId: string; ro: string }[]>();
  for (const ro of truth.rebound.returnOrders) {
    const at = ro.statusHistory.find((h) => h.status === 'ITEMS_REGISTERED')?.at;
    if (!at) continue;
    registeredAt.set(ro.reboundOrderId, Date.parse(at));
    for (const u of ro.units) {
      if (!u.isReceived || u.fate !== 'announced') continue;
      const unit = { at: Date.parse(u.registeredAt ?? at), grade: u.grade, isLate: u.isLate, reboundItemId: u.reboundItemId, ro: ro.reboundOrderId };
      receivedByLine.set(u.clientItemId, [...(receivedByLine.get(u.clientItemId) ?? []), unit]);
    }
  }
  // The engine's side of "never twice": each unit is in one refund intent at most (a failed one is retried, never
  // replaced), whichever path planned it.
  const intentsOfUnit = new Map<string, string[]>();
  for (const i of refundIntents) {
    for (const unit of (JSON.parse(i.payload) as { units?: string[] }).units ?? []) intentsOfUnit.set(unit, [...(intentsOfUnit.get(unit) ?? []), i.key]);
  }
  for (const [unit, keys] of intentsOfUnit) if (keys.length > 1) violations.push(`UNIT REFUNDED TWICE: unit ${unit} is in ${keys.length} refund intents (${keys.join(', ')})`);
  const unitOfItem = new Map(all<{ id: string; item: string }>(`SELECT id, rebound_item_id AS item FROM units WHERE rebound_item_id IS NOT NULL`).map((u) => [u.item, u.id]));
  // A TAX_EXCLUDED refund of n units is n net unit prices plus a share of the line's tax, which may round a cent per
  // unit away from n gross unit prices: that much is rounding, not money lost or given away.
  const centsPerUnit = truth.mirakl.taxMode === 'TAX_EXCLUDED' ? 1 : 0;
  const claimed = new Map<string, number>();
  for (const i of refundIntents) if (i.state === 'confirmed' && i.refundId) claimed.set(i.refundId, (claimed.get(i.refundId) ?? 0) + 1);
  for (const [refundId, n] of claimed) if (n > 1) violations.push(`DOUBLE CLAIM: ${n} confirmed refund intents claim Mirakl refund ${refundId}`);
  // The shipping the engine believes it refunded on a line (its confirmed refund intents') was refunded there in Mirakl.
  // A refund of someone else's taken for ours that paid no shipping where ours would have (seed 149: a late unit's
  // refund, carrying the line's shipping, took the first unit's for its own) leaves the shipping recorded as paid while
  // the customer never got it; a refund ours adopted that paid the shipping itself leaves ours at none, which is right.
  const paidShipping = new Map<string, number>();
  for (const [lineId, rs] of Object.entries(truth.mirakl.refundsByLine)) paidShipping.set(lineId, rs.reduce((s, r) => s + r.shippingMinor, 0));
  const claimedShipping = new Map<string, number>();
  for (const i of refundIntents.filter((x) => x.state === 'confirmed')) {
    claimedShipping.set(i.line, (claimedShipping.get(i.line) ?? 0) + ((JSON.parse(i.payload) as { shippingMinor?: number }).shippingMinor ?? 0));
  }
  for (const [lineId, claimedMinor] of claimedShipping) {
    const paid = paidShipping.get(lineId) ?? 0;
    if (claimedMinor > paid) violations.push(`SHIPPING CLAIMED NOT PAID: the engine's refunds of ${lineId} record shipping ${claimedMinor} refunded, Mirakl's refunds of it ${paid}`);
  }
  const tolerance = mappings.policy.refunds.toleranceMinor;
  const returnOfLineEarly = new Map<string, string>();
  for (const r of truth.mirakl.returns) for (const l of r.lines) returnOfLineEarly.set(l.orderLineId, r.id);
  const ourReturnIds = new Set(all<{ id: string }>(`SELECT id FROM mirakl_returns`).map((r) => r.id));
  const firstSeenText = (db.prepare(`SELECT min(first_seen_at) AS at FROM mirakl_returns`).get() as { at: string | null }).at;
  const firstSeenAt = firstSeenText === null ? null : Date.parse(firstSeenText);
  const secondRefunds = input.secondEngine?.refunds ?? new Set<string>();
  const calls = input.calls ?? [];
  // A paused engine sends nothing: no refund and no stock import leaves while a FOREIGN_WRITE is open in its database
  // (its own call log, as the two-installation test checks it).
  for (const c of calls) {
    if (c.instance === 'A' && c.whilePaused) violations.push(`SENT WHILE PAUSED: the engine sent ${c.operation} at ${new Date(c.at).toISOString()} while a FOREIGN_WRITE was open`);
  }
  /** The place in the call log of the call that made each refund: calls run one at a time, so this orders them. */
  const madeAtCall = new Map<string, number>();
  calls.forEach((c, i) => c.refundIds.forEach((id) => madeAtCall.set(id, i)));
  /** Whether `instance` read this order's refunds in Mirakl (an OR11 answer that reached it) between two refunds' calls. */
  const readOrderBetween = (instance: string, orderId: string, after: string, before: string) => {
    const from = madeAtCall.get(after) ?? -1;
    const to = madeAtCall.get(before) ?? calls.length;
    return calls.some((c, i) => i > from && i < to && c.instance === instance && c.operation === 'OR11' && c.ok && c.orderIds.includes(orderId));
  };
  for (const [lineId, every] of Object.entries(truth.mirakl.refundsByLine)) {
    bump('refundedLines');
    bump('refunds', every.length);
    // What the engine answers for: the back office's refunds and a second installation's are not its own, but still
    // count towards what the line has.
    const refunds = every.filter((r) => !input.backOfficeRefunds.has(r.id) && !secondRefunds.has(r.id));
    const backOffice = every.filter((r) => input.backOfficeRefunds.has(r.id));
    const fromSecond = every.filter((r) => secondRefunds.has(r.id));
    bump('backOfficeRefunds', backOffice.length);
    const found = sandbox.world.findLine(lineId);
    const line = found?.line;
    if (!found || !line) {
      violations.push(`REFUND ON UNKNOWN LINE: ${lineId}`);
      continue;
    }
    const ours = refundIntents.filter((i) => i.line === lineId && ['confirmed', 'uncertain', 'sending'].includes(i.state));
    const byEarlierCopy = refunds.filter((r) => !claimed.has(r.id) && isEarlierCopys(Date.parse(r.createdAt)));
    if (refunds.length - byEarlierCopy.length > ours.length) {
      violations.push(`DUPLICATE REFUND: order line ${lineId} was refunded ${refunds.length} times (${refunds.map((r) => `${r.id}: ${r.amountMinor}`).join(', ')}) for ${ours.length} refund intent(s)`);
    }
    // Two refunds of the same amount on one line, ours and a second installation's, cannot be told apart (Mirakl has no
    // idempotency key): an intent of ours that found the other's in the ledger (a probe, or after a restore) accounts
    // for ours, once per such refund.
    const swappable = fromSecond.filter((s) => claimed.has(s.id));
    for (const r of refunds) {
      const swap = claimed.has(r.id) ? -1 : swappable.findIndex((s) => s.amountMinor === r.amountMinor && s.shippingMinor === r.shippingMinor);
      if (swap >= 0) swappable.splice(swap, 1);
      const isClaimed = claimed.has(r.id) || swap >= 0 || byEarlierCopy.includes(r) || ours.some((i) => i.state !== 'confirmed');
      if (!isClaimed) violations.push(`UNCLAIMED REFUND: Mirakl refund ${r.id} on ${lineId} (${r.amountMinor}) is not claimed by any confirmed refund intent`);
    }
    const total = every.reduce((s, r) => s + r.amountMinor, 0);
    const shipping = every.reduce((s, r) => s + r.shippingMinor, 0);
    if (total > line.priceMinor) violations.push(`OVER-REFUND: order line ${lineId} refunded ${total} of a refundable ${line.priceMinor}`);
    if (shipping > line.shippingMinor) violations.push(`OVER-REFUND: order line ${lineId} refunded shipping ${shipping} of ${line.shippingMinor}`);
    // Mirakl works out the tax of a refund that names none (as the back office's) in proportion, which may round a
    // cent past the line's tax once ours took its exact share: a cent per such refund is rounding. A second
    // installation's refund is the same case: it rounded its share against its own copy of the ledger, not knowing of
    // ours (seed 176: a cent past the line's tax).
    const tax = every.reduce((s, r) => s + r.taxMinor, 0);
    const lineTax = includedVat(line.priceMinor, line.vatRate);
    if (tax > lineTax + backOffice.length + fromSecond.length) violations.push(`OVER-REFUND: order line ${lineId} refunded tax ${tax} of ${lineTax}`);
    const receivedBy = (at: string) => (receivedByLine.get(lineId) ?? []).filter((u) => u.at <= Date.parse(at)).length;
    const byTime = (a: { createdAt: string }, b: { createdAt: string }) => Date.parse(a.createdAt) - Date.parse(b.createdAt);
    // Each installation on its own never refunds before or beyond what ReBound verified.
    for (const [who, own] of [['', refunds], [' by the second installation', fromSecond]] as const) {
      let spent = 0;
      for (const r of [...own].sort(byTime)) {
        spent += r.amountMinor;
        const receivedThen = receivedBy(r.createdAt);
        if (receivedThen === 0) violations.push(`REFUND WITHOUT RECEIPT: refund ${r.id}${who} on ${lineId} at ${r.createdAt}, before ReBound registered any of its units`);
        else if (spent > receivedThen * (line.priceUnitMinor + centsPerUnit)) {
          violations.push(`REFUND BEYOND RECEIPT: ${lineId} refunded ${spent}${who} by ${r.createdAt} for ${receivedThen} registered unit(s) at ${line.priceUnitMinor}`);
        }
      }
    }
    // Together, two installations may pay a unit twice: each caps by its own copy of Mirakl's ledger. A refund that takes
    // the line's refunds of both beyond what ReBound had verified pays units the other installation already paid. That
    // is allowed only while it was in flight — its sender had not read the order's refunds (an OR11 answer) since the
    // other's latest refund on the line before it — and then the engine must have raised it (REFUND_EXCEEDS_RECEIPT on
    // the line, or FOREIGN_WRITE on the second installation's refund). Any other is a duplicate the engine could have
    // prevented.
    if (fromSecond.length) {
      let spent = 0;
      const sender = (r: { id: string }) => (secondRefunds.has(r.id) ? 'C' : 'A');
      const both = [...refunds, ...fromSecond].sort(byTime);
      for (const r of both) {
        spent += r.amountMinor;
        const receivedThen = receivedBy(r.createdAt);
        if (receivedThen === 0 || spent <= receivedThen * (line.priceUnitMinor + centsPerUnit)) continue;
        const other = both.filter((x) => sender(x) !== sender(r) && byTime(x, r) <= 0 && x.id !== r.id).at(-1);
        if (!other) continue; // beyond receipt on its own: reported above
        bump('crossEngineDuplicates');
        const isInFlight = !readOrderBetween(sender(r), found.order.orderId, other.id, r.id);
        const secondOfPair = sender(r) === 'C' ? r : other;
        const oursOfPair = sender(r) === 'C' ? other : r;
        const raisedForeign = (id: string) => Boolean(db.prepare(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND subject_key = ?`).get(`refund:${id}`));
        // Two refunds of the same amount cannot be told apart (no idempotency key): where a probe took the other's for
        // ours, ours is the one raised as someone else's.
        const isRaised =
          Boolean(db.prepare(`SELECT 1 FROM exceptions WHERE type = 'REFUND_EXCEEDS_RECEIPT' AND subject_key = ?`).get(`line:${lineId}`)) ||
          raisedForeign(secondOfPair.id) ||
          (oursOfPair.amountMinor === secondOfPair.amountMinor && claimed.has(secondOfPair.id) && raisedForeign(oursOfPair.id));
        const what = `refund ${r.id} (${sender(r) === 'C' ? 'the second installation' : 'the engine'}) on ${lineId} took the line to ${spent} for ${receivedThen} verified unit(s) at ${line.priceUnitMinor}, after ${other.id} (${sender(other) === 'C' ? 'the second installation' : 'the engine'}) at ${other.createdAt}`;
        if (!isInFlight) violations.push(`DUPLICATE REFUND ACROSS INSTALLATIONS: ${what}, though its sender had read the order's refunds since`);
        else if (!isRaised) violations.push(`DUPLICATE IN FLIGHT NOT RAISED: ${what}, and the engine raised neither REFUND_EXCEEDS_RECEIPT line:${lineId} nor FOREIGN_WRITE refund:${secondOfPair.id}`);
        else bump('crossEngineDuplicatesInFlightRaised');
      }
    }
    // Someone else refunding a line of a return the engine holds is FOREIGN_WRITE (refunds and stock paused until a
    // person acknowledges it): raised for each such refund, whatever became of it since.
    // A database put back from a backup cannot tell a refund made before it was put back from one of its own earlier
    // copy's: only those made since must raise it (the others still count in the line's money and its detectors), and
    // "since" is on the engine's clock, which a clockSkew fault may have put up to 90 minutes off.
    // Nor can it tell one made before it first saw any return (the engine down, or its first polls refused, since the
    // run began): what Mirakl shows from before is not its to explain (engine-repo firstSeenAt), on the same stored time.
    const told = (x: { createdAt: string }) =>
      firstSeenAt !== null &&
      Date.parse(x.createdAt) >= firstSeenAt &&
      (input.lastRestoreAt === null || input.lastRestoreAt === undefined || Date.parse(x.createdAt) >= input.lastRestoreAt + restoreClockMarginMs);
    for (const r of backOffice.filter(told)) {
      // Taken for ours by a probe (the same amount as a refund of ours whose answer was lost): attribution, not money
      // (see PHANTOM REFUND below); it is not someone else's write as far as the engine can tell.
      if (claimed.has(r.id)) continue;
      const returnId = returnOfLineEarly.get(lineId);
      if (!returnId || !ourReturnIds.has(returnId) || (r.amountMinor <= 0 && r.shippingMinor <= 0)) continue;
      if (db.prepare(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND subject_key = ?`).get(`refund:${r.id}`)) bump('foreignWritesRaised');
      else violations.push(`FOREIGN WRITE NOT RAISED: refund ${r.id} of ${r.amountMinor} (+ shipping ${r.shippingMinor}) on ${lineId} was made outside the app on return ${returnId}, and no FOREIGN_WRITE refund:${r.id} was raised`);
    }
    // A second installation's refund on a line of a return the engine holds is someone else's write too, whether the
    // engine adopted it as the refund it was about to make (via the ledger: recorded, still raised, so a person learns
    // of the other installation) or not. Only one a probe took for the engine's own lost refund is not told apart.
    for (const r of fromSecond.filter(told)) {
      bump('secondEngineRefundsMade');
      const isTakenForOurs = db
        .prepare(`SELECT 1 FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed' AND refund_id = ? AND coalesce(json_extract(outcome, '$.via'), '') != 'ledger'`)
        .get(r.id);
      if (isTakenForOurs) {
        bump('secondEngineRefundsTakenForOurs');
        continue;
      }
      const returnId = returnOfLineEarly.get(lineId);
      if (!returnId || !ourReturnIds.has(returnId) || (r.amountMinor <= 0 && r.shippingMinor <= 0)) continue;
      if (db.prepare(`SELECT 1 FROM exceptions WHERE type = 'FOREIGN_WRITE' AND subject_key = ?`).get(`refund:${r.id}`)) bump('secondEngineRefundsRaised');
      else violations.push(`FOREIGN WRITE NOT RAISED: refund ${r.id} of ${r.amountMinor} on ${lineId} was made by a second installation on return ${returnId}, and no FOREIGN_WRITE refund:${r.id} was raised`);
    }
    // Money the back office paid beyond what ReBound verified is the engine's to report (every refund of the line
    // counts, ours or not): REFUND_EXCEEDS_RECEIPT for the line, or REFUND_WITHOUT_RECEIPT for each refund when
    // nothing of the line was verified.
    if (backOffice.length) {
      const verified = (receivedByLine.get(lineId) ?? []).filter((u) => !unknownFromSecond.has(u.ro)).length;
      if (verified === 0) {
        for (const r of backOffice) {
          if (r.amountMinor > 0 && !isOpen('REFUND_WITHOUT_RECEIPT', `refund:${r.id}`)) {
            violations.push(`BACK-OFFICE REFUND NOT RAISED: refund ${r.id} of ${r.amountMinor} on ${lineId} was made outside the app with no unit verified, and no REFUND_WITHOUT_RECEIPT is open`);
          } else if (r.amountMinor > 0) bump('backOfficeRefundsRaised');
        }
      } else if (total > verified * line.priceUnitMinor + tolerance) {
        if (!isOpen('REFUND_EXCEEDS_RECEIPT', `line:${lineId}`)) {
          violations.push(`BACK-OFFICE REFUND NOT RAISED: ${lineId} was refunded ${total} in all (${backOffice.length} refund(s) outside the app) for ${verified} verified unit(s) at ${line.priceUnitMinor}, and no REFUND_EXCEEDS_RECEIPT is open`);
        } else bump('backOfficeRefundsRaised');
      }
    }
    for (const i of refundIntents.filter((x) => x.line === lineId && x.state === 'confirmed' && x.refundId)) {
      if (refunds.some((r) => r.id === i.refundId)) continue;
      // Mirakl has no idempotency key: a back-office refund of the very amount, made after ours was planned and while
      // ours was lost, reads in the ledger exactly as ours would, and the probe takes it for ours. The customer is paid
      // once either way (the over-refund checks above count every refund); it is attribution, not money.
      if (backOffice.some((r) => r.id === i.refundId)) bump('backOfficeRefundsTakenForOurs');
      // Likewise a second installation's refund the engine recorded as its own (found already made, or by a probe).
      else if (fromSecond.some((r) => r.id === i.refundId)) bump('secondEngineRefundsAdopted');
      else violations.push(`PHANTOM REFUND: intent ${i.id} says Mirakl refund ${i.refundId} on ${lineId}, which Mirakl does not have`);
    }
  }
  const mapped = new Set(mappings.reasonCodes.reasons.map((r) => r.mirakl));
  const rt04Refused = new Set(input.pushRejections.filter((p) => p.operation === 'RT04').map((p) => p.returnId));
  const returnOfLine = new Map<string, string>();
  for (const r of truth.mirakl.returns) for (const l of r.lines) returnOfLine.set(l.orderLineId, r.id);
  const heldLines = new Set<string>();
  for (const [lineId, units] of receivedByLine) {
    const owed = units.filter((u) => u.grade !== 'D_DAMAGED').length;
    const line = sandbox.world.findLine(lineId)?.line;
    const returnId = returnOfLine.get(lineId);
    if (!line || !returnId || owed === 0) continue;
    bump('linesOwedRefund');
    const refundedMinor = (truth.mirakl.refundsByLine[lineId] ?? []).reduce((s, r) => s + r.amountMinor, 0);
    const refundedUnits = Math.floor((refundedMinor + centsPerUnit * line.quantity) / line.priceUnitMinor);
    if (refundedUnits >= Math.min(owed, line.quantity)) continue;
    const ret = truth.mirakl.returns.find((r) => r.id === returnId);
    if (ret && !ret.lines.every((l) => mapped.has(l.reasonCode))) continue;
    // A refused RT04 (label and tracking) holds nothing back: the return must still be received and refunded. Nor does
    // a short receipt explain a late unit: it says units did not arrive, and this one did.
    const hasLateUnit = units.some((u) => u.isLate);
    const why = openExceptions(returnId).filter((t) => !(t === 'STATUS_PUSH_REJECTED' && rt04Refused.has(returnId)) && !(t === 'SHORT_RECEIPT' && hasLateUnit));
    if (why.length === 0) {
      violations.push(
        `LOST REFUND: order line ${lineId} (return ${returnId}) has ${owed} registered unit(s)${hasLateUnit ? ` (${units.filter((u) => u.isLate).length} late)` : ''} but ${refundedUnits} refunded, and no open exception says why`,
      );
    } else {
      bump('refundsHeldByException');
      heldLines.add(lineId);
    }
  }
  // Late units: what became of each one ReBound registered, for the summary.
  for (const [lineId, units] of receivedByLine) {
    for (const u of units.filter((x) => x.isLate)) {
      bump('lateUnitsRegistered');
      const unit = unitOfItem.get(u.reboundItemId);
      const keys = unit ? (intentsOfUnit.get(unit) ?? []) : [];
      if (keys.length === 1 && refundIntents.some((i) => i.key === keys[0] && i.state === 'confirmed')) bump('lateUnitsRefunded');
      else if (heldLines.has(lineId)) bump('lateUnitsHeldByException');
      // Not owed (graded D_DAMAGED under an inspected-refund policy), or its line already refunded in full (the back office).
      else bump('lateUnitsSettledOtherwise');
    }
  }
  // Never closed while a unit ReBound verified is unrefunded, unless a person accepted the line as it stands.
  const closes = checkClosesAfterRefunds(sandbox, db);
  violations.push(...closes.violations);
  bump('closedReturnsChecked', closes.checked);

  // Status pushes Mirakl refused: each raised as STATUS_PUSH_REJECTED for its return.
  for (const p of input.pushRejections) {
    bump('pushRejections');
    const subject = `${p.operation.toLowerCase()}:${p.returnId}`;
    const raised = db.prepare(`SELECT 1 FROM exceptions WHERE type = 'STATUS_PUSH_REJECTED' AND subject_key = ?`).get(subject);
    if (!raised) violations.push(`PUSH REJECTION NOT RAISED: Mirakl refused ${p.operation} for return ${p.returnId} and no STATUS_PUSH_REJECTED ${subject} was raised`);
  }

  // 5. Returns and events: nothing Mirakl or ReBound reported is lost, and the engine's view ends where theirs does.
  const ourReturns = new Map(all<{ id: string; state: string }>(`SELECT id, state FROM mirakl_returns`).map((r) => [r.id, r.state]));
  const liveRos = new Map<string, typeof truth.rebound.returnOrders>();
  for (const ro of truth.rebound.returnOrders) {
    if (ro.status === 'CANCELLED') continue;
    liveRos.set(ro.clientOrderId, [...(liveRos.get(ro.clientOrderId) ?? []), ro]);
    if (ourOrders.has(ro.reboundOrderId)) continue;
    const heldFor = truth.mirakl.returns.filter((r) => r.orderId === ro.clientOrderId && isOpen('RETURN_NOT_CREATED', r.id));
    if (unknownFromSecond.has(ro.reboundOrderId) && heldFor.length) bump('secondEngineReturnOrdersAwaitingPerson');
    else violations.push(`ORPHAN RETURN ORDER: ReBound holds ${ro.reboundOrderId} for ${ro.clientOrderId}, unknown to the engine`);
  }
  for (const [orderId, ros] of liveRos) if (ros.length > 1) violations.push(`DUPLICATE RETURN ORDER: order ${orderId} has ${ros.length} live ReBound return orders`);
  for (const r of truth.mirakl.returns) {
    bump('returns');
    const state = ourReturns.get(r.id);
    if (state === undefined) {
      violations.push(`LOST RETURN: Mirakl return ${r.id} (${r.state}) was never recorded`);
      continue;
    }
    if (state !== r.state) violations.push(`STALE RETURN: return ${r.id} is ${r.state} in Mirakl but ${state} in the engine`);
    const isEligible = r.lines.every((l) => mapped.has(l.reasonCode)) && sandbox.world.visibleOrder(r.orderId) && !['REFUSED', 'CANCELED'].includes(r.state);
    if (!isEligible) continue;
    bump('returnsEligible');
    if (rt04Refused.has(r.id)) {
      const isRegistered = (liveRos.get(r.orderId) ?? []).some((ro) => registeredAt.has(ro.reboundOrderId));
      const why = openExceptions(r.id).filter((t) => t !== 'STATUS_PUSH_REJECTED');
      if (isRegistered && !['RECEIVED', 'CLOSED'].includes(r.state) && why.length === 0) {
        violations.push(`RT04 REFUSAL HELD THE RETURN: Mirakl refused RT04 for ${r.id}; ReBound registered its units but the return is ${r.state} in Mirakl and no other exception says why`);
      } else if (isRegistered) bump('rt04RefusedReturnsReceived');
    }
    if ((liveRos.get(r.orderId) ?? []).length === 0 && openExceptions(r.id).length === 0) {
      violations.push(`RETURN NOT IN REBOUND: return ${r.id} (order ${r.orderId}) never reached ReBound and no open exception says why`);
    }
  }
  const units = all<{ id: string; return_id: string; rebound_item_id: string | null; stage: string; grade: string | null; received_sku: string | null; offer_sku: string }>(
    `SELECT id, return_id, rebound_item_id, stage, grade, received_sku, offer_sku FROM units`,
  );
  const unitByItem = new Map(units.filter((u) => u.rebound_item_id).map((u) => [u.rebound_item_id as string, u]));
  const ourRoStatus = new Map(all<{ id: string; status: string }>(`SELECT rebound_order_id AS id, status FROM rebound_return_orders`).map((r) => [r.id, r.status]));
  for (const ro of truth.rebound.returnOrders) {
    const ours = ourRoStatus.get(ro.reboundOrderId);
    if (ours === undefined) continue;
    bump('returnOrders');
    // The engine follows a return order until ReBound has processed it; what happens to the goods after that
    // (sent back to the customer) changes nothing it owns.
    const expectedRank = Math.min(statusRank(ro.status) ?? -1, returnOrderStatusRank.PROCESSED);
    if ((statusRank(ours) ?? -1) < expectedRank) violations.push(`STALE RETURN ORDER: ${ro.reboundOrderId} is ${ro.status} in ReBound but ${ours} in the engine`);
    const isProcessed = ro.statusHistory.some((h) => h.status === 'PROCESSED');
    const isRegistered = registeredAt.has(ro.reboundOrderId);
    for (const u of ro.units) {
      const unit = unitByItem.get(u.reboundItemId);
      if (!unit) continue;
      const expected = !isRegistered ? null : !u.isReceived ? 'missing' : isProcessed && u.fate === 'announced' ? 'graded' : 'registered';
      if (expected === 'missing' && unit.stage !== 'missing') violations.push(`LOST EVENT: unit ${unit.id} never arrived at ReBound but is ${unit.stage} in the engine`);
      if (expected === 'graded' && (unit.stage !== 'graded' || unit.grade !== u.grade)) {
        violations.push(`LOST EVENT: unit ${unit.id} was graded ${u.grade} by ReBound but is ${unit.stage}${unit.grade ? ` ${unit.grade}` : ''} in the engine`);
      }
      if (expected === 'registered' && u.fate === 'announced' && !['registered', 'graded'].includes(unit.stage)) {
        violations.push(`LOST EVENT: unit ${unit.id} was registered by ReBound but is ${unit.stage} in the engine`);
      }
    }
  }
  const events = new Set(all<{ key: string }>(`SELECT key FROM rebound_events WHERE source = 'webhook'`).map((e) => e.key));
  for (const id of input.acknowledged) if (!events.has(id)) violations.push(`LOST NOTIFICATION: the receiver acknowledged delivery ${id} but it is not stored`);
  bump('notificationsStored', events.size);
  const pending = all<{ key: string }>(
    `SELECT key FROM rebound_events WHERE outcome = 'pending' AND rebound_order_id IN (SELECT rebound_order_id FROM rebound_return_orders)`,
  );
  if (pending.length) violations.push(`UNAPPLIED NOTIFICATIONS: ${pending.length} notification(s) of known return orders still pending (${pending[0]?.key})`);

  // 6. Stock: each sellable unit restocked exactly once, on its own offer, and Mirakl's quantities agree.
  const overrides = new Map(mappings.skuOffers.overrides.map((o) => [o.orderSku, o]));
  const increments = new Map(
    all<{ unit_id: string; offer_sku: string; state: string; import_intent_id: number | null }>(`SELECT unit_id, offer_sku, state, import_intent_id FROM stock_increments`).map((s) => [s.unit_id, s]),
  );
  const sellableUnits = new Set<string>();
  for (const ro of truth.rebound.returnOrders) {
    if (!ro.statusHistory.some((h) => h.status === 'PROCESSED')) continue;
    for (const u of ro.units) {
      if (!u.isReceived || u.fate !== 'announced' || !sellableOf(mappings, u.grade)) continue;
      const unit = unitByItem.get(u.reboundItemId);
      if (!unit) continue;
      bump('sellableUnits');
      sellableUnits.add(unit.id);
      const inc = increments.get(unit.id);
      const state = inc?.state ?? 'none';
      if (state === 'applied') continue;
      const override = overrides.get(unit.offer_sku);
      if (state === 'skipped' && override && 'restock' in override) continue;
      const explained =
        (inc?.import_intent_id && isOpen('OUTCOME_UNKNOWN', `intent:${inc.import_intent_id}`)) ||
        isOpen('OFFER_NOT_FOUND', unit.offer_sku) ||
        Boolean(db.prepare(`SELECT 1 FROM exceptions WHERE state != 'resolved' AND type IN ('STOCK_REJECTED', 'RESTOCK_UNCERTAIN') AND offer_sku = ?`).get(inc?.offer_sku ?? unit.offer_sku));
      if (!explained) violations.push(`LOST RESTOCK: sellable unit ${unit.id} (${unit.offer_sku}) is ${state} and no open exception says why`);
    }
  }
  for (const [unitId, inc] of increments) {
    if (inc.state === 'applied' && !sellableUnits.has(unitId)) violations.push(`WRONG RESTOCK: unit ${unitId} was restocked on ${inc.offer_sku} but ReBound did not grade it sellable`);
  }
  const appliedBySku = new Map<string, number>();
  for (const inc of increments.values()) if (inc.state === 'applied') appliedBySku.set(inc.offer_sku, (appliedBySku.get(inc.offer_sku) ?? 0) + 1);
  const unsettledSkus = new Set([...increments.values()].filter((i) => i.state === 'importing').map((i) => i.offer_sku));
  // Units sold while an import was on its way are overwritten by it: the engine must have measured them and raised
  // STOCK_OVERWRITTEN with exactly that many units (still open: nobody corrects stock in a chaos run).
  const raisedOverwrites = new Map<string, number>();
  for (const e of all<{ subject_key: string; offer_sku: string; cause: string }>(`SELECT subject_key, offer_sku, cause FROM exceptions WHERE type = 'STOCK_OVERWRITTEN' AND state != 'resolved'`)) {
    const intentId = Number(/:intent-(\d+)$/.exec(e.subject_key)?.[1]);
    const outcome = intents.find((i) => i.id === intentId)?.outcome;
    // Raised after a restore (`<sku>:restore-<n>`): the import that overwrote the sales is unknown to the database put
    // back, so the units are the ones Mirakl's quantity shows beyond the returned units, as its cause states.
    const afterRestore = /:restore-\d+$/.test(e.subject_key) ? Number(/Mirakl shows (\d+) unit\(s\)/.exec(e.cause)?.[1] ?? 0) : null;
    const units = afterRestore ?? (outcome ? ((JSON.parse(outcome) as { overwritten?: Record<string, number> }).overwritten?.[e.offer_sku] ?? 0) : 0);
    if (units <= 0) violations.push(`OVERWRITE WITHOUT UNITS: STOCK_OVERWRITTEN ${e.subject_key} names no units the import overwrote`);
    raisedOverwrites.set(e.offer_sku, (raisedOverwrites.get(e.offer_sku) ?? 0) + units);
    bump('overwrittenUnitsRaised', units);
  }
  const heldAfterRestore = new Map<string, number>();
  // Offers the restored database held no quantity of: its RESTOCK_UNCERTAIN asks a person to count the shelf, because
  // stock updates made before the restore (unknown to it) may have put units back and overwritten sales.
  const unknownBeforeRestore = new Set<string>();
  for (const inc of increments.values()) {
    if (inc.state !== 'rejected') continue;
    const held = db
      .prepare(`SELECT cause FROM exceptions WHERE type = 'RESTOCK_UNCERTAIN' AND state != 'resolved' AND offer_sku = ?`)
      .get(inc.offer_sku) as { cause: string } | undefined;
    if (held) {
      heldAfterRestore.set(inc.offer_sku, (heldAfterRestore.get(inc.offer_sku) ?? 0) + 1);
      if (/held no quantity of it from before/.test(held.cause) && /sales an update overwrote/.test(held.cause)) unknownBeforeRestore.add(inc.offer_sku);
    }
  }
  // Units the sku-offers mapping skipped after a restore, on an offer whose quantity could not be judged: an earlier copy
  // may have put them on sale before the mapping changed, and its RESTOCK_UNCERTAIN asks a person to count the shelf.
  for (const e of all<{ offer_sku: string; cause: string }>(
    `SELECT offer_sku, cause FROM exceptions WHERE type = 'RESTOCK_UNCERTAIN' AND state != 'resolved' AND subject_key LIKE '%:never-restock-unknown'`,
  )) {
    const skipped = (db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE offer_sku = ? AND state = 'skipped' AND skipped_by = 'mapping'`).get(e.offer_sku) as { n: number }).n;
    heldAfterRestore.set(e.offer_sku, (heldAfterRestore.get(e.offer_sku) ?? 0) + skipped);
    if (/held no quantity of it from before/.test(e.cause) && /sales an update overwrote/.test(e.cause)) unknownBeforeRestore.add(e.offer_sku);
  }
  const soldDuringImports = sandbox.world.ordersList().filter((o) => o.commercialId.startsWith('MPSALE'));
  bump('unitsSoldDuringImports', soldDuringImports.reduce((n, o) => n + o.lines.reduce((m, l) => m + l.quantity, 0), 0));
  // A second installation's stock imports (secondEngineOwnDb) set absolute quantities too, from its own reads: it
  // restocks units this engine restocked as well (its database has them as pending), and an import of its computed
  // before one of ours ran puts our units back out (or ours puts its units out). Neither engine can see the other's
  // units; this engine notices another writer only when a quantity it reads back after its own import fits neither that
  // import nor the sales (FOREIGN_WRITE), or attributes the difference to sales (STOCK_OVERWRITTEN). So the ground truth
  // can hold only this: what Mirakl shows beyond (or short of) what this engine accounts for is no more than the second
  // installation's imports changed that offer by — each of its lines as Mirakl applied it (from → to, in the truth),
  // its increases and its decreases summed apart. An offer it never touched must still agree exactly, and any
  // difference it cannot explain is a unit restocked twice (or lost) by this engine.
  const secondImports = input.secondEngine?.imports ?? new Set<string>();
  const bySecond = new Map<string, { up: number; down: number }>();
  for (const imp of truth.mirakl.stockImports) {
    if (!secondImports.has(imp.importId)) continue;
    for (const a of imp.applied) {
      const d = bySecond.get(a.shopSku) ?? { up: 0, down: 0 };
      if (a.to > a.from) d.up += a.to - a.from;
      else d.down += a.from - a.to;
      bySecond.set(a.shopSku, d);
    }
  }
  const foreignStock = new Set(all<{ offer_sku: string }>(`SELECT offer_sku FROM exceptions WHERE type = 'FOREIGN_WRITE' AND offer_sku IS NOT NULL`).map((e) => e.offer_sku));
  // Nobody but the second installation sets stock in a chaos run: a FOREIGN_WRITE on an offer it never set is the
  // engine taking its own imports, or sales, for someone else's write (it pauses the shop's refunds and stock for nothing).
  for (const sku of foreignStock) {
    if (!bySecond.has(sku)) violations.push(`FALSE FOREIGN_WRITE: the stock of ${sku} was raised as someone else's write, but no other installation set it`);
  }
  bump('stalledImportsRaised', all(`SELECT 1 FROM exceptions WHERE type = 'STOCK_IMPORT_STALLED'`).length);
  for (const [sku, s] of Object.entries(truth.mirakl.stock)) {
    const restocked = appliedBySku.get(sku) ?? 0;
    if (s.initial - s.sold < 0) continue; // sold out: Mirakl clamps at zero, the arithmetic below does not hold
    bump('restockedUnits', restocked);
    const expected = s.initial - s.sold + restocked;
    const overwritten = raisedOverwrites.get(sku) ?? 0;
    // Units held for a person after a restore (RESTOCK_UNCERTAIN) may already be in Mirakl's quantity, imported by an
    // earlier copy of the database: up to that many more is the question the exception puts, not a mismatch.
    const held = heldAfterRestore.get(sku) ?? 0;
    // Where the database knew nothing of the offer from before, sales an earlier copy's update overwrote may be in the
    // quantity too: at most every unit sold, the question the exception puts (count the shelf).
    const overwrittenUnknown = unknownBeforeRestore.has(sku) ? s.sold : 0;
    const isHeldQuestion = held > 0 && s.quantity >= expected + overwritten && s.quantity <= expected + overwritten + held + overwrittenUnknown;
    const second = bySecond.get(sku);
    if (second) {
      bump('offersSetBySecondEngine');
      const off = s.quantity - (expected + overwritten);
      if (off !== 0) {
        bump('offersOffBySecondEngine');
        bump('unitsOffBySecondEngine', Math.abs(off));
        if (foreignStock.has(sku)) bump('offersOffBySecondEngineRaised');
      }
      // Both at once: the second installation's imports and the units held for a person after a restore.
      if (off <= second.up + (held > 0 ? held + overwrittenUnknown : 0) && off >= -second.down) continue;
    }
    if (s.quantity !== expected + overwritten && !isHeldQuestion && !unsettledSkus.has(sku)) {
      violations.push(
        `STOCK MISMATCH: Mirakl holds ${s.quantity} of ${sku}; ${s.initial} initial − ${s.sold} sold + ${restocked} restocked = ${expected}` +
          (overwritten ? `, and STOCK_OVERWRITTEN names ${overwritten} unit(s) too many` : s.quantity > expected ? ', and no STOCK_OVERWRITTEN names the units too many' : '') +
          (second ? `; the second installation's imports moved it up ${second.up} and down ${second.down}` : ''),
      );
    }
  }
  return { violations, stats };
}
