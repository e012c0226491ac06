import type { Database } from 'better-sqlite3';
import type { Sandbox } from '../../core/sandbox/index';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';

// The money and stock invariants, checked against the sandbox's ground truth rather than against what the engine
// believes: what ReBound physically received, what Mirakl really refunded, what stock Mirakl really holds.

export interface InvariantReport {
  violations: string[];
  stats: Record<string, number>;
}

export function checkInvariants(sandbox: Sandbox, db: Database, options: { isQuiet?: boolean } = {}): InvariantReport {
  const truth = sandbox.truth();
  const violations: string[] = [];
  const mapped = new Set(loadMappings(shippedMappingsDir).reasonCodes.reasons.map((r) => r.mirakl));
  const stats: Record<string, number> = {};
  const bump = (k: string, n = 1) => {
    stats[k] = (stats[k] ?? 0) + n;
  };

  // ReBound: at most one live return order per Mirakl return (the sandbox raises one return per order).
  const rosByOrder = new Map<string, typeof truth.rebound.returnOrders>();
  for (const ro of truth.rebound.returnOrders) {
    if (ro.status === 'CANCELLED') continue;
    rosByOrder.set(ro.clientOrderId, [...(rosByOrder.get(ro.clientOrderId) ?? []), ro]);
  }
  for (const [orderId, ros] of rosByOrder) if (ros.length > 1) violations.push(`order ${orderId} has ${ros.length} ReBound return orders`);

  // Every eligible Mirakl return is in ReBound exactly once.
  for (const r of truth.mirakl.returns) {
    bump('returns');
    const isAccepted = r.history.some((h) => h.includes('>IN_PROGRESS'));
    const isMapped = r.lines.every((l) => mapped.has(l.reasonCode));
    const isVisible = Boolean(sandbox.world.visibleOrder(r.orderId));
    if (!isAccepted || !isMapped || !isVisible) {
      bump('returnsNotEligible');
      continue;
    }
    bump('returnsEligible');
    const ros = rosByOrder.get(r.orderId) ?? [];
    if (ros.length !== 1) violations.push(`return ${r.id} (order ${r.orderId}) has ${ros.length} ReBound return orders, expected 1`);
  }

  // Refunds: one per arrival of a line's units (the parcel, then each late unit), never without a verified receipt,
  // always the verified units' worth.
  const receivedByLine = new Map<string, number>();
  const arrivalsByLine = new Map<string, Set<string>>();
  for (const ro of truth.rebound.returnOrders) {
    for (const u of ro.units) {
      if (!u.isReceived || u.fate !== 'announced') continue;
      receivedByLine.set(u.clientItemId, (receivedByLine.get(u.clientItemId) ?? 0) + 1);
      arrivalsByLine.set(u.clientItemId, (arrivalsByLine.get(u.clientItemId) ?? new Set()).add(u.registeredAt ?? ''));
    }
  }
  for (const [lineId, refunds] of Object.entries(truth.mirakl.refundsByLine)) {
    bump('refundedLines');
    const arrivals = Math.max(1, arrivalsByLine.get(lineId)?.size ?? 0);
    if (refunds.length > arrivals) {
      violations.push(`DUPLICATE REFUND: order line ${lineId} was refunded ${refunds.length} times (${refunds.map((r) => r.amountMinor).join(', ')}) for ${arrivals} arrival(s) of its units`);
    }
    const received = receivedByLine.get(lineId) ?? 0;
    const line = sandbox.world.findLine(lineId)?.line;
    if (received === 0) violations.push(`REFUND WITHOUT RECEIPT: order line ${lineId} was refunded but ReBound received none of its units`);
    const total = refunds.reduce((s, r) => s + r.amountMinor, 0);
    // Truth is gross. A TAX_EXCLUDED refund of n units is n net unit prices plus its share of the line's tax, which may
    // round a cent per unit away from n gross unit prices: that much is rounding, not money lost or given away.
    const slack = truth.mirakl.taxMode === 'TAX_EXCLUDED' ? received : 0;
    if (line && total > received * line.priceUnitMinor + slack) violations.push(`order line ${lineId} refunded ${total} for ${received} received unit(s) at ${line.priceUnitMinor}`);
    if (line && Math.abs(total - received * line.priceUnitMinor) > slack) violations.push(`order line ${lineId} refunded ${total}, expected ${received * line.priceUnitMinor} for ${received} unit(s)`);
  }

  if (options.isQuiet) {
    for (const [lineId, received] of receivedByLine) {
      if (received > 0 && !truth.mirakl.refundsByLine[lineId]) {
        const ret = truth.mirakl.returns.find((r) => r.lines.some((l) => l.orderLineId === lineId));
        if (ret && ret.lines.every((l) => mapped.has(l.reasonCode))) violations.push(`order line ${lineId}: ${received} unit(s) received by ReBound but never refunded`);
      }
    }
  }

  // Stock: each sellable unit restocked once, on its own SKU; nothing else restocked.
  const sellable = new Map<string, number>();
  for (const ro of truth.rebound.returnOrders) {
    // A grade is only real once the hub has processed the parcel (truth also holds the grade it will give).
    if (!ro.statusHistory.some((h) => h.status === 'PROCESSED')) continue;
    for (const u of ro.units) {
      if (u.isReceived && u.fate === 'announced' && (u.grade === 'A_SELLABLE' || u.grade === 'B_SELLABLE_MINOR')) {
        sellable.set(u.sku, (sellable.get(u.sku) ?? 0) + 1);
        bump('sellableUnits');
      }
    }
  }
  const restocked = new Map<string, number>();
  for (const row of db.prepare(`SELECT payload, outcome FROM intents WHERE kind = 'stock.import' AND state = 'confirmed'`).all() as { payload: string; outcome: string }[]) {
    const payload = JSON.parse(row.payload) as { lines: { sku: string; from: number; to: number; units: string[] }[] };
    for (const l of payload.lines) {
      if (l.to - l.from !== l.units.length) violations.push(`import line for ${l.sku} adds ${l.to - l.from} but carries ${l.units.length} unit(s)`);
    }
  }
  for (const row of db.prepare(`SELECT offer_sku, count(*) AS n FROM stock_increments WHERE state = 'applied' GROUP BY offer_sku`).all() as { offer_sku: string; n: number }[]) {
    restocked.set(row.offer_sku, row.n);
    bump('restockedUnits', row.n);
  }
  for (const [sku, n] of restocked) if (n > (sellable.get(sku) ?? 0)) violations.push(`STOCK: ${sku} restocked ${n} unit(s) but only ${sellable.get(sku) ?? 0} sellable came back`);
  if (options.isQuiet) {
    // A unit may wait for a person, never silently: an import whose outcome is unknown (never re-sent on a guess) or
    // that Mirakl has not run for an hour, a refused import, or an offer Mirakl lacks or sends unreadable — each with an open exception that says so.
    const isExplained = db.prepare(`SELECT 1 FROM stock_increments s WHERE s.offer_sku = ? AND s.state != 'applied' AND (
        EXISTS (SELECT 1 FROM exceptions e WHERE e.state != 'resolved' AND e.type IN ('OUTCOME_UNKNOWN', 'STOCK_IMPORT_STALLED') AND e.subject_key = 'intent:' || s.import_intent_id)
        OR EXISTS (SELECT 1 FROM exceptions e WHERE e.state != 'resolved' AND e.type IN ('STOCK_REJECTED', 'OFFER_NOT_FOUND', 'RESTOCK_UNCERTAIN') AND e.offer_sku = s.offer_sku)
        OR EXISTS (SELECT 1 FROM exceptions e WHERE e.state != 'resolved' AND e.type = 'MALFORMED_RECORD' AND e.subject_key LIKE '%' || s.offer_sku || '%'))`);
    for (const [sku, n] of sellable) {
      if ((restocked.get(sku) ?? 0) < n && !isExplained.get(sku)) violations.push(`STOCK: ${sku} had ${n} sellable unit(s) back but ${restocked.get(sku) ?? 0} restocked`);
    }
  }
  const applied = new Map<string, number>();
  for (const imp of truth.mirakl.stockImports) for (const a of imp.applied) applied.set(a.shopSku, (applied.get(a.shopSku) ?? 0) + 1);
  bump('stockImports', truth.mirakl.stockImports.length);

  const closes = checkClosesAfterRefunds(sandbox, db);
  violations.push(...closes.violations);
  bump('closedReturnsChecked', closes.checked);

  // Injected physical divergences are surfaced.
  const exceptionFor = (type: string, key: string) =>
    Boolean(db.prepare('SELECT 1 FROM exceptions WHERE type = ? AND (subject_key = ? OR return_id = ?)').get(type, key, key));
  for (const ro of truth.rebound.returnOrders) {
    const returnId = (db.prepare('SELECT return_id FROM rebound_return_orders WHERE rebound_order_id = ?').get(ro.reboundOrderId) as { return_id: string } | undefined)?.return_id;
    if (!returnId) continue;
    if (ro.status === 'EXPIRED' && !exceptionFor('PARCEL_STALLED', returnId)) {
      violations.push(`return ${returnId}: the parcel was never sent and ReBound expired it, but no PARCEL_STALLED exception`);
    }
    const isRegistered = ro.statusHistory.some((h) => h.status === 'ITEMS_REGISTERED');
    if (!isRegistered) continue;
    if ((ro.anomalies.includes('shortReceipt') || ro.anomalies.includes('wrongSku')) && !exceptionFor('SHORT_RECEIPT', returnId)) {
      violations.push(`return ${returnId}: ReBound received fewer units than announced but no SHORT_RECEIPT exception`);
    }
    if (ro.extraUnits.some((e) => e.isReceived) && !exceptionFor('UNEXPECTED_ITEM', ro.reboundOrderId)) {
      violations.push(`return ${returnId}: ReBound received an item it could not match but no UNEXPECTED_ITEM exception`);
    }
  }
  return { violations, stats };
}

