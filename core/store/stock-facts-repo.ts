import type { Statement } from 'better-sqlite3';

// What the stock feed knows of Mirakl: the offer exports it asked for (offer_exports), the offers' quantities the
// latest applied one shows (offer_stock), the units sold (offer_sales), what it expects of the offers it set
// (offer_expected), and which stock imports are in flight or still to be checked. Reads, and writes to those four
// tables only: stock increments are written by core/ledger/restock.ts,
// intents by core/ledger/intents.ts. Statements come from the caller's per-connection cache (the domain context's).

export interface StatementSource {
  q(sql: string): Statement;
}

export interface OfferExportRow {
  id: number;
  tracking_id: string;
  mode: 'full' | 'differential';
  /** A differential export's starting point as asked for (Mirakl's clock); null for a full one. */
  since_mirakl: string | null;
  state: 'requested' | 'applied' | 'failed';
  requested_at: string;
  taken_from_mirakl: string;
  taken_by_mirakl: string | null;
}

export interface ExportedOffer {
  shop_sku: string;
  offer_id?: string | undefined;
  /** null: its record could not be read (or it is deleted). */
  quantity: number | null;
  active: boolean;
  deleted: boolean;
}

/**
 * What the engine expects of an offer it set: `quantity` as an export taken between `fromMirakl` and `atMirakl` showed
 * it (once our last import of it was confirmed, or a later reading that agreed), less the units sold since; `correction` more units may have been taken off by a person
 * (a STOCK_OVERWRITTEN). `suspect`: a reading that disagreed, kept to be judged again.
 */
export interface ExpectedOffer {
  sku: string;
  quantity: number;
  fromMirakl: string;
  atMirakl: string;
  correction: number;
  basis: string;
  updatedAt: string;
  suspect: { shows: number; from: string; by: string; exportId: number } | null;
}

export interface SaleRow {
  orderLineId: string;
  orderId: string;
  /** null: the order could not be read far enough to tell the offer. */
  offerSku: string | null;
  /** null: the order could not be read far enough to tell the units. */
  quantity: number | null;
  createdMirakl: string;
}

const exportColumns = 'id, tracking_id, mode, since_mirakl, state, requested_at, taken_from_mirakl, taken_by_mirakl';

/**
 * Parked: an import whose outcome is unknown and waits for a person (OUTCOME_UNKNOWN open), or a lost one read back as
 * not run that Mirakl's queue may still run (`mayRunUntil`, stock.ts). Either holds back only its own offers.
 */
const parked = `(EXISTS (SELECT 1 FROM exceptions e WHERE e.type = 'OUTCOME_UNKNOWN' AND e.subject_key = 'intent:' || intents.id AND e.state != 'resolved')
  OR json_extract(intents.outcome, '$.mayRunUntil') IS NOT NULL)`;
/** An import Mirakl took and has not run for over an hour (STOCK_IMPORT_STALLED open): it holds back only its own offers. */
const stalledForPerson = `EXISTS (SELECT 1 FROM exceptions e WHERE e.type = 'STOCK_IMPORT_STALLED' AND e.subject_key = 'intent:' || intents.id AND e.state != 'resolved')`;
const isRunAtMirakl = `(state = 'confirmed' AND json_extract(outcome, '$.status') NOT IN ('COMPLETE', 'FAILED', 'SETTLED'))`;

