import type { Database } from 'better-sqlite3';
import type { ExceptionStore } from './exceptions';
import type { Clock } from '../ports';

// ReBound owns physical status. Each unit of a return line moves only when ReBound says so, and only forward:
// a late, duplicated or reordered event can never move a unit back, so a unit that was registered stays
// registered whatever arrives after — unless ReBound itself contradicts it (the order EXPIRED: nothing came back). Its
// latest fact wins: the unit is lost and no longer a receipt, so no figure counts it both ways, and the contradiction is
// raised (UNIT_FACTS_CONTRADICT) with any refund already sent for it. Stage ranks make "forward" a comparison. A unit
// missing when ReBound registered the order's contents can still turn up and be registered (a late unit), so `missing`
// ranks below `registered`.

export const returnOrderStatusRank = {
  CREATED: 0,
  LABEL_ISSUED: 1,
  IN_CARRIER_NETWORK: 2,
  AT_HUB: 3,
  ITEMS_REGISTERED: 4,
  PROCESSED: 5,
  DELIVERED_TO_CLIENT: 6,
  EXPIRED: 7,
  CANCELLED: 7,
} as const;

/** The rank of a status string, or undefined for a value ReBound added that we do not know yet. */
export function statusRank(status: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(returnOrderStatusRank, status) ? returnOrderStatusRank[status as keyof typeof returnOrderStatusRank] : undefined;
}

export const unitStageRank = { requested: 0, in_transit: 1, at_hub: 2, missing: 3, registered: 4, graded: 5, lost: 5 } as const;
export type UnitStage = keyof typeof unitStageRank;

export const notAvailable = 'Not available';

/** The fields of a ReBound return order the engine relies on (client schemas may carry more). */
export interface ReturnOrderSnapshot {
  reboundOrderId: string;
  clientOrderId: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  parcels: { trackingNumber: string; carrier: string | null }[];
  items: {
    reboundItemId: string;
    clientItemId: string;
    sku: string;
    ean?: string | null;
    quantity: string | number;
    reasonCode: string;
    received: string | null;
    grade: string | null;
    disposition: string | null;
  }[];
}

export interface UnitRow {
  id: string;
  return_id: string;
  order_line_id: string;
  offer_sku: string;
  rebound_item_id: string | null;
  stage: UnitStage;
  stage_rank: number;
  grade: string | null;
  is_sellable: number | null;
  received_sku: string | null;
}

