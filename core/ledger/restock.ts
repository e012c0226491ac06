import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';
import type { Lease } from './lease';

// Stock is restored exactly once per sellable unit (DESIGN rule 5). Each unit has one increment row, and every change
// to it goes through here: pending → importing (claimed by one import) → applied, or → rejected / skipped; applied
// is final. Only units still pending on the very offer an import names can be claimed, so a unit skipped or moved
// to another offer while a flush was reading stock never goes out, and no unit is ever claimed twice.

export type IncrementState = 'pending' | 'importing' | 'applied' | 'rejected' | 'skipped';

/** What a skip or a move to another offer was decided by: the sku-offers mapping, or a person. */
export type SkipSource = 'mapping' | 'person';

/**
 * Why an increment waits for a person's decision because its unit may already be on sale (stock_increments.held, 0031):
 * a restore's settlement could not tell ('restore'), its unit's restock is in doubt ('earlier_copy'), or the mapping
 * skipped it after a restore and an earlier copy may have put it on sale ('never_restock'). A sku-offers mapping edit
 * never moves, skips or resumes a held increment; only a person's retry, skip or remap releases it. Rows Mirakl refused
 * are not held: they were proven not applied, and a mapping edit re-targets them (how OFFER_NOT_FOUND is resolved).
 */
export type HoldReason = 'restore' | 'earlier_copy' | 'never_restock';