/**
 * A return is closed (RT27) only once every unit ReBound had verified by then is refunded, or once a person accepted
 * the line as it stands. Checked at the moment Mirakl closed it, from the ground truth: the units ReBound had
 * registered by then (a late unit counts from its own registration) against the refunds Mirakl had made by then, the
 * back office's included. A unit graded D_DAMAGED is not owed (an inspected-refund policy refunds it not at all).
 */
export function checkClosesAfterRefunds(sandbox: Sandbox, db: Database): { violations: string[]; checked: number } {
  const truth = sandbox.truth();
  // A person accepted the line as it stands: its REFUND_STALLED or REFUND_AMOUNT_MISMATCH resolved by someone, not by a pass.
  const accepted = db.prepare(`SELECT 1 FROM exceptions WHERE type IN ('REFUND_STALLED', 'REFUND_AMOUNT_MISMATCH') AND subject_key = ? AND state = 'resolved'
      AND resolved_by IS NOT NULL AND resolved_by != 'auto'`);
  const violations: string[] = [];
  // A TAX_EXCLUDED refund of n units may round a cent per unit below n gross unit prices.
  const centsPerUnit = truth.mirakl.taxMode === 'TAX_EXCLUDED' ? 1 : 0;
  const verified = new Map<string, number[]>();
  for (const ro of truth.rebound.returnOrders) {
    for (const u of ro.units) {
      if (!u.isReceived || u.fate !== 'announced' || u.registeredAt === null || u.grade === 'D_DAMAGED') continue;
      verified.set(u.clientItemId, [...(verified.get(u.clientItemId) ?? []), Date.parse(u.registeredAt)]);
    }
  }
  let checked = 0;
  for (const r of truth.mirakl.returns) {
    const close = r.history.find((h) => h.split(' ')[1]?.endsWith('>CLOSED'));
    if (!close) continue;
    checked++;
    const closedAt = Date.parse(close.split(' ')[0] ?? '');
    for (const l of r.lines) {
      const line = sandbox.world.findLine(l.orderLineId)?.line;
      const owed = (verified.get(l.orderLineId) ?? []).filter((at) => at <= closedAt).length;
      if (!line || owed === 0) continue;
      const refundedMinor = (truth.mirakl.refundsByLine[l.orderLineId] ?? []).filter((f) => Date.parse(f.createdAt) <= closedAt).reduce((s, f) => s + f.amountMinor, 0);
      const refundedUnits = Math.floor((refundedMinor + centsPerUnit * line.quantity) / line.priceUnitMinor);
      if (refundedUnits >= Math.min(owed, line.quantity) || accepted.get(`${r.id}:${l.orderLineId}`)) continue;
      violations.push(
        `CLOSED BEFORE REFUNDED: return ${r.id} was closed at ${new Date(closedAt).toISOString()} while ReBound had verified ${owed} unit(s) of ${l.orderLineId} and ${refundedUnits} were refunded, with no person's acceptance`,
      );
    }
  }
  return { violations, checked };
}