export function createPhysicalStore(db: Database, clock: Clock, exceptions: ExceptionStore) {
  const iso = () => new Date(clock.now()).toISOString();
  const insertUnit = db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, updated_at)
    VALUES (@id, @returnId, @orderLineId, @offerSku, 'requested', 0, @now) ON CONFLICT (id) DO NOTHING`);
  const unitsOfReturn = db.prepare('SELECT * FROM units WHERE return_id = ? ORDER BY order_line_id, id');
  const unitsOfLine = db.prepare('SELECT * FROM units WHERE order_line_id = ? ORDER BY return_id, id');
  const advanceUnit = db.prepare(`UPDATE units SET stage = @stage, stage_rank = @rank, rebound_item_id = COALESCE(rebound_item_id, @reboundItemId),
      grade = COALESCE(@grade, grade), is_sellable = COALESCE(@isSellable, is_sellable), received_sku = COALESCE(@receivedSku, received_sku),
      registered_at = CASE WHEN @stage IN ('registered', 'graded') AND registered_at IS NULL THEN @now ELSE registered_at END,
      graded_at = CASE WHEN @stage = 'graded' AND graded_at IS NULL THEN @now ELSE graded_at END,
      updated_at = @now
    WHERE id = @id AND stage_rank < @rank`);
  const upsertOrder = db.prepare(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank,
      tracking_number, carrier, label_available, created_at, updated_at, synced_at, is_open)
    VALUES (@id, @clientOrderId, @returnId, @status, @rank, @trackingNumber, @carrier, @labelAvailable, @createdAt, @updatedAt, @now, @isOpen)
    ON CONFLICT (rebound_order_id) DO UPDATE SET
      status = CASE WHEN excluded.status_rank > rebound_return_orders.status_rank THEN excluded.status ELSE rebound_return_orders.status END,
      status_rank = max(excluded.status_rank, rebound_return_orders.status_rank),
      is_open = CASE WHEN excluded.status_rank > rebound_return_orders.status_rank THEN excluded.is_open ELSE rebound_return_orders.is_open END,
      tracking_number = COALESCE(excluded.tracking_number, rebound_return_orders.tracking_number),
      updated_at = excluded.updated_at, synced_at = excluded.synced_at`);
  const upsertItem = db.prepare(`INSERT INTO rebound_items (rebound_item_id, rebound_order_id, client_item_id, sku, ean, quantity, reason_code,
      grade, disposition, is_unexpected, updated_at)
    VALUES (@reboundItemId, @reboundOrderId, @clientItemId, @sku, @ean, @quantity, @reasonCode, @grade, @disposition, @isUnexpected, @now)
    ON CONFLICT (rebound_item_id) DO UPDATE SET grade = COALESCE(excluded.grade, rebound_items.grade),
      disposition = COALESCE(excluded.disposition, rebound_items.disposition), is_unexpected = max(excluded.is_unexpected, rebound_items.is_unexpected),
      updated_at = excluded.updated_at`);
  // ReBound's latest fact wins over one it contradicts: a unit it registered and then reported lost is lost, and no
  // longer a receipt (registered_at cleared, so no figure counts it as verified; nor is it restocked).
  const loseRegisteredUnit = db.prepare(`UPDATE units SET stage = 'lost', stage_rank = @rank, registered_at = NULL, is_sellable = NULL, updated_at = @now
    WHERE id = @id AND stage IN ('registered', 'graded')`);
  const refundsOfReturn = db.prepare(`SELECT state, payload FROM intents WHERE kind = 'mirakl.refund' AND subject = ? AND state IN ('sending', 'confirmed', 'uncertain')`);
  const orderOfReturn = db.prepare('SELECT * FROM rebound_return_orders WHERE return_id = ?');
  const tieItem = db.prepare('UPDATE units SET rebound_item_id = ? WHERE id = ? AND rebound_item_id IS NULL');
  const doubtRestock = db.prepare(`UPDATE units SET restock_in_doubt = @why, updated_at = @now
    WHERE return_id = @returnId AND stage = 'graded' AND restock_in_doubt IS NULL AND NOT EXISTS (SELECT 1 FROM stock_increments s WHERE s.unit_id = units.id)`);

  return {
    /** One unit per returned piece, created when the return is first seen. */
    createUnits(returnId: string, lines: { orderLineId: string; quantity: number; offerSku: string }[]): void {
      const now = iso();
      for (const line of lines) {
        for (let n = 1; n <= line.quantity; n++) {
          insertUnit.run({ id: `${returnId}:${line.orderLineId}:${n}`, returnId, orderLineId: line.orderLineId, offerSku: line.offerSku, now });
        }
      }
    },

    units: (returnId: string): UnitRow[] => unitsOfReturn.all(returnId) as UnitRow[],
    /**
     * Marks the units of a return graded now, not yet planned for restock, as units whose restock this database cannot
     * vouch for (`why`): they are held for a person when planned (restock.planSellableUnits). Returns how many.
     */
    doubtRestockOfGraded: (returnId: string, why: string): number => doubtRestock.run({ returnId, why, now: iso() }).changes,
    /** Every unit of an order line, on whichever of its returns. */
    unitsOfLine: (orderLineId: string): UnitRow[] => unitsOfLine.all(orderLineId) as UnitRow[],
    returnOrderOf: (returnId: string) =>
      orderOfReturn.get(returnId) as
        | { rebound_order_id: string; status: string; status_rank: number; tracking_number: string | null; carrier: string | null; is_open: number; synced_at: string }
        | undefined,

    /**
     * Applies ReBound's view of a return order. Everything moves forward only: the order's status by rank, each
     * unit by stage. Returns what changed, so the caller can plan the side effects that follow.
     */
    applySnapshot(returnId: string, ro: ReturnOrderSnapshot, sellableGrades: readonly string[]) {
      const now = iso();
      const rank = statusRank(ro.status);
      const changes = { unitsAdvanced: 0, unexpected: [] as string[], missing: [] as string[] };
      db.transaction(() => {
        const parcel = ro.parcels[0];
        upsertOrder.run({
          id: ro.reboundOrderId,
          clientOrderId: ro.clientOrderId,
          returnId,
          status: rank === undefined ? `UNKNOWN:${ro.status}` : ro.status,
          // An unknown status is recorded but moves nothing.
          rank: rank ?? -1,
          trackingNumber: parcel?.trackingNumber ?? null,
          carrier: parcel?.carrier ?? null,
          labelAvailable: parcel ? 1 : 0,
          createdAt: ro.createdAt,
          updatedAt: ro.updatedAt,
          now,
          isOpen: rank !== undefined && rank >= returnOrderStatusRank.PROCESSED ? 0 : 1,
        });
        const units = unitsOfReturn.all(returnId) as UnitRow[];
        const byLine = new Map<string, UnitRow[]>();
        for (const u of units) byLine.set(u.order_line_id, [...(byLine.get(u.order_line_id) ?? []), u]);
        const statusStage: UnitStage | null =
          rank === undefined ? null : rank >= returnOrderStatusRank.AT_HUB ? 'at_hub' : rank >= returnOrderStatusRank.IN_CARRIER_NETWORK ? 'in_transit' : null;
        const isRegistered = rank !== undefined && rank >= returnOrderStatusRank.ITEMS_REGISTERED && rank < returnOrderStatusRank.EXPIRED;

        // Each unit is tied to the ReBound item announced for it, once, the first time we see the return order
        // (before registration, so no extra item can be mistaken for an announced one). Items never tied to a
        // unit are extras: unexpected, wrong SKU, or anything ReBound could not match.
        const unitByItem = new Map(units.filter((u) => u.rebound_item_id).map((u) => [u.rebound_item_id as string, u]));
        if (!isRegistered || units.every((u) => !u.rebound_item_id)) {
          for (const [lineId, lineUnits] of byLine) {
            const free = lineUnits.filter((u) => !u.rebound_item_id);
            const candidates = ro.items
              .filter((i) => i.clientItemId === lineId && i.grade !== 'UNEXPECTED' && !unitByItem.has(i.reboundItemId))
              .sort((a, b) => (a.reboundItemId < b.reboundItemId ? -1 : 1));
            free.forEach((unit, k) => {
              const item = candidates[k];
              if (!item) return;
              tieItem.run(item.reboundItemId, unit.id);
              unit.rebound_item_id = item.reboundItemId;
              unitByItem.set(item.reboundItemId, unit);
            });
          }
        }

        for (const item of ro.items) {
          const unit = unitByItem.get(item.reboundItemId);
          const isUnexpected = !unit;
          upsertItem.run({
            reboundItemId: item.reboundItemId,
            reboundOrderId: ro.reboundOrderId,
            clientItemId: item.clientItemId,
            sku: item.sku,
            ean: item.ean ?? null,
            quantity: Number(item.quantity) || 0,
            reasonCode: item.reasonCode,
            grade: item.grade,
            disposition: item.disposition,
            isUnexpected: isUnexpected ? 1 : 0,
            now,
          });
          if (!unit) {
            if (item.received === '1' || (item.grade && item.grade !== 'NOT_RECEIVED')) changes.unexpected.push(`${item.reboundItemId} (${item.sku})`);
            continue;
          }
          let stage: UnitStage | null = statusStage;
          let grade: string | null = null;
          let isSellable: number | null = null;
          let receivedSku: string | null = null;
          if (item.received === '1' || (item.grade && item.grade !== 'NOT_RECEIVED' && item.grade !== 'UNEXPECTED')) {
            stage = 'registered';
            receivedSku = item.sku;
          }
          if (item.received === '0' || item.grade === 'NOT_RECEIVED') stage = isRegistered ? 'missing' : stage;
          if (item.grade && item.grade !== 'NOT_RECEIVED' && item.grade !== 'UNEXPECTED') {
            stage = 'graded';
            grade = item.grade;
            isSellable = sellableGrades.includes(item.grade) ? 1 : 0;
          }
          if (stage === null) continue;
          changes.unitsAdvanced += advanceUnit.run({
            id: unit.id,
            stage,
            rank: unitStageRank[stage],
            reboundItemId: item.reboundItemId,
            grade,
            isSellable,
            receivedSku,
            now,
          }).changes;
          if (stage === 'missing') changes.missing.push(unit.id);
        }
        // Units ReBound did not list at all once the contents are registered never arrived.
        if (isRegistered) {
          for (const unit of units) {
            if (unit.rebound_item_id && ro.items.some((i) => i.reboundItemId === unit.rebound_item_id)) continue;
            changes.unitsAdvanced += advanceUnit.run({ id: unit.id, stage: 'missing', rank: unitStageRank.missing, reboundItemId: null, grade: null, isSellable: null, receivedSku: null, now }).changes;
            changes.missing.push(unit.id);
          }
        }
        if (rank === returnOrderStatusRank.EXPIRED && ro.status === 'EXPIRED') {
          // Read again: this very snapshot may have registered units a moment ago (its items still show received).
          const current = unitsOfReturn.all(returnId) as UnitRow[];
          const registered = current.filter((u) => u.stage === 'registered' || u.stage === 'graded');
          for (const unit of current.filter((u) => u.stage_rank < unitStageRank.registered)) {
            changes.unitsAdvanced += advanceUnit.run({ id: unit.id, stage: 'lost', rank: unitStageRank.lost, reboundItemId: null, grade: null, isSellable: null, receivedSku: null, now }).changes;
          }
          for (const unit of registered) changes.unitsAdvanced += loseRegisteredUnit.run({ id: unit.id, rank: unitStageRank.lost, now }).changes;
          if (registered.length) {
            exceptions.raise({ type: 'UNIT_FACTS_CONTRADICT', subjectKey: returnId, returnId, cause: contradiction(ro.reboundOrderId, registered, refundsOfReturn.all(returnId) as RefundRow[]) });
          } else {
            exceptions.raise({
              type: 'PARCEL_STALLED',
              subjectKey: returnId,
              returnId,
              cause: `ReBound expired return order ${ro.reboundOrderId}: the label was never scanned by a carrier, so nothing came back.`,
            });
          }
        }
        if (changes.unexpected.length) {
          exceptions.raise({
            type: 'UNEXPECTED_ITEM',
            subjectKey: ro.reboundOrderId,
            returnId,
            cause: `ReBound registered ${changes.unexpected.length} item(s) it could not match to this return: ${changes.unexpected.join(', ')}.`,
          });
        }
        const stillMissing = (unitsOfReturn.all(returnId) as UnitRow[]).filter((u) => u.stage === 'missing');
        if (stillMissing.length) {
          exceptions.raise({
            type: 'SHORT_RECEIPT',
            subjectKey: returnId,
            returnId,
            cause: `${stillMissing.length} of ${units.length} returned unit(s) did not arrive at ReBound (${stillMissing.map((u) => u.id.split(':').slice(1).join(' #')).join(', ')}).`,
          });
        }
      })();
      return changes;
    },
  };
}