/** `lease` fences the claim of units for an import, as it fences every call (lease.ts). */
export function createRestockLedger(db: Database, clock: Clock, lease?: Pick<Lease, 'assertHeld'>) {
  const iso = () => new Date(clock.now()).toISOString();
  // A unit whose restock is in doubt (an earlier copy of the database may have put it on sale, units.restock_in_doubt) is
  // held for a person, never imported on this database's word alone.
  const sellableNotPlanned = db.prepare(`SELECT u.id, u.offer_sku, u.restock_in_doubt FROM units u
    WHERE u.stage = 'graded' AND u.is_sellable = 1 AND (u.received_sku IS NULL OR u.received_sku = u.offer_sku)
      AND NOT EXISTS (SELECT 1 FROM stock_increments s WHERE s.unit_id = u.id)`);
  const insert = db.prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, note, skipped_by, held, created_at, updated_at)
    VALUES (@unitId, @sku, @state, @note, @skippedBy, @held, @now, @now) ON CONFLICT (unit_id) DO NOTHING`);
  // A unit ReBound reported lost after it was graded (UNIT_FACTS_CONTRADICT) is no receipt any more: its restock is held,
  // never sent, while that exception is open on its return. Asked of every pending unit at each flush: looked up among
  // the lost units only (units_lost_id, 0028), not in each unit's row.
  const notLost = `NOT EXISTS (SELECT 1 FROM units u INDEXED BY units_lost_id WHERE u.id = stock_increments.unit_id AND u.stage = 'lost')`;
  const stillPending = db.prepare(`SELECT 1 FROM stock_increments WHERE unit_id = ? AND offer_sku = ? AND state = 'pending' AND ${notLost}`);
  const pendingByOffer = db.prepare(`SELECT offer_sku, group_concat(unit_id, ',') AS units FROM stock_increments WHERE state = 'pending' AND ${notLost}
    GROUP BY offer_sku ORDER BY min(created_at), offer_sku`);
  const claim = db.prepare(`UPDATE stock_increments SET state = 'importing', import_intent_id = ?, updated_at = ? WHERE unit_id = ? AND offer_sku = ? AND state = 'pending'
    AND ${notLost}`);
  const settleLine = db.prepare(`UPDATE stock_increments SET state = @state, note = @note, updated_at = @now
    WHERE import_intent_id = @intentId AND offer_sku = @sku AND state = 'importing'`);
  const settleAll = db.prepare(`UPDATE stock_increments SET state = @state, note = @note, updated_at = @now
    WHERE import_intent_id = @intentId AND state = 'importing'`);
  const release = db.prepare(`UPDATE stock_increments SET state = 'pending', import_intent_id = NULL, note = @note, updated_at = @now
    WHERE import_intent_id = @intentId AND state = 'importing'`);
  const releaseLine = db.prepare(`UPDATE stock_increments SET state = 'pending', import_intent_id = NULL, note = @note, updated_at = @now
    WHERE import_intent_id = @intentId AND offer_sku = @sku AND state = 'importing'`);
  // A person's answer acts on the units its exception is about (`held IS @hold`): the units held for its question
  // (RESTOCK_UNCERTAIN), or those not held for a person (STOCK_REJECTED, OFFER_NOT_FOUND). Their skip releases the hold.
  const skipSku = db.prepare(`UPDATE stock_increments SET state = 'skipped', skipped_by = @by, held = NULL, note = @note, updated_at = @now
    WHERE offer_sku = @sku AND state IN ('pending', 'rejected') AND held IS @hold`);
  // A remap (OFFER_NOT_FOUND) moves the units not held for a person.
  const moveSku = db.prepare(`UPDATE stock_increments SET offer_sku = @to, state = 'pending', skipped_by = NULL, note = @note, updated_at = @now
    WHERE offer_sku = @from AND state IN ('pending', 'rejected') AND held IS NULL`);
  const countWaitingUnheld = db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE offer_sku = ? AND state IN ('pending', 'rejected') AND held IS NULL`);
  const pendingOfSku = db.prepare(`SELECT unit_id FROM stock_increments WHERE offer_sku = ? AND state = 'pending' ORDER BY created_at, unit_id LIMIT ?`);
  const holdPending = db.prepare(`UPDATE stock_increments SET state = 'rejected', held = 'restore', note = @note, updated_at = @now WHERE offer_sku = @sku AND state = 'pending'`);
  const appliedElsewhere = db.prepare(`UPDATE stock_increments SET state = 'applied', note = @note, updated_at = @now WHERE unit_id = @unitId AND state = 'pending'`);
  // Units the sku-offers mapping skipped (never restock) since a moment: after a restore, decided by the database put back.
  const skippedByMappingSince = `state = 'skipped' AND skipped_by = 'mapping' AND updated_at >= @since`;
  const skippedOffersSince = db.prepare(`SELECT DISTINCT offer_sku FROM stock_increments WHERE ${skippedByMappingSince} ORDER BY offer_sku`);
  const skippedOfSkuSince = db.prepare(`SELECT unit_id FROM stock_increments WHERE offer_sku = @sku AND ${skippedByMappingSince}
    ORDER BY created_at, unit_id LIMIT @limit`);
  const countSkippedOfSkuSince = db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE offer_sku = @sku AND ${skippedByMappingSince}`);
  const skippedAppliedElsewhere = db.prepare(`UPDATE stock_increments SET state = 'applied', skipped_by = NULL, held = NULL, note = @note, updated_at = @now
    WHERE unit_id = @unitId AND state = 'skipped' AND skipped_by = 'mapping'`);
  // Neither changes the state: updated_at says when it was skipped (skippedByMappingSince, and a month's report counts it
  // skipped in that month, facts.ts rp_stock), so it is left alone.
  const holdSkippedOfSkuSince = db.prepare(`UPDATE stock_increments SET held = 'never_restock'
    WHERE offer_sku = @sku AND ${skippedByMappingSince} AND held IS NULL`);
  const skipHeldSkipped = db.prepare(`UPDATE stock_increments SET skipped_by = 'person', held = NULL, note = @note
    WHERE offer_sku = @sku AND state = 'skipped' AND held = 'never_restock'`);
  const countHeldSkipped = db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE offer_sku = ? AND state = 'skipped' AND held = 'never_restock'`);
  const lineStates = db.prepare(`SELECT state, count(*) AS n FROM stock_increments WHERE import_intent_id = ? AND offer_sku = ? GROUP BY state`);
  const claimsOfFailed = db.prepare(`SELECT DISTINCT s.import_intent_id AS id FROM stock_increments s JOIN intents i ON i.id = s.import_intent_id
    WHERE s.state = 'importing' AND i.state = 'failed' ORDER BY s.import_intent_id`);
  // One condition for "a rejected restock of this offer a person may retry": the retry and the question before it. Like
  // the skip, it is the units of one question: held for it (RESTOCK_UNCERTAIN), or not held (STOCK_REJECTED).
  const rejectedOfSku = `offer_sku = @sku AND state = 'rejected' AND held IS @hold`;
  const retryRejected = db.prepare(`UPDATE stock_increments SET state = 'pending', note = NULL, updated_at = @now WHERE ${rejectedOfSku}`);
  // Units held for one question, with their order SKU: a person's "restock them" sends each where the mapping says now.
  const heldOfSku = db.prepare(`SELECT s.unit_id AS unitId, u.offer_sku AS orderSku FROM stock_increments s JOIN units u ON u.id = s.unit_id
    WHERE s.offer_sku = @sku AND s.state = 'rejected' AND s.held = @hold ORDER BY s.created_at, s.unit_id`);
  const releaseHeld = db.prepare(`UPDATE stock_increments SET offer_sku = @target, state = 'pending', held = NULL, note = NULL, updated_at = @now
    WHERE unit_id = @unitId AND state = 'rejected' AND held = @hold`);
  const releaseHeldSkipped = db.prepare(`UPDATE stock_increments SET state = 'skipped', skipped_by = 'mapping', held = NULL,
      note = 'sku-offers mapping: never restocked', updated_at = @now
    WHERE unit_id = @unitId AND state = 'rejected' AND held = @hold`);
  const countRejected = db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE ${rejectedOfSku}`);
  // A mapping edit moves, skips or resumes only what is not held for a person (HoldReason).
  const skipOrderSku = db.prepare(`UPDATE stock_increments SET state = 'skipped', skipped_by = 'mapping', note = @note, updated_at = @now
    WHERE state IN ('pending', 'rejected') AND held IS NULL AND unit_id IN (SELECT id FROM units WHERE offer_sku = @orderSku)`);
  const retargetOrderSku = db.prepare(`UPDATE stock_increments SET offer_sku = @target, state = 'pending', skipped_by = NULL, note = @note, updated_at = @now
    WHERE (state IN ('pending', 'rejected') OR (state = 'skipped' AND skipped_by = 'mapping')) AND held IS NULL
      AND unit_id IN (SELECT id FROM units WHERE offer_sku = @orderSku)`);
  // A unit in doubt the mapping skipped when it was planned: brought back by the mapping, it is held on the new offer, as
  // planSellableUnits would have held it there.
  const resumeInDoubt = db.prepare(`UPDATE stock_increments SET offer_sku = @target, state = 'rejected', skipped_by = NULL,
      note = (SELECT u.restock_in_doubt FROM units u WHERE u.id = stock_increments.unit_id) || '; waiting for a person', updated_at = @now
    WHERE state = 'skipped' AND skipped_by = 'mapping' AND held = 'earlier_copy' AND unit_id IN (SELECT id FROM units WHERE offer_sku = @orderSku)`);

  return {
    /**
     * One increment for each unit graded sellable and not planned yet: on the order line's offer, or where the
     * sku-offers mapping sends that SKU, or skipped (by the mapping) when it says never restock. Never a second one.
     * Units whose restock is in doubt (units.restock_in_doubt) are held for a person (rejected, as a restore's settlement
     * holds what it cannot tell); returned per offer, for the caller to raise RESTOCK_UNCERTAIN. One the mapping skips is
     * skipped, still held: if the mapping brings it back, it waits for a person on its offer (applyMapping).
     */
    planSellableUnits(targetOf: (orderSku: string) => { kind: 'offer'; sku: string } | { kind: 'skip' }): { planned: number; heldForPerson: Map<string, number> } {
      const units = sellableNotPlanned.all() as { id: string; offer_sku: string; restock_in_doubt: string | null }[];
      const now = iso();
      const heldForPerson = new Map<string, number>();
      db.transaction(() => {
        for (const u of units) {
          const target = targetOf(u.offer_sku);
          const held = u.restock_in_doubt === null ? null : 'earlier_copy';
          if (target.kind === 'skip') insert.run({ unitId: u.id, sku: u.offer_sku, state: 'skipped', note: 'sku-offers mapping: never restocked', skippedBy: 'mapping', held, now });
          else if (held !== null) {
            insert.run({ unitId: u.id, sku: target.sku, state: 'rejected', note: `${u.restock_in_doubt}; waiting for a person`, skippedBy: null, held, now });
            heldForPerson.set(target.sku, (heldForPerson.get(target.sku) ?? 0) + 1);
          } else insert.run({ unitId: u.id, sku: target.sku, state: 'pending', note: null, skippedBy: null, held, now });
        }
      })();
      return { planned: units.length, heldForPerson };
    },

    /**
     * Claims for one import the units still pending on each line's offer (in the caller's transaction, just before the
     * call). Returns the lines as they may go out: each adds exactly the units it claimed; lines left empty are dropped.
     */
    claimForImport<L extends { sku: string; from: number; to: number; units: string[] }>(intentId: number, lines: readonly L[]): L[] {
      lease?.assertHeld();
      const now = iso();
      return lines
        .map((l) => {
          const units = l.units.filter((u) => stillPending.get(u, l.sku) && claim.run(intentId, now, u, l.sku).changes === 1);
          return { ...l, units, to: l.from + units.length };
        })
        .filter((l) => l.units.length > 0);
    },

    /**
     * Every offer with units pending, the one waiting longest first, and its units: what a flush may try to claim. Read
     * only: it claims nothing, so an offer that cannot be restocked now (no such offer, unreadable) holds back no other.
     */
    pendingOffers(): { sku: string; units: string[] }[] {
      return (pendingByOffer.all() as { offer_sku: string; units: string }[]).map((r) => ({ sku: r.offer_sku, units: r.units.split(',').sort() }));
    },

    /** Which of these lines' units are still pending on their offer (to build an import before claiming it). */
    stillPending<L extends { sku: string; units: string[] }>(lines: readonly L[]): L[] {
      return lines.map((l) => ({ ...l, units: l.units.filter((u) => stillPending.get(u, l.sku)) })).filter((l) => l.units.length > 0);
    },

    /** The import put these units on sale (Mirakl's status, a read-back, or a person who saw it): final. */
    markApplied(intentId: number, note: string | null, sku?: string): number {
      const now = iso();
      return sku === undefined
        ? settleAll.run({ intentId, state: 'applied', note, now }).changes
        : settleLine.run({ intentId, sku, state: 'applied', note, now }).changes;
    },

    /**
     * After a restore (restore-quarantine.ts): Mirakl's quantity of this offer shows `units` more than the database's
     * belief less the sales since — units an import the restored database no longer knows of already put on sale. That
     * many of the offer's pending units are settled applied (oldest first), never imported again. Returns them.
     */
    settleImportedElsewhere(sku: string, units: number, note: string): string[] {
      if (units <= 0) return [];
      const now = iso();
      const ids = (pendingOfSku.all(sku, units) as { unit_id: string }[]).map((r) => r.unit_id);
      for (const unitId of ids) appliedElsewhere.run({ unitId, note, now });
      return ids;
    },

    /**
     * After a restore: the offers with units the sku-offers mapping skipped (never restock) since `since` — units the
     * database put back learnt of only then, which an earlier copy of it may have put on sale before the mapping changed.
     */
    offersSkippedByMappingSince: (since: string): string[] => (skippedOffersSince.all({ since }) as { offer_sku: string }[]).map((r) => r.offer_sku),

    /** How many units of `sku` the sku-offers mapping skipped since `since` (and are still skipped). */
    skippedByMappingSince: (sku: string, since: string): number => (countSkippedOfSkuSince.get({ sku, since }) as { n: number }).n,

    /**
     * After a restore: Mirakl's quantity shows `units` more than the offer's pending units explain, and the mapping skipped
     * units of it since `since` — put on sale by an import the restored database no longer knows of, made before the
     * mapping said never restock. That many are settled applied (oldest first): they are on sale. Returns them.
     */
    settleSkippedImportedElsewhere(sku: string, since: string, units: number, note: string): string[] {
      if (units <= 0) return [];
      const now = iso();
      const ids = (skippedOfSkuSince.all({ sku, since, limit: units }) as { unit_id: string }[]).map((r) => r.unit_id);
      for (const unitId of ids) skippedAppliedElsewhere.run({ unitId, note, now });
      return ids;
    },

    /**
     * After a restore: the offer's pending units Mirakl's quantity does not show as already imported. They may have been
     * (the sales it was judged by could be incomplete), so none is imported by itself: they wait for a person, as a
     * refused import's do (retry restocks them with a fresh quantity, skip leaves the stock as it is). Returns how many.
     */
    holdForPerson: (sku: string, note: string): number => holdPending.run({ sku, note, now: iso() }).changes,

    /**
     * After a restore: the units of `sku` the mapping skipped since `since`, which an earlier copy may have put on sale
     * before the mapping changed and Mirakl's quantity cannot tell (RESTOCK_UNCERTAIN ...:never-restock-unknown). They stay
     * skipped, held: a mapping edit that would restock them again waits for the person's skip. Returns how many.
     */
    holdSkippedForPerson: (sku: string, since: string): number => holdSkippedOfSkuSince.run({ sku, since }).changes,

    /** The units one import line carried, by what became of them (applied, importing, rejected; released ones are not its any more). */
    importLine(intentId: number, sku: string): Partial<Record<IncrementState, number>> {
      return Object.fromEntries((lineStates.all(intentId, sku) as { state: IncrementState; n: number }[]).map((r) => [r.state, r.n]));
    },

    /** Mirakl refused this line (or the whole import): the units wait for a person (retry, remap or skip). */
    markRejected(intentId: number, reason: string, sku?: string): number {
      const now = iso();
      return sku === undefined
        ? settleAll.run({ intentId, state: 'rejected', note: reason, now }).changes
        : settleLine.run({ intentId, sku, state: 'rejected', note: reason, now }).changes;
    },

    /** The import is proven not applied (or was never sent; or this line of it): its units go back to pending, for a fresh read. */
    releaseUnsent(intentId: number, note: string | null, sku?: string): number {
      const now = iso();
      return sku === undefined ? release.run({ intentId, note, now }).changes : releaseLine.run({ intentId, sku, note, now }).changes;
    },

    /**
     * Imports that failed while their units are still claimed: the failure was recorded but settling the units was not
     * (the process stopped, or the disk refused the write, in between). Read back so they are settled, never stranded.
     */
    claimsOfFailedImports: (): number[] => (claimsOfFailed.all() as { id: number }[]).map((r) => r.id),

    /** A person (STOCK_REJECTED): retry the units of an offer Mirakl refused, not those held for a person. */
    retryRejected: (sku: string): number => retryRejected.run({ sku, hold: null, now: iso() }).changes,

    /**
     * A person, on a RESTOCK_UNCERTAIN: restock the units of `sku` held for `hold`. A mapping edit passed them by while they
     * waited, so each goes where the sku-offers mapping sends its order SKU now (`targetOf`, as planSellableUnits): pending
     * on that offer, or skipped by the mapping when it says never restock. Returns how many of each.
     */
    restockHeld(sku: string, hold: HoldReason, targetOf: (orderSku: string) => { kind: 'offer'; sku: string } | { kind: 'skip' }): { restocked: number; skipped: number } {
      const now = iso();
      const units = heldOfSku.all({ sku, hold }) as { unitId: string; orderSku: string }[];
      let restocked = 0;
      let skipped = 0;
      db.transaction(() => {
        for (const u of units) {
          const target = targetOf(u.orderSku);
          if (target.kind === 'skip') skipped += releaseHeldSkipped.run({ unitId: u.unitId, hold, now }).changes;
          else restocked += releaseHeld.run({ unitId: u.unitId, target: target.sku, hold, now }).changes;
        }
      })();
      return { restocked, skipped };
    },

    /** How many units `retryRejected(sku)` (null) or `restockHeld(sku, hold)` would take back: asked before a retry is offered or made. */
    rejectedOf: (sku: string, hold: HoldReason | null): number => (countRejected.get({ sku, hold }) as { n: number }).n,

    /**
     * A person: never restock the units waiting on this offer their exception is about: those held for `hold`, or, with
     * null, those not held for a person.
     */
    skip: (sku: string, note: string, hold: HoldReason | null): number => skipSku.run({ sku, by: 'person', note, hold, now: iso() }).changes,

    /**
     * A person, on the question whether units the mapping skipped are on sale (holdSkippedForPerson): they stay skipped,
     * now by that person, so a later mapping edit never restocks them over the listing they set right.
     */
    skipHeldSkipped: (sku: string, note: string): number => skipHeldSkipped.run({ sku, note }).changes,

    /** How many units of `sku` the mapping skipped stay held for that question (holdSkippedForPerson): what `skipHeldSkipped` would take. */
    heldSkippedOf: (sku: string): number => (countHeldSkipped.get(sku) as { n: number }).n,

    /** How many units wait on this offer, not held for a person: what `move`, or `skip` with null, would take. */
    waitingUnheldOf: (sku: string): number => (countWaitingUnheld.get(sku) as { n: number }).n,

    /** A person (OFFER_NOT_FOUND): restock the units waiting on one offer, and not held for a person, onto another. */
    move: (from: string, to: string, note: string): number => moveSku.run({ from, to, note, now: iso() }).changes,

    /**
     * The sku-offers mapping changed for this order SKU: re-target its units not sent yet (or skip them). Units held for a
     * person stay as they are (HoldReason); units in doubt it brings back are held on the new offer: `heldForPerson`, for
     * the caller to raise RESTOCK_UNCERTAIN (<sku>:earlier-copy) as planning them would have.
     */
    applyMapping(orderSku: string, target: { kind: 'offer'; sku: string } | { kind: 'skip' }, note: string): { changed: number; heldForPerson: number } {
      const now = iso();
      if (target.kind === 'skip') return { changed: skipOrderSku.run({ orderSku, note: 'sku-offers mapping: never restocked', now }).changes, heldForPerson: 0 };
      const heldForPerson = resumeInDoubt.run({ orderSku, target: target.sku, now }).changes;
      return { changed: retargetOrderSku.run({ orderSku, target: target.sku, note, now }).changes + heldForPerson, heldForPerson };
    },
  };
}

export type RestockLedger = ReturnType<typeof createRestockLedger>;

/**
 * A stock import whose answer was lost (no import id) and that nothing shows has run may still be waiting in Mirakl's
 * queue: Mirakl has held imports for hours and says nothing of a queued import without its id. Another import of its
 * units before it could run would put them on sale twice when it does, so they stay with it until a day after it was
 * sent. Returns that moment (ms, Mirakl's clock), or null when unknown (sent before the app kept when it was sent).
 */
export function lostImportMayRunUntil(intent: { kind: string; state: string; payload: unknown; createdAt: string }): number | null {
  const sentAfter = (intent.payload as { basis?: { sentAfter?: string } } | null)?.basis?.sentAfter;
  if (intent.kind !== 'stock.import' || intent.state !== 'uncertain' || !sentAfter) return null;
  // sentAfter is Mirakl's clock as last read, which may be long before the send (nothing read in a quiet spell); the
  // intent was planned just before it went out, by the local clock. Whichever is later.
  return Math.max(Date.parse(sentAfter), Date.parse(intent.createdAt)) + importQueueHoldMs;
}
export const importQueueHoldMs = 24 * 60 * 60_000;