/**
 * One line on where the stock pipeline stands, for a failure's output (CI shows its tail): units by state and when the
 * last was applied, imports by state and the one in flight, the latest exports, the stock cursors, the sales that could
 * not be read, and the open exceptions by type (a FOREIGN_WRITE or RESTORED_DATABASE named, as they pause stock).
 */
export function stockDiagnosis(db: Database): string {
  const all = <T>(sql: string) => db.prepare(sql).all() as T[];
  const facts = {
    units: all(`SELECT state, count(*) AS n, max(updated_at) AS last FROM stock_increments GROUP BY state`),
    imports: all(`SELECT state, json_extract(outcome, '$.status') AS status, count(*) AS n, max(updated_at) AS last FROM intents WHERE kind = 'stock.import' GROUP BY 1, 2`),
    unfinished: all(`SELECT id, state, updated_at, json_extract(outcome, '$.status') AS status FROM intents WHERE kind = 'stock.import'
      AND state NOT IN ('failed') AND coalesce(json_extract(outcome, '$.status'), '') NOT IN ('COMPLETE', 'FAILED', 'SETTLED') ORDER BY id LIMIT 5`),
    exports: all(`SELECT id, mode, state, requested_at, taken_from_mirakl, taken_by_mirakl, error FROM offer_exports ORDER BY id DESC LIMIT 3`),
    cursors: all(`SELECT feed, value FROM sync_cursors WHERE feed LIKE 'stock.%'`),
    unreadableSales: all(`SELECT count(*) AS n, count(offer_sku) AS withSku, min(created_mirakl) AS first, max(created_mirakl) AS last FROM offer_sales WHERE quantity IS NULL`),
    open: all(`SELECT type, count(*) AS n FROM exceptions WHERE state != 'resolved' GROUP BY type`),
    pauses: all(`SELECT type, subject_key, state, detected_at FROM exceptions WHERE type IN ('FOREIGN_WRITE', 'RESTORED_DATABASE') LIMIT 5`),
  };
  return `STOCK DIAGNOSIS ${JSON.stringify(facts)}`;
}