export type PhysicalStore = ReturnType<typeof createPhysicalStore>;

interface RefundRow {
  state: string;
  payload: string;
}

/** Says what ReBound contradicted, and the refunds already sent (or perhaps sent) for the units now lost: money at risk. */
function contradiction(reboundOrderId: string, registered: UnitRow[], refunds: RefundRow[]): string {
  const ids = new Set(registered.map((u) => u.id));
  const sent = refunds
    .map((r) => ({ state: r.state, payload: JSON.parse(r.payload) as { units?: string[]; amountMinor?: number; currency?: string } }))
    .filter((r) => (r.payload.units ?? []).some((id) => ids.has(id)));
  const units = registered.map((u) => u.id.split(':').slice(1).join(' #')).join(', ');
  const facts =
    `ReBound registered ${registered.length} unit(s) of this return (${units}), then reported return order ${reboundOrderId} EXPIRED: nothing came back. ` +
    'ReBound\'s latest word counts, so the units are counted as lost, not received.';
  if (!sent.length) return `${facts} No refund was sent for them.`;
  const money = sent.map((r) => `${amount(r.payload.amountMinor ?? 0, r.payload.currency ?? null)}${r.state === 'confirmed' ? '' : ` (${r.state}: outcome not known yet)`}`).join(', ');
  return `${facts} A refund was already sent for them: ${money}. That money is at risk until ReBound confirms what arrived.`;
}

function amount(minor: number, currency: string | null): string {
  if (!currency) return (minor / 100).toFixed(2);
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** A unit whose receipt ReBound verified: registered (or graded) at the hub, with the SKU that was sold. */
export const isArrived = (u: UnitRow): boolean => (u.stage === 'registered' || u.stage === 'graded') && (u.received_sku === null || u.received_sku === u.offer_sku);