export function createStockFactsRepo(source: StatementSource) {
  const { q } = source;
  return {
    // ---- stock imports (read only) -----------------------------------------------------------------------------
    /** The stock import not finished yet, if any (one at a time): planned, sending, uncertain or still running. */
    importInFlight: (): number | undefined =>
      (
        q(`SELECT id FROM intents WHERE kind = 'stock.import' AND (state IN ('planned', 'sending', 'uncertain') OR ${isRunAtMirakl})
             AND NOT (state = 'uncertain' AND ${parked}) AND NOT (${isRunAtMirakl} AND ${stalledForPerson})
           ORDER BY id LIMIT 1`).get() as { id: number } | undefined
      )?.id,
    /** Imports Mirakl took and has not run for over an hour, a person told: followed apart, holding only their offers. */
    importsStalled: (): number[] =>
      (q(`SELECT id FROM intents WHERE kind = 'stock.import' AND ${isRunAtMirakl} AND ${stalledForPerson} ORDER BY id`).all() as { id: number }[]).map((r) => r.id),
    /**
     * Imports whose outcome is unknown and waits for a person (OUTCOME_UNKNOWN open): they hold back only their own
     * offers, never every other restock.
     */
    importsParked: (): number[] =>
      (q(`SELECT id FROM intents WHERE kind = 'stock.import' AND state = 'uncertain' AND ${parked} ORDER BY id`).all() as { id: number }[]).map((r) => r.id),
    /**
     * Stock imports not failed that an export may not show: sent after it was asked for (`afterExport` from its id on),
     * sent after `sentAfter` (Mirakl's clock), seen ending only after it was asked for (`settledAfterExport`), or not run
     * by Mirakl yet (a stalled one, which exports for other offers are read past). Oldest first.
     */
    importsMaybeAfter: (exportId: number, sentAfter: string): number[] =>
      (
        q(`SELECT id FROM intents WHERE kind = 'stock.import' AND state != 'failed'
             AND (json_extract(payload, '$.basis.afterExport') >= @exportId OR json_extract(payload, '$.basis.sentAfter') > @sentAfter
               OR json_extract(outcome, '$.settledAfterExport') >= @exportId OR ${isRunAtMirakl}) ORDER BY id`).all({
          exportId,
          sentAfter,
        }) as { id: number }[]
      ).map((r) => r.id),
    /** Applied stock imports with lines whose overwrite is still to be measured, oldest first. */
    importsToCheck: (): number[] =>
      (
        q(`SELECT id FROM intents WHERE kind = 'stock.import' AND state = 'confirmed'
             AND json_array_length(coalesce(json_extract(outcome, '$.toCheck'), '[]')) > 0 ORDER BY id`).all() as { id: number }[]
      ).map((r) => r.id),

    // ---- exports ----------------------------------------------------------------------------------------------
    latestExportId: (): number => (q('SELECT coalesce(max(id), 0) AS id FROM offer_exports').get() as { id: number }).id,
    latestExport: (): OfferExportRow | undefined => q(`SELECT ${exportColumns} FROM offer_exports ORDER BY id DESC LIMIT 1`).get() as OfferExportRow | undefined,
    requestedExport: (): OfferExportRow | undefined =>
      q(`SELECT ${exportColumns} FROM offer_exports WHERE state = 'requested' ORDER BY id DESC LIMIT 1`).get() as OfferExportRow | undefined,
    /** Exports given up since the latest one applied (the ids only grow: each was asked for after it). */
    givenUpSinceApplied: (): number =>
      (q(`SELECT count(*) AS n FROM offer_exports WHERE state = 'failed' AND id > (SELECT coalesce(max(id), 0) FROM offer_exports WHERE state = 'applied')`).get() as { n: number }).n,
    latestApplied: (mode?: 'full'): OfferExportRow | undefined =>
      q(`SELECT ${exportColumns} FROM offer_exports WHERE state = 'applied' AND (@mode IS NULL OR mode = @mode) ORDER BY id DESC LIMIT 1`).get({ mode: mode ?? null }) as
        | OfferExportRow
        | undefined,
    /**
     * A request for an export, written down before it is sent: until its answer says otherwise it is an export given up
     * whose answer never came. Mirakl may have taken it even if the app is killed before hearing back, so it is never
     * made again: the next differential asks from a second earlier for it (givenUpSinceApplied), never the same request,
     * which Mirakl would answer with the export it took then (OF52: "the tracking_id of the existing export").
     */
    askingExport: (e: { mode: 'full' | 'differential'; since: string | null; takenFrom: string; now: string }): number =>
      Number(
        q(`INSERT INTO offer_exports (tracking_id, mode, since_mirakl, state, requested_at, taken_from_mirakl, error)
             VALUES ('', ?, ?, 'failed', ?, ?, 'its answer never came')`).run(e.mode, e.since, e.now, e.takenFrom).lastInsertRowid,
      ),
    /** Mirakl took the request: the export to follow, its contents taken no earlier than `takenFrom` (Mirakl's clock). */
    answeredExport: (id: number, trackingId: string, takenFrom: string): void =>
      void q(`UPDATE offer_exports SET tracking_id = ?, state = 'requested', taken_from_mirakl = ?, error = NULL WHERE id = ?`).run(trackingId, takenFrom, id),
    /** Refused before Mirakl took anything (a call budget): as if never asked. */
    refusedExport: (id: number): void => void q(`DELETE FROM offer_exports WHERE id = ? AND tracking_id = ''`).run(id),
    /**
     * The earliest moment Mirakl may have taken an unanswered request the same as request `id`, made within the hour
     * before it (what Mirakl may answer with the same export) and since the latest export applied.
     */
    unansweredSameFrom: (id: number, mode: 'full' | 'differential', since: string | null, after: string): string | null =>
      (
        q(`SELECT min(taken_from_mirakl) AS at FROM offer_exports WHERE tracking_id = '' AND id <> ? AND mode = ? AND since_mirakl IS ? AND requested_at >= ?
             AND id > (SELECT coalesce(max(id), 0) FROM offer_exports WHERE state = 'applied')`).get(id, mode, since, after) as { at: string | null }
      ).at,
    /** The latest full export asked for, whatever became of it: Mirakl allows one a day. */
    lastFullAsked: (): OfferExportRow | undefined => q(`SELECT ${exportColumns} FROM offer_exports WHERE mode = 'full' ORDER BY id DESC LIMIT 1`).get() as OfferExportRow | undefined,
    failExport: (id: number, error: string): void => void q(`UPDATE offer_exports SET state = 'failed', error = ? WHERE id = ? AND state = 'requested'`).run(error, id),
    /**
     * The export's offers replace what is known of them; a full export replaces everything (an offer absent from it
     * does not exist). `unreadable` are the shop SKUs whose records could not be read: their quantity is forgotten.
     * Run in the caller's transaction.
     */
    applyExport(e: { id: number; isFull: boolean; takenBy: string; offers: readonly ExportedOffer[]; unreadable: readonly string[]; now: string }): void {
      const upsert = q(`INSERT INTO offer_stock (shop_sku, offer_id, quantity, is_active, export_id, updated_at)
        VALUES (@sku, @offerId, @quantity, @isActive, @exportId, @now)
        ON CONFLICT (shop_sku) DO UPDATE SET offer_id = coalesce(excluded.offer_id, offer_stock.offer_id), quantity = excluded.quantity,
          is_active = excluded.is_active, export_id = excluded.export_id, updated_at = excluded.updated_at`);
      if (e.isFull) q('DELETE FROM offer_stock').run();
      for (const o of e.offers) {
        if (o.deleted) q('DELETE FROM offer_stock WHERE shop_sku = ?').run(o.shop_sku);
        else upsert.run({ sku: o.shop_sku, offerId: o.offer_id ?? null, quantity: o.quantity, isActive: o.active ? 1 : 0, exportId: e.id, now: e.now });
      }
      for (const sku of e.unreadable) upsert.run({ sku, offerId: null, quantity: null, isActive: 1, exportId: e.id, now: e.now });
      q(`UPDATE offer_exports SET state = 'applied', taken_by_mirakl = ?, applied_at = ?, offers = ?, unreadable = ? WHERE id = ?`).run(
        e.takenBy,
        e.now,
        e.offers.length,
        e.unreadable.length,
        e.id,
      );
    },

    // ---- what is expected of the offers we set -----------------------------------------------------------------
    hasExpected: (): boolean => q('SELECT 1 FROM offer_expected LIMIT 1').get() !== undefined,
    hasSuspectedExpected: (): boolean => q('SELECT 1 FROM offer_expected WHERE suspect_shows IS NOT NULL LIMIT 1').get() !== undefined,
    /**
     * What is expected of the offers to judge now: those an export after `afterExport` showed (an offer a differential
     * export leaves out neither sold nor changed since the one before), and those suspected.
     */
    expectedToJudge(afterExport: number): ExpectedOffer[] {
      const rows = q(`SELECT e.shop_sku, e.quantity, e.from_mirakl, e.at_mirakl, e.correction, e.basis, e.updated_at, e.suspect_shows, e.suspect_from, e.suspect_by, e.suspect_export
        FROM offer_expected e LEFT JOIN offer_stock s ON s.shop_sku = e.shop_sku
        WHERE e.suspect_shows IS NOT NULL OR s.shop_sku IS NULL OR s.export_id > ? ORDER BY e.shop_sku`).all(afterExport) as {
        shop_sku: string;
        quantity: number;
        from_mirakl: string;
        at_mirakl: string;
        correction: number;
        basis: string;
        updated_at: string;
        suspect_shows: number | null;
        suspect_from: string | null;
        suspect_by: string | null;
        suspect_export: number | null;
      }[];
      return rows.map((r) => ({
        sku: r.shop_sku,
        quantity: r.quantity,
        fromMirakl: r.from_mirakl,
        atMirakl: r.at_mirakl,
        correction: r.correction,
        basis: r.basis,
        updatedAt: r.updated_at,
        suspect:
          r.suspect_shows !== null && r.suspect_from !== null && r.suspect_by !== null && r.suspect_export !== null
            ? { shows: r.suspect_shows, from: r.suspect_from, by: r.suspect_by, exportId: r.suspect_export }
            : null,
      }));
    },
    /** From now on `sku` is expected to hold `quantity` as of an export taken in [fromMirakl, atMirakl], less the units sold since (any suspicion ends). */
    expectOffer(e: { sku: string; quantity: number; fromMirakl: string; atMirakl: string; correction: number; basis: string; now: string }): void {
      q(`INSERT INTO offer_expected (shop_sku, quantity, from_mirakl, at_mirakl, correction, basis, updated_at) VALUES (@sku, @quantity, @from, @at, @correction, @basis, @now)
        ON CONFLICT (shop_sku) DO UPDATE SET quantity = excluded.quantity, from_mirakl = excluded.from_mirakl, at_mirakl = excluded.at_mirakl, correction = excluded.correction,
          basis = excluded.basis, updated_at = excluded.updated_at, suspect_shows = NULL, suspect_from = NULL, suspect_by = NULL, suspect_export = NULL`).run({
        sku: e.sku,
        quantity: e.quantity,
        from: e.fromMirakl,
        at: e.atMirakl,
        correction: e.correction,
        basis: e.basis,
        now: e.now,
      });
    },
    /** Nothing is expected of `sku` any more (our import of it is on its way, or what it holds cannot be told). */
    forgetExpected: (sku: string): void => void q('DELETE FROM offer_expected WHERE shop_sku = ?').run(sku),
    /** A reading of `sku` that disagreed, kept to be judged again once the sales are read past it. */
    suspectExpected(sku: string, suspect: { shows: number; from: string; by: string; exportId: number }): void {
      q(`UPDATE offer_expected SET suspect_shows = @shows, suspect_from = @from, suspect_by = @by, suspect_export = @exportId WHERE shop_sku = @sku`).run({ sku, ...suspect });
    },

    // ---- offers and sales ---------------------------------------------------------------------------------------
    /** Every offer's quantity as the exports applied so far show it (null: its record could not be read). */
    offerQuantities: (): { shop_sku: string; quantity: number | null }[] => q('SELECT shop_sku, quantity FROM offer_stock ORDER BY shop_sku').all() as { shop_sku: string; quantity: number | null }[],
    offer: (sku: string): { quantity: number | null } | undefined => q('SELECT quantity FROM offer_stock WHERE shop_sku = ?').get(sku) as { quantity: number | null } | undefined,
    /** Units of `sku` sold in (from, to] on Mirakl's clock, and how many sales there cannot be read (they may be of it). */
    soldIn: (sku: string, from: string, to: string): { units: number; unknown: number } =>
      q(`SELECT coalesce(sum(quantity), 0) AS units, count(*) - count(quantity) AS unknown FROM offer_sales
        WHERE created_mirakl > @from AND created_mirakl <= @to AND (offer_sku = @sku OR offer_sku IS NULL)`).get({ sku, from, to }) as { units: number; unknown: number },
    /** Sales as OR11 showed them (run in the caller's transaction): an order read whole replaces what an unreadable copy said. */
    recordSales(e: { readableOrders: readonly string[]; sales: readonly SaleRow[]; now: string; keepFrom: string }): void {
      for (const orderId of e.readableOrders) q('DELETE FROM offer_sales WHERE order_id = ? AND quantity IS NULL').run(orderId);
      const upsert = q(`INSERT INTO offer_sales (order_line_id, order_id, offer_sku, quantity, created_mirakl, seen_at)
        VALUES (@lineId, @orderId, @sku, @quantity, @created, @now)
        ON CONFLICT (order_line_id) DO UPDATE SET offer_sku = excluded.offer_sku, quantity = excluded.quantity, created_mirakl = excluded.created_mirakl`);
      for (const s of e.sales) upsert.run({ lineId: s.orderLineId, orderId: s.orderId, sku: s.offerSku, quantity: s.quantity, created: s.createdMirakl, now: e.now });
      q('DELETE FROM offer_sales WHERE created_mirakl < ?').run(e.keepFrom);
    },
  };
}

export type StockFactsRepo = ReturnType<typeof createStockFactsRepo>;
