import type { Database } from 'better-sqlite3';

// What a change of mappings would touch, counted before it is saved (the mapping editor's preview), and the
// returns it lets through once saved. Reads only, plus releasing returns held for a mapping.

export interface IncrementGroup {
  orderSku: string;
  target: string;
  state: 'pending' | 'rejected' | 'skipped';
  byMapping: number;
  /** Held for a person's answer (stock_increments.held): a mapping edit leaves it to that answer. */
  held: string | null;
  n: number;
}

/** One return a change touches: its order number, and the lines and money of it the change touches. */
export interface TouchedReturn {
  returnId: string;
  commercialId: string;
  currency: string | null;
  lines: number;
  valueMinor: number;
}

export function createMappingImpactRepo(db: Database) {
  const json = (values: readonly string[]) => JSON.stringify(values);
  const n = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
  return {
    /** Open UNMAPPED_REASON exceptions with every reason code of their return (and its order number). */
    unmappedReasonExceptions: (): { id: number; returnId: string; commercialId: string; codes: string[] }[] =>
      (db
        .prepare(`SELECT e.id, e.return_id AS returnId, r.commercial_id AS commercialId, json_group_array(l.reason_code) AS codes
            FROM exceptions e JOIN mirakl_return_lines l ON l.return_id = e.return_id JOIN mirakl_returns r ON r.id = e.return_id
            WHERE e.type = 'UNMAPPED_REASON' AND e.state != 'resolved' GROUP BY e.id`)
        .all() as { id: number; returnId: string; commercialId: string; codes: string }[]).map((r) => ({ ...r, codes: JSON.parse(r.codes) as string[] })),
    /**
     * Per return, its lines with one of these reason codes and what their returned units are worth (unit price ×
     * quantity returned, in the order's currency); `onlyUnrefunded` keeps the lines no refund of ours is planned for
     * yet (their refund will carry the refund reason the mapping gives).
     */
    returnsWithReasons: (codes: readonly string[], onlyUnrefunded: boolean): TouchedReturn[] =>
      codes.length === 0
        ? []
        : (db
            .prepare(
              `SELECT l.return_id AS returnId, r.commercial_id AS commercialId, o.currency, count(*) AS lines,
                  coalesce(sum(ol.price_unit_minor * l.quantity), 0) AS valueMinor
                FROM mirakl_return_lines l JOIN mirakl_returns r ON r.id = l.return_id
                LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = l.order_line_id
                LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
                WHERE l.reason_code IN (SELECT value FROM json_each(@codes))
                  AND (@all = 1 OR NOT EXISTS (SELECT 1 FROM intents i WHERE i.key = 'refund:' || l.return_id || ':' || l.order_line_id))
                GROUP BY l.return_id, o.currency ORDER BY r.date_created, l.return_id`,
            )
            .all({ codes: json(codes), all: onlyUnrefunded ? 0 : 1 }) as TouchedReturn[]),
    /** Refunds that failed (Mirakl refused them) on lines with these reason codes: a retry sends the refund reason in force. */
    failedRefundsWithReasons: (codes: readonly string[]): TouchedReturn[] =>
      codes.length === 0
        ? []
        : (db
            .prepare(
              `SELECT i.subject AS returnId, r.commercial_id AS commercialId, json_extract(i.payload, '$.currency') AS currency, count(*) AS lines,
                  coalesce(sum(json_extract(i.payload, '$.amountMinor')), 0) AS valueMinor
                FROM intents i JOIN mirakl_return_lines l ON l.return_id = i.subject AND l.order_line_id = i.order_line_id
                JOIN mirakl_returns r ON r.id = i.subject
                WHERE i.kind = 'mirakl.refund' AND i.state = 'failed' AND l.reason_code IN (SELECT value FROM json_each(?))
                GROUP BY i.subject, 3 ORDER BY r.date_created, i.subject`,
            )
            .all(json(codes)) as TouchedReturn[]),
    /** Returns in these intake stages with a line of one of these reasons. */
    returnsInStagesWithReasons: (stages: readonly string[], codes: readonly string[]): number =>
      codes.length === 0
        ? 0
        : n(
            `SELECT count(DISTINCT l.return_id) AS n FROM return_intake r JOIN mirakl_return_lines l ON l.return_id = r.return_id
               WHERE r.stage IN (SELECT value FROM json_each(?)) AND l.reason_code IN (SELECT value FROM json_each(?))`,
            json(stages),
            json(codes),
          ),
    /** A return held for a mapping is checked again at once. */
    releaseBlocked: (returnId: string, now: string): void =>
      void db.prepare(`UPDATE return_intake SET next_attempt_at = @now, updated_at = @now WHERE return_id = @returnId AND stage = 'blocked'`).run({ now, returnId }),
    /**
     * Increments not sent yet (pending, rejected, or skipped) of units of these order SKUs, with those held for a person
     * (stock_increments.held), which a mapping edit leaves to that person's answer (restock.ts applyMapping).
     */
    openIncrements: (skus: readonly string[]): IncrementGroup[] =>
      skus.length === 0
        ? []
        : (db
            .prepare(`SELECT u.offer_sku AS orderSku, s.offer_sku AS target, s.state, (s.state = 'skipped' AND s.skipped_by = 'mapping') AS byMapping,
                  s.held, count(*) AS n
                FROM stock_increments s JOIN units u ON u.id = s.unit_id
                WHERE s.state IN ('pending', 'rejected', 'skipped') AND u.offer_sku IN (SELECT value FROM json_each(?))
                GROUP BY 1, 2, 3, 4, 5`)
            .all(json(skus)) as IncrementGroup[]),
    openOfferNotFound: (): string[] =>
      (db.prepare(`SELECT subject_key AS sku FROM exceptions WHERE type = 'OFFER_NOT_FOUND' AND state != 'resolved'`).all() as { sku: string }[]).map((r) => r.sku),
    pendingOnOffer: (sku: string): number => n(`SELECT count(*) AS n FROM stock_increments WHERE state = 'pending' AND offer_sku = ?`, sku),
    watchesOfType: (type: string): number => n(`SELECT count(*) AS n FROM recon_watch WHERE type = ? AND state IN ('waiting', 'raised')`, type),
    // Stage ranks as in core/ledger/units.ts: requested 0, in_transit 1, at_hub 2, missing 3, registered 4, graded and lost 5.
    unitsRegisteredNotGraded: (): number => n(`SELECT count(*) AS n FROM units WHERE stage_rank = 4 AND stage = 'registered'`),
    unitsInTransit: (): number => n('SELECT count(*) AS n FROM units WHERE stage_rank IN (1, 2)'),
    unitsNotGraded: (): number => n('SELECT count(*) AS n FROM units WHERE stage_rank BETWEEN 0 AND 4'),
    refundsNotSent: (): number => n(`SELECT count(*) AS n FROM intents WHERE kind = 'mirakl.refund' AND state IN ('planned', 'failed')`),
    openAmountMismatches: (): number => n(`SELECT count(*) AS n FROM exceptions WHERE type = 'REFUND_AMOUNT_MISMATCH' AND state != 'resolved'`),
    orders: (): number => n('SELECT count(*) AS n FROM mirakl_orders'),
    returnsInStage: (stage: string): number => n(`SELECT count(*) AS n FROM return_intake WHERE stage = ?`, stage),
    openExceptionIds: (): Set<number> => new Set((db.prepare(`SELECT id FROM exceptions WHERE state != 'resolved'`).all() as { id: number }[]).map((r) => r.id)),
  };
}

export type MappingImpactRepo = ReturnType<typeof createMappingImpactRepo>;
