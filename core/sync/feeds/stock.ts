import { createHash } from 'node:crypto';
import { isApiError } from '../../net/api-error';
import type { QuarantinedRecord } from '../../net/tolerant';
import type { ExpectedOffer, ExportedOffer, OfferExportRow } from '../../store/stock-facts-repo';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { areWritesFrozen, sendIntents } from '../execute';
import type { Intent } from '../../ledger/intents';
import type { OwnImportLine, RestoreQuarantineRow, StockBasis } from '../../ledger/restore-quarantine';
import { lostImportMayRunUntil } from '../../ledger/restock';
import { restockTargets } from '../../mappings/schemas';

// Stock is restored exactly once per sellable unit, on the offer the order line sold (or its mapped override), never
// guessed. Mirakl's stock import (STO01) sets absolute quantities, so everything is decided from facts Mirakl gave:
// the offers' quantities from its bulk export (OF52 → OF53 → files, kept as a local snapshot), the units sold from its
// orders (OR11), and an import's fate from STO02/STO03 — or, when the import's answer was lost, from the quantity read
// back corrected by the units sold since the import's read. What those facts cannot settle goes to a person
// (OUTCOME_UNKNOWN): an import is never sent again on a guess. One import is in flight at a time, so a read never
// overlaps our own pending write. Units sold between an import's read and Mirakl applying it are overwritten by it:
// that is measured on the next read and raised (STOCK_OVERWRITTEN) with the units to correct. Once an import of ours is
// confirmed, what Mirakl showed is what the offer is expected to hold, less the units sold since: every later export
// showing the offer is compared with that, and a difference no sale explains is someone else's write (FOREIGN_WRITE).
//
// Windows of time are measured on Mirakl's clock (its answers' Date header, OF53 last_updated, orders' created_date),
// so a wrong clock on this machine cannot move a sale in or out of one. Which export came after which event is told
// by the exports' ids (they only grow), never by our clock.

export interface ImportLine {
  sku: string;
  from: number;
  to: number;
  units: string[];
}

export interface ImportPayload {
  lines: ImportLine[];
  /** What `from` was read from (absent on imports planned before stock was decided from facts). */
  basis?: ImportBasis;
}

interface ImportBasis {
  /** The export whose quantities `from` starts from. */
  exportId: number;
  /** `from` is the quantity at this moment (Mirakl's clock): the export's, less the units sold up to it. */
  readAt: string;
  /** Mirakl's clock before the import was sent: it cannot have been applied earlier. */
  sentAfter: string;
  /** The latest export asked for before the import was sent: only later ones can show what it did. */
  afterExport: number;
}

interface ImportOutcome {
  importId: string | null;
  status: string;
  /**
   * Mirakl no longer knew it (STO02 404) once the exports up to this id were asked for: it may have run while they were
   * taken, so only a later one may show what it did.
   */
  reopenedAfterExport?: number;
  /** When it was last checked: its status read (STO02), or its outcome settled from the quantities read back. */
  checkedAt?: string;
  /** Exports with an id up to this were asked for before the import ended: the overwrite check needs a later one. */
  settledAfterExport?: number;
  /** Lines applied whose overwrite is still to be measured. */
  toCheck?: string[];
  /** Units sold in the read→apply window that the import overwrote, by offer (measured; 0 when none). */
  overwritten?: Record<string, number>;
  /**
   * Offers whose quantity read back fit neither this import nor its absence, by offer: what the export showed and when.
   * Judged again once the sales are read well past that export (a sale read late looks exactly like it), and only then
   * raised as someone else's write.
   */
  suspects?: Record<string, { shows: number; from: string; by: string }>;
}

/**
 * A lost import (no id) the quantities read back show has not run: it may still run until `mayRunUntil`, so it holds
 * its offers and units (parked) and is read back at each export until it is seen applied or that moment passes.
 */
interface QueuedOutcome {
  mayRunUntil: string;
  /** The export that first showed it not run. */
  notRunIn: number;
  /** When a person was told why its units wait (once). */
  toldAt?: string;
}

/**
 * An applied export: its contents were taken between `from` and `by` (Mirakl's clock). `isRepeat`: Mirakl answered our
 * request with an export it took for an earlier one (see latestSnapshot), so its id says nothing of when it was taken.
 */
interface Snapshot {
  id: number;
  from: string;
  by: string;
  isRepeat: boolean;
  /** When this app asked for it, on its own clock. */
  askedAt: string;
}

const minute = 60_000;
/** After this long (Mirakl's clock) an import has run, if it ever will: its quantities may then be read back. */
const settleMs = 5 * minute;
/** A Date header is whole seconds and written after the query ran: Mirakl's "now" is taken this much earlier. */
const serverMarginMs = 2_000;
/** Each sales read starts this far before the last one ended, so an order shown a little late is still seen. */
const salesOverlapMs = 10 * minute;
/** A quantity that looks like someone else's write is judged again once the sales are read this far past its export. */
const driftConfirmMs = salesOverlapMs + 5 * minute;
/** Sales are kept this long: far longer than any decision's window. */
const salesKeptMs = 7 * 24 * 60 * minute;
/** While units wait on an offer Mirakl has not (readably) got, the offers are read again this often. */
const heldRefreshMs = 5 * minute;
/**
 * An export dated this much before our request for it was taken for an earlier request: Mirakl answered ours with it.
 * Less than that is the clocks of Mirakl's servers (OF52's Date, OF53's last_updated), and the export is taken between.
 */
const repeatBeforeMs = minute;
/** How long Mirakl may answer a request the same as an earlier one with that one's export (the sandbox: an hour), with margin. */
const duplicateWindowMs = 90 * minute;
/** An export not completed by then is given up, and another asked for. */
const exportGiveUpMs = 30 * minute;
/** A full export once a day; differential ones in between. */
const fullEveryMs = 24 * 60 * minute;
/** An import Mirakl took and has not run after this long is shown to a person, and holds back only its own offers. */
const stalledAfterMs = 60 * minute;
/** A stalled import is still checked this often (STO02's budget is shared with the import in flight). */
const stalledCheckMs = 5 * minute;
/** An import whose fate is still unknown after this long is shown to a person, while the checking goes on. */
const unknownAfterMs = 60 * minute;
/**
 * A restore's settlement judges with an export asked for no longer ago than this (this engine's clock), asked for again
 * at most `maxStaleAsks` times when it is judged later (settleRestoredStock).
 */
const restoreReadingFreshMs = 60 * minute;
const maxStaleAsks = 2;
/** While a lost import may still run in Mirakl's queue (lostImportMayRunUntil), its offers are read back this often. */
const queuedRefreshMs = 15 * minute;
const maxLinesPerImport = 1000;

export function planStockIncrements(ctx: EngineContext): void {
  const { heldForPerson } = ctx.restock.planSellableUnits(restockTargets(ctx.mappings().skuOffers.overrides));
  for (const sku of heldForPerson.keys()) raiseEarlierCopyHold(ctx, sku);
}

/**
 * Units whose restock is in doubt (units.restock_in_doubt), held on `sku` for a person: planned there, or brought back
 * there by a sku-offers mapping edit (mapping-editor.ts). Its own question beside any the restore's settlement asks of
 * the offer; raised again while open, its cause is replaced, so it counts every unit held for it, not only the new ones.
 */
export function raiseEarlierCopyHold(ctx: { exceptions: Pick<EngineContext['exceptions'], 'raise'>; restock: Pick<EngineContext['restock'], 'rejectedOf'> }, sku: string): void {
  const held = ctx.restock.rejectedOf(sku, 'earlier_copy');
  if (held === 0) return;
  ctx.exceptions.raise({
    type: 'RESTOCK_UNCERTAIN',
    subjectKey: `${sku}:earlier-copy`,
    offerSku: sku,
    cause:
      `This database was put back from a backup or copied in. ${held} returned unit(s) of ${sku} are waiting to be put back on sale, but ReBound's ` +
      `return order for them was made by an earlier copy of this database after the backup, which may have put them on sale already: this ` +
      `database cannot tell. Check the listing's quantity in the Mirakl back office, then restock them or skip.`,
  });
}

/**
 * One pass: follow the import in flight, read what is needed (the export in progress, the sales since), decide what
 * the facts settle, send the next import, and ask for the next export. A read that fails holds back only what needs
 * it; the other steps still run, and the first failure is reported once the pass is done.
 */
export async function flushStock(ctx: EngineContext): Promise<{ isDeferred: boolean }> {
  const stock = stockFacts(ctx);
  const failures: unknown[] = [];
  // A step a call budget turned away (OR11 is shared with the orders feed) is taken again at the next cycle.
  let isDeferred = false;
  const step = async (run: () => Promise<void> | void) => {
    try {
      await run();
    } catch (error) {
      // Only a call that failed is survivable here; anything else (storage, a crash) ends the pass at once.
      if (!isApiError(error)) throw error;
      if (error.kind !== 'rate_limited') failures.push(error);
      else isDeferred = true;
    }
  };
  for (const id of ctx.restock.claimsOfFailedImports()) settleFailedImport(ctx, id);
  await step(() => followImports(ctx, stock));
  await step(() => readExport(ctx, stock));
  await step(() => readSales(ctx, stock));
  await step(() => decideFromFacts(ctx, stock));
  await step(() => settleRestoredStock(ctx, stock));
  await step(() => sendNextImport(ctx, stock));
  await step(() => askForExport(ctx, stock));
  if (failures.length > 0) throw failures[0];
  return { isDeferred };
}

/**
 * Between flushes: follows the import in flight (STO02), so its outcome is known within a minute of Mirakl applying it
 * rather than at the next flush. True when there was one to follow.
 */
export async function followStockImport(ctx: EngineContext): Promise<boolean> {
  const stock = stockFacts(ctx);
  const intent = inFlight(ctx, stock);
  if (intent?.state !== 'confirmed') return false;
  await followTaken(ctx, stock, intent);
  return true;
}

// ---- the import in flight ----------------------------------------------------------------------------------------

function inFlight(ctx: EngineContext, stock: StockFacts): Intent<ImportPayload> | undefined {
  const id = stock.repo.importInFlight();
  return id === undefined ? undefined : ctx.intents.get<ImportPayload>(id);
}

/** The stock imports with these intent ids, as the ledger holds them. */
function importsOf(ctx: EngineContext, ids: number[]): Intent<ImportPayload>[] {
  return ids.map((id) => ctx.intents.get<ImportPayload>(id)).filter((i): i is Intent<ImportPayload> => i !== undefined);
}

/** Imports applied whose overwrite is still to be measured. */
function awaitingCheck(ctx: EngineContext, stock: StockFacts): Intent<ImportPayload>[] {
  return importsOf(ctx, stock.repo.importsToCheck());
}

/** Imports Mirakl took and has not run for over an hour (STOCK_IMPORT_STALLED): each still followed, holding its offers. */
function stalled(ctx: EngineContext, stock: StockFacts): Intent<ImportPayload>[] {
  return importsOf(ctx, stock.repo.importsStalled());
}

/**
 * The import in flight, and those Mirakl has left stalled: planned-but-never-sent dropped; then one status read a flush
 * (STO02 allows one call every 15 s for every import), for the import checked longest ago — the one in flight, or a
 * stalled one once every few minutes. A stalled one's read refused by the budget waits for the next flush.
 */
async function followImports(ctx: EngineContext, stock: StockFacts): Promise<void> {
  const current = inFlight(ctx, stock);
  if (current?.state === 'planned') {
    // Planned but never sent (the app stopped in between): its quantities are stale, so it is dropped and the
    // units go back to pending for a fresh read.
    ctx.transaction(() => {
      ctx.intents.fail(current.id, 'never sent; replaced by a fresh import', null, 'planned');
      ctx.restock.releaseUnsent(current.id, null);
    });
  }
  const checkedAt = (i: Intent<ImportPayload>) => (i.outcome as ImportOutcome | null)?.checkedAt ?? '';
  const isDue = (i: Intent<ImportPayload>) => checkedAt(i) === '' || ctx.clock.now() - Date.parse(checkedAt(i)) >= stalledCheckMs;
  const taken = current?.state === 'confirmed' ? [current] : [];
  const next = [...taken, ...stalled(ctx, stock).filter(isDue)].sort((a, b) => (checkedAt(a) < checkedAt(b) ? -1 : checkedAt(a) > checkedAt(b) ? 1 : 0))[0];
  if (!next) return;
  try {
    await followTaken(ctx, stock, next);
  } catch (error) {
    if (next === current) throw error;
    if (isApiError(error) && error.kind === 'rate_limited') return;
    // Another stalled import takes its turn next time.
    ctx.intents.updateOutcome(next.id, { ...(next.outcome as ImportOutcome), checkedAt: isoAt(ctx.clock.now()) });
    throw error;
  }
}

/** An import Mirakl took (STO02): settled once it has run or failed; a person is told when it has not after an hour. */
async function followTaken(ctx: EngineContext, stock: StockFacts, intent: Intent<ImportPayload>): Promise<void> {
  const outcome = intent.outcome as ImportOutcome;
  const importId = outcome.importId;
  if (!importId) return;
  const subjectKey = `intent:${intent.id}`;
  let status: Awaited<ReturnType<typeof ctx.mirakl.importStatus>>;
  try {
    status = await ctx.mirakl.importStatus(importId);
  } catch (error) {
    if (!isApiError(error) || error.kind !== 'not_found') throw error;
    // Mirakl took it and no longer knows it: whether it ran is read back from the quantities, as for an import whose
    // answer was lost (decideFromFacts); never sent again on a guess, and a person is asked if they do not tell.
    ctx.transaction(() => {
      ctx.intents.reopenAsUncertain(intent.id, `Mirakl no longer knows import ${importId}: ${error.message}`, {
        ...outcome,
        reopenedAfterExport: stock.latestExportId(),
      } satisfies ImportOutcome);
      ctx.exceptions.autoResolve('STOCK_IMPORT_STALLED', subjectKey, `Mirakl no longer knows import ${importId}: settled from the quantities read back`);
    });
    ctx.log.warn('stock import no longer known to Mirakl: settled from the quantities read back', { intentId: intent.id, importId });
    return;
  }
  if (status.status !== 'COMPLETE' && status.status !== 'FAILED') {
    const shown = status.status === 'WAITING' || status.status === 'RUNNING' ? status.status : 'RUNNING';
    const waited = ctx.clock.now() - Date.parse(intent.createdAt);
    ctx.transaction(() => {
      ctx.intents.updateOutcome(intent.id, { ...outcome, status: shown, checkedAt: isoAt(ctx.clock.now()) });
      if (waited < stalledAfterMs) return;
      // From now on it holds back only its own offers (importInFlight leaves it out): Mirakl may still run it, so they
      // are never imported again meanwhile, and every other offer goes on.
      const lines = intent.payload.lines;
      const units = lines.reduce((n, l) => n + l.units.length, 0);
      ctx.exceptions.raise({
        type: 'STOCK_IMPORT_STALLED',
        subjectKey,
        ...(lines.length === 1 ? { offerSku: lines[0]?.sku } : {}),
        cause: `Mirakl took stock update ${importId} (${units} returned unit(s) on ${lines.length} listing(s): ${lines
          .slice(0, 5)
          .map((l) => l.sku)
          .join(', ')}${lines.length > 5 ? ', …' : ''}) at ${intent.createdAt} and still shows it ${status.status} ${Math.floor(waited / minute)} minutes later. These units are not on sale yet; the app checks the update at every sync, and restocks other listings meanwhile.`,
      });
    });
    return;
  }
  let rejected = new Map<string, string>();
  if (status.has_error_report) {
    const errors = await ctx.mirakl.importErrors(importId);
    rejected = new Map(errors.map((e) => [e.sku, e.reason]));
  }
  ctx.transaction(() => {
    const applied: string[] = [];
    for (const line of intent.payload.lines) {
      const reason = status.status === 'FAILED' ? 'the whole import failed' : rejected.get(line.sku);
      if (reason) ctx.restock.markRejected(intent.id, reason, line.sku);
      else {
        ctx.restock.markApplied(intent.id, null, line.sku);
        applied.push(line.sku);
      }
      if (reason) {
        ctx.exceptions.raise({
          type: 'STOCK_REJECTED',
          subjectKey: `${line.sku}:${outcome.importId}`,
          offerSku: line.sku,
          cause: `Mirakl rejected setting ${line.sku} to ${line.to} (${line.units.length} unit(s) restocked) in import ${outcome.importId}: ${reason}`,
        });
      }
    }
    ctx.exceptions.autoResolve('STOCK_IMPORT_STALLED', subjectKey, `Mirakl ${status.status === 'FAILED' ? 'failed' : 'ran'} import ${importId}`);
    // The quantities read from now on must show this import: only exports asked for after it ended may be used.
    const after = stock.latestExportId();
    stock.raiseFloor(after);
    ctx.intents.updateOutcome(intent.id, {
      ...outcome,
      status: status.status,
      settledAfterExport: after,
      ...(intent.payload.basis && applied.length > 0 ? { toCheck: applied } : {}),
    } satisfies ImportOutcome);
  });
}

// ---- reading: the export, then the sales ---------------------------------------------------------------------------

async function readExport(ctx: EngineContext, stock: StockFacts): Promise<void> {
  const pending = stock.requestedExport();
  if (!pending) return;
  const giveUp = (why: string) => stock.failExport(pending.id, why);
  const isOld = () => ctx.clock.now() - Date.parse(pending.requested_at) > exportGiveUpMs;
  let status: Awaited<ReturnType<typeof ctx.mirakl.offerExportStatus>>;
  try {
    status = await ctx.mirakl.offerExportStatus(pending.tracking_id);
  } catch (error) {
    // While one export is awaited no other is asked for: one whose status Mirakl will not give (it no longer knows the
    // export, or answers what cannot be read) is given up like one that never completes, and the next flush asks
    // afresh. A failure that passes (the network, a busy Mirakl, a budget) is waited out, as an export is.
    if (isApiError(error) && !error.isTransient && isOld()) giveUp(`its status could not be read: ${error.message}`);
    throw error;
  }
  stock.sawMiraklAt(status.serverTime);
  if (status.status === 'FAILED') return giveUp(`Mirakl could not export the offers: ${status.error?.detail ?? status.error?.code ?? 'no reason given'}`);
  if (status.status !== 'COMPLETED') {
    // PENDING, or a status nobody announced: waited for, within reason.
    if (isOld()) giveUp(`not completed after ${exportGiveUpMs / minute} minutes (${status.status})`);
    return;
  }
  const takenBy = miraklIso(status.lastUpdated) ?? miraklIso(status.serverTime);
  if (!takenBy) return giveUp('Mirakl did not say when the export was taken');
  const offers: ExportedOffer[] = [];
  const quarantined: QuarantinedRecord[] = [];
  for (const url of status.urls) {
    try {
      const file = await ctx.mirakl.offerExportFile(url);
      offers.push(...file.offers);
      quarantined.push(...file.quarantined);
    } catch (error) {
      // A link Mirakl should never give (another server) ends this export; a file that failed to come is fetched
      // again at the next pass, until the export is given up.
      if (isApiError(error) && (error.kind === 'rejected' || error.kind === 'invalid_response')) giveUp(error.message);
      else if (isOld()) giveUp(`its files could not be fetched: ${(error as Error).message}`);
      throw error;
    }
  }
  stock.applyExport(pending, takenBy, offers, quarantined);
}

async function readSales(ctx: EngineContext, stock: StockFacts): Promise<void> {
  const snapshot = stock.latestSnapshot();
  if (!snapshot) return;
  const through = stock.salesThrough();
  // A restore's settlement counts the sales since what the database put back believed, which may be before any sales
  // read here (one that never read them reads first from its latest export): those are read back too.
  const wantedFrom = restoreSalesFrom(ctx, stock);
  if (through !== null && through >= snapshot.by && wantedFrom === null) return;
  if (!salesNeeded(ctx, stock, snapshot)) return;
  const start = [through ?? snapshot.from, ...(wantedFrom === null ? [] : [wantedFrom])].sort()[0] as string;
  const since = isoAt(Date.parse(start) - salesOverlapMs);
  const read = await ctx.mirakl.ordersCreatedSince(since);
  stock.sawMiraklAt(read.serverTime);
  stock.recordSales(read, since, isoAt((read.serverTime ?? ctx.clock.now()) - serverMarginMs));
}

/** Whether anything would be decided from the latest export once the sales up to it are known. */
function salesNeeded(ctx: EngineContext, stock: StockFacts, snapshot: Snapshot): boolean {
  const current = inFlight(ctx, stock);
  if (current?.state === 'uncertain') return current.payload.basis !== undefined && snapshot.id > readBackAfter(current);
  if (awaitingCheck(ctx, stock).some((i) => snapshot.id > ((i.outcome as ImportOutcome).settledAfterExport ?? Infinity))) return true;
  // Parked imports are read back at each new export too: one Mirakl's queue ran late is found applied.
  if (parked(ctx, stock).some((i) => i.payload.basis !== undefined && snapshot.id > readBackAfter(i) && !isSentBeforeRestore(ctx, i))) return true;
  if (isRestoreUnsettled(ctx) && snapshot.id > (ctx.restore.current()?.stockBasis.afterExport ?? Infinity)) return true;
  // Offers we set, shown by an export not compared yet, or a reading suspected: their sales decide.
  if ((snapshot.id > stock.expectedCheckedThrough() && stock.repo.hasExpected()) || stock.repo.hasSuspectedExpected()) return true;
  return !current && snapshot.id > stock.floor() && ctx.restock.pendingOffers().length > 0;
}

// ---- deciding from facts ---------------------------------------------------------------------------------------------

/** `shows`: the quantity Mirakl shows fits neither our import applied nor not applied (someone else changed the offer). */
type LineVerdict =
  | { kind: 'applied'; overwritten: number }
  | { kind: 'not_applied' }
  | { kind: 'wait'; why: string }
  | { kind: 'unclear'; why: string; shows?: number };

/**
 * The facts ready for a decision: an applied export, and the sales known up to when it was taken. Not an export Mirakl
 * answered with for an earlier request: it may predate anything done since the export before it, which it would show
 * undone. The next differential asks from before it (differentialSince), a request of its own.
 */
function readyFacts(stock: StockFacts): Snapshot | null {
  const snapshot = stock.latestSnapshot();
  const through = stock.salesThrough();
  return snapshot && !snapshot.isRepeat && through !== null && through >= snapshot.by ? snapshot : null;
}

/**
 * What one import line did, from the quantity the export shows and the units sold since the line's read. If it was
 * applied at some moment after its read, the sales before that moment were overwritten and those after it came off
 * its target: the export shows between `to − sold` and `to`. If it was not applied, every sale came off its start:
 * exactly `from − sold`. The two never meet (a line adds at least one unit), so anything else means another change
 * nobody accounted for, and a person decides.
 */
function lineVerdict(stock: StockFacts, line: ImportLine, basis: ImportBasis, snapshot: Pick<Snapshot, 'from' | 'by'>, shown?: number): LineVerdict {
  const row = shown === undefined ? stock.offer(line.sku) : { quantity: shown };
  if (!row) return { kind: 'unclear', why: `${line.sku} is no longer among Mirakl's offers` };
  if (row.quantity === null) return { kind: 'unclear', why: `Mirakl's record of ${line.sku} cannot be read` };
  const during = stock.sold(line.sku, snapshot.from, snapshot.by);
  if (during !== 0) return { kind: 'wait', why: `${line.sku} sold while the export was being taken` };
  const sold = stock.sold(line.sku, basis.readAt, snapshot.by);
  if (sold === null) return { kind: 'unclear', why: `an order for ${line.sku} placed since the read cannot be read` };
  const q = row.quantity;
  if (q >= line.to - sold && q <= line.to) return { kind: 'applied', overwritten: q - (line.to - sold) };
  if (q === line.from - sold) return { kind: 'not_applied' };
  return {
    kind: 'unclear',
    why: `Mirakl shows ${q} of ${line.sku}: neither ${line.from - sold} (not applied) nor ${line.to - sold}–${line.to} (applied), with ${sold} unit(s) sold since the read`,
    shows: q,
  };
}

type ProbeState = { kind: 'not_ready' } | { kind: 'wait' } | { kind: 'decided'; snapshot: Snapshot; verdicts: LineVerdict[] };

/** Whether the facts at hand can settle an import whose answer was lost. */
function probeState(stock: StockFacts, intent: Intent<ImportPayload>): ProbeState {
  const basis = intent.payload.basis;
  const snapshot = readyFacts(stock);
  // Only an export asked for after the import was sent, and taken once it has surely run, can show what it did.
  if (!basis || !snapshot || isSnapshotTooEarly(snapshot, intent)) return { kind: 'not_ready' };
  const verdicts = intent.payload.lines.map((l) => lineVerdict(stock, l, basis, snapshot));
  return verdicts.some((v) => v.kind === 'wait') ? { kind: 'wait' } : { kind: 'decided', snapshot, verdicts };
}

function decideFromFacts(ctx: EngineContext, stock: StockFacts): void {
  // An import whose answer was lost before the database was put back is never read back: every export since also shows
  // what an earlier copy imported on its offers after the backup (its own read-back, and units graded since), which the
  // read-back would take for this import or for sales it overwrote. The restore settlement judges it with those, and
  // what it cannot tell waits for a person (settleRestoredStock).
  const current = inFlight(ctx, stock);
  if (current?.state === 'uncertain') {
    if (!isSentBeforeRestore(ctx, current)) probeImport(ctx, stock, current);
    // One the settlement left to a person is in flight again only when its exception was closed without a verdict
    // (a plain Resolve): put back to the person, so it holds back its own offers, not every other offer's restock.
    else if (!isRestoreUnsettled(ctx)) askWhetherImportRan(ctx, current);
  }
  // Imports waiting for a person are still checked against each new read: a later export may settle them. One sent
  // before the restore is the settlement's, then a person's: parked only on Mirakl's queue, with no question open (closed
  // without a verdict), it is put back to the person.
  for (const intent of parked(ctx, stock)) {
    if (!isSentBeforeRestore(ctx, intent)) probeImport(ctx, stock, intent);
    else if (!isRestoreUnsettled(ctx) && !ctx.exceptions.isOpen('OUTCOME_UNKNOWN', `intent:${intent.id}`)) askWhetherImportRan(ctx, intent);
  }
  // After a restore, an export also shows the imports an earlier copy made that this database no longer knows of: the
  // read-back of its own imports waits for the settlement (settleRestoredStock), which judges them with those.
  if (!isRestoreUnsettled(ctx)) for (const intent of awaitingCheck(ctx, stock)) checkOverwrite(ctx, stock, intent);
  checkExpected(ctx, stock);
}

function probeImport(ctx: EngineContext, stock: StockFacts, intent: Intent<ImportPayload>): void {
  const subjectKey = `intent:${intent.id}`;
  const state = probeState(stock, intent);
  const lines = intent.payload.lines;
  if (state.kind !== 'decided') {
    // Still checking: a person is told once it has taken too long, and the checking goes on. Not while it waits for
    // Mirakl's queue: the notice said why (waitForQueue), and nothing is theirs to do until then.
    const until = lostImportMayRunUntil(intent);
    if ((intent.outcome as QueuedOutcome | null)?.mayRunUntil && until !== null && ctx.clock.now() < until) return;
    const isOld = !intent.payload.basis || ctx.clock.now() - Date.parse(intent.updatedAt) >= unknownAfterMs;
    if (isOld) {
      ctx.exceptions.raise({
        type: 'OUTCOME_UNKNOWN',
        subjectKey,
        cause: intent.payload.basis
          ? `A stock import's answer was lost (${lines.length} offer(s)); the quantities read back since have not settled whether it ran. The app keeps checking; you may check the offers in Mirakl and mark it done or not done.`
          : `A stock import's answer was lost (${lines.length} offer(s)), and it was sent before the app kept what it was read from. Check the offers in Mirakl, then mark it done or not done.`,
      });
    }
    return;
  }
  const { verdicts, snapshot } = state;
  if (verdicts.every((v) => v.kind === 'applied')) {
    const overwritten = Object.fromEntries(lines.map((l, i) => [l.sku, (verdicts[i] as { overwritten: number }).overwritten]));
    ctx.transaction(() => {
      ctx.intents.confirmUncertain(intent.id, { importId: null, status: 'SETTLED', checkedAt: isoAt(ctx.clock.now()), overwritten } satisfies ImportOutcome);
      ctx.restock.markApplied(intent.id, 'confirmed by the quantities read back, less the units sold since');
      ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', subjectKey, 'the quantities read back, less the units sold since, show the import was applied');
      // The export that showed the import applied shows its effect: the next import may start from it.
      stock.raiseFloor(snapshot.id - 1);
      for (const line of lines) {
        raiseOverwritten(ctx, stock, intent, line, overwritten[line.sku] ?? 0);
        const shows = stock.offer(line.sku)?.quantity;
        if (shows !== undefined && shows !== null) stock.expect(line.sku, shows, snapshot, overwritten[line.sku] ?? 0, `import ${intent.id}, its answer lost, read back`);
      }
    });
    return;
  }
  if (verdicts.every((v) => v.kind === 'not_applied')) {
    // Mirakl's clock: the export must have been taken once the queue would surely have run it.
    const mayRunUntil = lostImportMayRunUntil(intent) as number;
    if (Date.parse(snapshot.from) < mayRunUntil) {
      waitForQueue(ctx, intent, { mayRunUntil: isoAt(mayRunUntil), notRunIn: (intent.outcome as QueuedOutcome | null)?.notRunIn ?? snapshot.id });
      return;
    }
    ctx.transaction(() => {
      ctx.intents.fail(intent.id, 'the quantities read back, less the units sold since, show the import was not applied', null, 'uncertain');
      ctx.restock.releaseUnsent(intent.id, null);
      ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', subjectKey, 'the quantities read back, less the units sold since, show the import was not applied');
      stock.raiseFloor(snapshot.id - 1);
    });
    return;
  }
  const reasons = verdicts.flatMap((v) => (v.kind === 'unclear' ? [v.why] : []));
  ctx.exceptions.raise({
    type: 'OUTCOME_UNKNOWN',
    subjectKey,
    cause: `A stock import's answer was lost and what Mirakl shows now does not tell whether it ran (${lines.length} offer(s)): ${
      reasons.length ? reasons.join('; ') : 'some of its offers show it applied and others not'
    }. It is not sent again: check the offers in Mirakl, then mark it done or not done.`,
  });
}

/**
 * A lost import read back as not run, which Mirakl's queue may still run: parked (its offers and units wait, every other
 * offer goes on) and read back again at each export. Sending its units again now would put them on sale twice if it
 * runs; a person is told after an hour, and may say it never reached Mirakl.
 */
function waitForQueue(ctx: EngineContext, intent: Intent<ImportPayload>, queued: Omit<QueuedOutcome, 'toldAt'>): void {
  const current = intent.outcome as QueuedOutcome | null;
  if (current?.mayRunUntil !== queued.mayRunUntil) ctx.intents.updateOutcome(intent.id, { ...current, ...queued });
  // Told once: a person who closes it has read why the units wait, and the wait goes on without it.
  if (current?.toldAt || ctx.clock.now() - Date.parse(intent.createdAt) < unknownAfterMs) return;
  ctx.intents.updateOutcome(intent.id, { ...current, ...queued, toldAt: isoAt(ctx.clock.now()) });
  const skus = intent.payload.lines.map((l) => l.sku);
  const units = intent.payload.lines.reduce((n, l) => n + l.units.length, 0);
  ctx.exceptions.raise({
    type: 'OUTCOME_UNKNOWN',
    subjectKey: `intent:${intent.id}`,
    cause:
      `A stock import's answer was lost (${skus.length} offer(s): ${skus.slice(0, 5).join(', ')}${skus.length > 5 ? ', …' : ''}), and the quantities read back ` +
      `show it has not run. It may still be waiting in Mirakl's import queue, which has held imports for hours: its ${units} unit(s) are not sent again ` +
      `until ${queued.mayRunUntil}, since a second import would put them on sale twice if it runs. The app keeps reading those offers back: if it runs, ` +
      `its units are recorded on sale and the sales it overwrote are raised; if it has not run by then, its units are sent again. Nothing needs doing.`,
  });
}

/** `readings`: what the export showed of each line judged, and when: what the offer is expected to hold from then on. */
type CheckState =
  | { kind: 'not_ready' }
  | {
      kind: 'checked';
      results: Map<string, number | null>;
      waiting: string[];
      drifted: Map<string, string>;
      suspects: NonNullable<ImportOutcome['suspects']>;
      readings: Map<string, { shows: number; from: string; by: string }>;
    };

/** What the facts at hand say of the lines of an applied import still to be checked. */
function checkState(stock: StockFacts, intent: Intent<ImportPayload>): CheckState {
  const outcome = intent.outcome as ImportOutcome;
  const basis = intent.payload.basis;
  const snapshot = readyFacts(stock);
  if (!basis || !snapshot || snapshot.id <= (outcome.settledAfterExport ?? Infinity)) return { kind: 'not_ready' };
  const results = new Map<string, number | null>();
  const waiting: string[] = [];
  const drifted = new Map<string, string>();
  const readings = new Map<string, { shows: number; from: string; by: string }>();
  const suspects = { ...(outcome.suspects ?? {}) };
  const salesThrough = stock.salesThrough();
  for (const sku of outcome.toCheck ?? []) {
    const line = intent.payload.lines.find((l) => l.sku === sku);
    if (!line) continue;
    const suspect = suspects[sku];
    if (suspect && (salesThrough === null || Date.parse(salesThrough) < Date.parse(suspect.by) + driftConfirmMs)) {
      waiting.push(sku);
      continue;
    }
    // A suspect is judged again on the same reading, with the sales now read well past it.
    const verdict = suspect ? lineVerdict(stock, line, basis, suspect, suspect.shows) : lineVerdict(stock, line, basis, snapshot);
    const isDrift = verdict.kind === 'not_applied' || (verdict.kind === 'unclear' && verdict.shows !== undefined);
    if (isDrift && !suspect) {
      // One sale not in OR11 yet when the export was read (an order listed late) looks exactly like this: suspected
      // until the sales have been read past that export, then judged again.
      suspects[sku] = { shows: (verdict as { shows?: number }).shows ?? (stock.offer(sku)?.quantity as number), from: snapshot.from, by: snapshot.by };
      waiting.push(sku);
      continue;
    }
    delete suspects[sku];
    const shows = suspect ? suspect.shows : stock.offer(sku)?.quantity;
    if (verdict.kind !== 'wait' && shows !== undefined && shows !== null && (verdict.kind !== 'unclear' || verdict.shows !== undefined)) {
      readings.set(sku, { shows, ...(suspect ? { from: suspect.from, by: suspect.by } : { from: snapshot.from, by: snapshot.by }) });
    }
    // Our import applied, and the quantity read back with every sale since fits neither it nor its absence: someone
    // else set this offer's stock since (another installation's import, or a person in the back office).
    if (verdict.kind === 'not_applied') drifted.set(sku, `Mirakl shows it as if the ${line.units.length} unit(s) our applied import added were not there`);
    if (verdict.kind === 'unclear' && verdict.shows !== undefined) drifted.set(sku, verdict.why);
    if (verdict.kind === 'wait') waiting.push(sku);
    else if (verdict.kind === 'applied') results.set(sku, verdict.overwritten);
    // Mirakl said it was applied; a reading that contradicts that (another change to the offer) measures nothing. The
    // sales made after the read and before the import was sent (Mirakl's clock) it overwrote all the same, whenever it
    // ran: at least those are raised. Those made while it waited to run cannot be told from the other writer's change.
    else results.set(sku, drifted.has(sku) ? stock.sold(sku, basis.readAt, basis.sentAfter) : null);
  }
  return { kind: 'checked', results, waiting, drifted, suspects, readings };
}

function checkOverwrite(ctx: EngineContext, stock: StockFacts, intent: Intent<ImportPayload>): void {
  const state = checkState(stock, intent);
  if (state.kind !== 'checked') return;
  const outcome = intent.outcome as ImportOutcome;
  const isNewSuspect = Object.keys(state.suspects).some((sku) => !(outcome.suspects ?? {})[sku]);
  if (state.results.size === 0 && !isNewSuspect) return;
  const overwritten = { ...(outcome.overwritten ?? {}) };
  ctx.transaction(() => {
    for (const [sku, units] of state.results) {
      if (units === null) continue;
      overwritten[sku] = units;
      const line = intent.payload.lines.find((l) => l.sku === sku);
      if (line) raiseOverwritten(ctx, stock, intent, line, units, state.drifted.has(sku) ? { setBySomeoneElse: true } : undefined);
    }
    ctx.intents.updateOutcome(intent.id, { ...outcome, toCheck: state.waiting, overwritten, suspects: state.suspects } satisfies ImportOutcome);
    // What each line judged showed is what its offer holds from then on, less the units sold since: applied, with the
    // units it overwrote that a person may take off; or set by someone else, raised below.
    for (const [sku, reading] of state.readings) {
      stock.expect(sku, reading.shows, reading, state.results.get(sku) ?? 0, `import ${outcome.importId ?? intent.id}${state.drifted.has(sku) ? ' (read back as someone else\'s write)' : ''}`);
    }
    for (const [sku, why] of state.drifted) {
      ctx.exceptions.raise({
        type: 'FOREIGN_WRITE',
        subjectKey: `stock:${sku}:intent-${intent.id}`,
        offerSku: sku,
        cause: `The stock of ${sku} changed after this app's stock update (import ${outcome.importId ?? intent.id}) in a way no sale explains: ${why}. Someone else is setting this shop's stock: another installation of the app, or a person in the Mirakl back office. Refunds and stock updates are paused until you acknowledge it.`,
      });
      ctx.log.warn('stock changed outside this engine: refunds and stock updates paused', { sku, intentId: intent.id });
    }
  });
}

/**
 * `afterRestore`: raised by the restore settlement, which this database's own check would have raised before; an earlier
 * copy of it may have, after the backup, and a person may have taken the units off then. `shortBy`: Mirakl shows that
 * many units fewer than the update and the sales since explain, which is what such a correction shows (or a sale Mirakl
 * lists late): said, so it is not made twice.
 */
function raiseOverwritten(
  ctx: EngineContext,
  stock: StockFacts,
  intent: Intent<ImportPayload>,
  line: ImportLine,
  units: number,
  context?: { shortBy: number } | { setBySomeoneElse: true },
): void {
  if (units <= 0) return;
  const shown = stock.offer(line.sku)?.quantity;
  const restored =
    !context || !('shortBy' in context)
      ? ''
      : context.shortBy > 0
        ? ` This database was put back from a backup, and Mirakl already shows ${context.shortBy} unit(s) fewer than this update and the sales since explain: if you lowered ${line.sku} for these sales after an earlier notice, that is what it shows, so do not lower it again.`
        : ` This database was put back from a backup: this notice may have been raised before it, after the backup. If you lowered ${line.sku} for these sales then, do not lower it again.`;
  const measured =
    context && 'setBySomeoneElse' in context
      ? `Someone else set ${line.sku} before this app read it back (FOREIGN_WRITE), so Mirakl's quantity (${shown ?? 'unreadable'}) shows nothing of this: these units sold before the update was sent, and any sold while it waited to run were overwritten too. Unless the quantity set since already counts these sales,`
      : `Mirakl showed ${shown ?? 'an unreadable quantity'} afterwards: ${units} unit(s) more than there are.`;
  ctx.exceptions.raise({
    type: 'STOCK_OVERWRITTEN',
    subjectKey: `${line.sku}:intent-${intent.id}`,
    offerSku: line.sku,
    cause: `${units} unit(s) of ${line.sku} sold while a stock update was on its way (it set ${line.to}, for ${line.units.length} returned unit(s), from ${line.from} read before those sales). ${measured} ${context && 'setBySomeoneElse' in context ? 'lower' : 'Lower'} ${line.sku} by ${units} in the back office.${restored}`,
  });
}

// ---- offers set by someone else between our imports --------------------------------------------------------------

/** Offers our own imports are still settling (in flight, to be checked, or waiting for a person): their checks judge them. */
function offersSettling(ctx: EngineContext, stock: StockFacts): Set<string> {
  const settling = new Set<string>();
  for (const line of inFlight(ctx, stock)?.payload.lines ?? []) settling.add(line.sku);
  for (const intent of awaitingCheck(ctx, stock)) for (const sku of (intent.outcome as ImportOutcome).toCheck ?? []) settling.add(sku);
  for (const intent of [...parked(ctx, stock), ...stalled(ctx, stock)]) for (const line of intent.payload.lines) settling.add(line.sku);
  return settling;
}

type ExpectedVerdict = { kind: 'unknown' } | { kind: 'fits'; isExact: boolean; correction: number } | { kind: 'drift'; why: string };

/**
 * A reading of an offer we set, against what it is expected to hold: its quantity when our import was confirmed, less
 * the units sold since. A sale while either export was taken may or may not be in its quantity, and a person may have
 * taken off the units a STOCK_OVERWRITTEN named: anything between is expected. Mirakl never shows a quantity below 0.
 */
function expectedVerdict(stock: StockFacts, e: ExpectedOffer, shows: number, reading: { from: string; by: string }): ExpectedVerdict {
  // An export Mirakl answered a repeated request with was taken before that request (its `by` before its `from`): each
  // export's window is taken as it lies, so the fewest units sold are always within the most.
  const [firstFrom, firstBy] = [e.fromMirakl, e.atMirakl].sort();
  const [laterFrom, laterBy] = [reading.from, reading.by].sort();
  const soldMost = stock.sold(e.sku, firstFrom as string, laterBy as string);
  const soldLeast = stock.sold(e.sku, firstBy as string, laterFrom as string);
  if (soldMost === null || soldLeast === null) return { kind: 'unknown' };
  const high = Math.max(0, e.quantity - soldLeast);
  const low = Math.max(0, e.quantity - e.correction - soldMost);
  if (shows >= low && shows <= high) return { kind: 'fits', isExact: soldMost === soldLeast, correction: shows - low };
  const expected = low === high ? `${low}` : `${low}–${high}`;
  const off = shows > high ? `${shows - high} unit(s) more than` : `${low - shows} unit(s) fewer than`;
  return {
    kind: 'drift',
    why:
      `Mirakl showed ${shows} of ${e.sku} at ${reading.by}, ${off} the ${expected} expected: ${e.quantity} when this app's stock update was ` +
      `confirmed (${e.basis}, ${e.atMirakl}), less ${soldLeast === soldMost ? soldMost : `${soldLeast}–${soldMost}`} unit(s) sold since${e.correction ? `, less up to ${e.correction} overwritten unit(s) a person may have taken off` : ''}`,
  };
}

/**
 * Each export read, once the sales up to it are known: every offer we set that it shows is compared with what it is
 * expected to hold. A difference no sale explains is suspected, kept with what the export showed, and judged again on
 * that same reading once the sales are read well past it (an order OR11 lists late looks exactly like it); only a
 * difference that stands is raised as someone else's write (FOREIGN_WRITE, pausing refunds and stock updates). A
 * reading that fits, with no sale while it was taken, is what the offer is expected to hold from then on.
 */
function checkExpected(ctx: EngineContext, stock: StockFacts): void {
  const snapshot = readyFacts(stock);
  // A database put back from a backup expects what it knew then: imports made since by an earlier copy are not writes.
  if (!snapshot || ctx.restore.isActive()) return;
  const restoredAt = ctx.restore.lastStartedAt();
  const salesThrough = stock.salesThrough();
  const checkedThrough = stock.expectedCheckedThrough();
  const isNewReading = snapshot.id > checkedThrough;
  const settling = offersSettling(ctx, stock);
  ctx.transaction(() => {
    for (const e of stock.repo.expectedToJudge(isNewReading ? checkedThrough : Number.MAX_SAFE_INTEGER)) {
      if (settling.has(e.sku)) continue;
      // Expected before the database was put back, or longer ago than the sales are kept: it cannot be judged.
      const isStale = (restoredAt !== null && Date.parse(e.updatedAt) < restoredAt) || (salesThrough !== null && Date.parse(e.atMirakl) < Date.parse(salesThrough) - salesKeptMs + 60 * minute);
      if (isStale) {
        stock.repo.forgetExpected(e.sku);
        continue;
      }
      const reading = e.suspect ?? { ...snapshot, shows: stock.offer(e.sku)?.quantity, exportId: snapshot.id };
      if (e.suspect) {
        if (salesThrough === null || Date.parse(salesThrough) < Date.parse(e.suspect.by) + driftConfirmMs) continue;
      } else {
        if (!isNewReading || snapshot.by <= e.atMirakl) continue;
        if (reading.shows === undefined) {
          // No longer among Mirakl's offers: nothing to expect of it.
          stock.repo.forgetExpected(e.sku);
          continue;
        }
      }
      if (reading.shows === null || reading.shows === undefined) continue;
      const verdict = expectedVerdict(stock, e, reading.shows, reading);
      if (verdict.kind === 'unknown') continue;
      if (verdict.kind === 'fits') {
        if (verdict.isExact) stock.expect(e.sku, reading.shows, reading, verdict.correction, `export ${reading.exportId}`);
        else if (e.suspect) stock.expect(e.sku, e.quantity, { from: e.fromMirakl, by: e.atMirakl }, e.correction, e.basis);
        continue;
      }
      if (!e.suspect) {
        stock.repo.suspectExpected(e.sku, { shows: reading.shows, from: reading.from, by: reading.by, exportId: reading.exportId });
        continue;
      }
      ctx.exceptions.raise({
        type: 'FOREIGN_WRITE',
        subjectKey: `stock:${e.sku}:export-${reading.exportId}`,
        offerSku: e.sku,
        cause: `The stock of ${e.sku} changed since this app last set it, in a way no sale explains: ${verdict.why}. Someone else is setting this shop's stock: another installation of the app, or a person in the Mirakl back office. Refunds and stock updates are paused until you acknowledge it.`,
      });
      ctx.log.warn('stock changed outside this engine between its imports: refunds and stock updates paused', { sku: e.sku, exportId: reading.exportId });
      // Raised once: what it showed is what the offer holds from then on.
      stock.expect(e.sku, reading.shows, reading, 0, `export ${reading.exportId} (someone else's write, raised)`);
    }
    stock.expectedChecked(snapshot.id);
  });
}

// ---- the next import -------------------------------------------------------------------------------------------------

/** Imports whose outcome waits for a person: only their own offers wait with them. */
function parked(ctx: EngineContext, stock: StockFacts): Intent<ImportPayload>[] {
  return importsOf(ctx, stock.repo.importsParked());
}

async function sendNextImport(ctx: EngineContext, stock: StockFacts): Promise<void> {
  // Frozen: no import is planned either. STO01 sets absolute quantities, so one planned now would carry a quantity
  // read before the freeze; the units stay pending and the first flush after it reads afresh. Quarantined after a
  // restore likewise: some pending units may be on sale already (settleRestoredStock).
  // Paused too while someone else's write to the shop waits for a person (FOREIGN_WRITE): another writer's absolute
  // quantities are invisible here.
  if (areWritesFrozen(ctx) || ctx.restore.isActive() || ctx.repo.isForeignWriteOpen()) return;
  if (inFlight(ctx, stock)) return;
  // An offer whose last import's outcome is unknown is never imported again until that is settled: its quantity may
  // or may not hold those units. Every other offer goes on.
  const held = new Set([...parked(ctx, stock), ...stalled(ctx, stock)].flatMap((i) => i.payload.lines.map((l) => l.sku)));
  const pending = ctx.restock.pendingOffers().filter((p) => !held.has(p.sku));
  if (pending.length === 0) return;
  const snapshot = readyFacts(stock);
  if (!snapshot || snapshot.id <= stock.floor()) return;
  const readAt = stock.salesThrough() ?? snapshot.by;
  const lines: ImportLine[] = [];
  let isAmbiguous = false;
  for (const p of pending) {
    if (lines.length >= maxLinesPerImport) break;
    const row = stock.offer(p.sku);
    if (!row) {
      // Every offer is in the snapshot (it starts from a full export): this SKU has none. Its units wait for a person
      // and hold back no other SKU.
      ctx.exceptions.raise({
        type: 'OFFER_NOT_FOUND',
        subjectKey: p.sku,
        offerSku: p.sku,
        cause: `${p.units.length} sellable unit(s) came back for SKU ${p.sku}, but Mirakl has no offer with that shop SKU.`,
      });
      continue;
    }
    ctx.exceptions.autoResolve('OFFER_NOT_FOUND', p.sku, 'the offer exists in Mirakl');
    // Unreadable in Mirakl's export (held aside as MALFORMED_RECORD): its quantity cannot be trusted.
    if (row.quantity === null) continue;
    const during = stock.sold(p.sku, snapshot.from, snapshot.by);
    const since = stock.sold(p.sku, snapshot.by, readAt);
    if (during !== 0 || since === null) {
      // Sold while the export was taken (its quantity may or may not count that sale), or a sale since cannot be
      // read: this offer waits for the next export.
      isAmbiguous = true;
      continue;
    }
    const from = Math.max(0, row.quantity - since);
    lines.push({ sku: p.sku, from, to: from + p.units.length, units: p.units });
  }
  if (lines.length === 0) {
    if (isAmbiguous) stock.raiseFloor(snapshot.id);
    return;
  }
  // While the facts were read, a person may have skipped or remapped some of these units (or another path moved them):
  // the guard is checked again now, in the same transaction that plans the import and just before it is sent. Only
  // units still pending on the same offer go out, and each line adds exactly the units it carries.
  let intent: Intent<ImportPayload> | undefined;
  let sending: ImportLine[] = [];
  ctx.transaction(() => {
    const claimable = ctx.restock.stillPending(lines);
    if (claimable.length === 0) return;
    const allUnits = claimable.flatMap((l) => l.units);
    // The units' exactly-once guarantee is their own state (pending → importing → applied); the key only names this
    // attempt, so a later attempt for the same units after a proven failure gets a fresh read and a new intent.
    const key = `stock-import:${createHash('sha256').update(allUnits.join('|')).digest('hex').slice(0, 24)}:${ctx.clock.now()}`;
    const planned = ctx.intents.plan<ImportPayload>({ kind: 'stock.import', key, subject: 'stock', payload: { lines: [] } });
    sending = ctx.restock.claimForImport(planned.id, claimable);
    // Its offers are expected to hold something else once it runs: its own check says what.
    for (const line of sending) stock.repo.forgetExpected(line.sku);
    const afterExport = stock.latestExportId();
    const basis: ImportBasis = { exportId: snapshot.id, readAt, sentAfter: stock.miraklNow() ?? readAt, afterExport };
    ctx.intents.setPayload(planned.id, { lines: sending, basis } satisfies ImportPayload);
    // No export asked for before this import can show what it did.
    stock.raiseFloor(afterExport);
    intent = ctx.intents.get<ImportPayload>(planned.id);
  });
  if (!intent) return;
  await sendStockImport(ctx, intent, sending);
}

async function sendStockImport(ctx: EngineContext, intent: Intent<ImportPayload>, lines: ImportLine[]): Promise<void> {
  await sendIntents(ctx, [intent], {
    point: 'sto01',
    isUnsafeWrite: true,
    call: () => ctx.mirakl.importStock(lines.map((l) => ({ sku: l.sku, quantity: l.to }))),
    onResult: (importId) => ctx.intents.confirm(intent.id, { importId, status: 'SUBMITTED' } satisfies ImportOutcome),
  });
  settleFailedImport(ctx, intent.id);
}

/**
 * A failed import's units: refused outright, they wait for a person (STOCK_REJECTED); failed before reaching Mirakl,
 * they go back to pending for a fresh read. Also run for failures recorded before a stop or a refused write could
 * settle their units (see claimsOfFailedImports), so no unit is ever left claimed by a failed import.
 */
function settleFailedImport(ctx: EngineContext, intentId: number): void {
  const after = ctx.intents.get<ImportPayload>(intentId);
  if (after?.state !== 'failed') return;
  const isRefused = after.nextAttemptAt === null;
  const intent = after;
  const lines = after.payload.lines;
  ctx.transaction(() => {
    if (isRefused) ctx.restock.markRejected(intent.id, after.lastError ?? '');
    else ctx.restock.releaseUnsent(intent.id, null);
    // Refused outright: these units are not back on sale, and only a person can say what to do about it.
    for (const line of isRefused ? lines : []) {
      ctx.exceptions.raise({
        type: 'STOCK_REJECTED',
        subjectKey: `${line.sku}:intent-${intent.id}`,
        offerSku: line.sku,
        cause: `Mirakl refused the stock import setting ${line.sku} to ${line.to} (${line.units.length} unit(s) restocked): ${after.lastError ?? 'no reason given'}`,
      });
    }
  });
}

// ---- asking for the next export --------------------------------------------------------------------------------------

/** Whether a fresher export would let something be decided; null when none is needed now. */
function exportWanted(ctx: EngineContext, stock: StockFacts): string | null {
  if (stock.requestedExport()) return null;
  const latest = stock.latestSnapshot();
  const now = ctx.clock.now();
  const current = inFlight(ctx, stock);
  if (current?.state === 'uncertain' && current.payload.basis) {
    // Read back once the import has surely run (our clock only says when to ask; Mirakl's decides what counts).
    const state = probeState(stock, current);
    if (state.kind === 'wait') return 'an import whose answer was lost: its offer sold while the last export was taken';
    if (state.kind === 'not_ready' && now - Date.parse(current.updatedAt) >= settleMs + minute && (!latest || isSnapshotTooEarly(latest, current))) {
      return 'an import whose answer was lost, read back';
    }
  }
  for (const intent of awaitingCheck(ctx, stock)) {
    const settled = (intent.outcome as ImportOutcome).settledAfterExport ?? Infinity;
    if (!latest || latest.id <= settled || latest.isRepeat) return 'an applied import, read back for what it overwrote';
    const state = checkState(stock, intent);
    if (state.kind === 'checked' && state.waiting.length > 0) return 'an applied import, read back again: its offer sold while the last export was taken';
  }
  if (isRestoreUnsettled(ctx) && !showsNowAfterRestore(ctx, latest)) return 'a restored database: what Mirakl holds now';
  const lastAskedAt = stock.latestExport()?.requested_at;
  const watchEvery = queueWatchEvery(ctx, stock);
  if (watchEvery !== null && (!lastAskedAt || now - Date.parse(lastAskedAt) >= watchEvery)) return "a lost import Mirakl's queue may still run, read back";
  // A reading suspected of someone else's write is judged once the sales are read well past it, and they are read with
  // an export: one a flush while it waits.
  const lastAsked = stock.latestExport();
  if (stock.repo.hasSuspectedExpected() && (!lastAsked || now - Date.parse(lastAsked.requested_at) >= heldRefreshMs)) {
    return 'a quantity that looks like someone else\'s write, judged again with the sales past it';
  }
  if (current) return null;
  const pending = ctx.restock.pendingOffers();
  if (pending.length === 0) return null;
  if (!latest || latest.id <= stock.floor() || latest.isRepeat) return 'units to restock';
  const isHeld = pending.some((p) => stock.offer(p.sku)?.quantity == null);
  const last = stock.latestExport();
  if (isHeld && (!last || now - Date.parse(last.requested_at) >= heldRefreshMs)) return 'units waiting on an offer Mirakl has not readably got';
  return null;
}

/**
 * How often the parked imports of this database's own are read back on Mirakl's queue's account: every 15 minutes while
 * the queue may still run one, hourly after, until an export taken once the queue would have run it has decided it
 * (released, found applied, or put to a person). Null when none is watched. One sent before a restore is never read back.
 */
function queueWatchEvery(ctx: EngineContext, stock: StockFacts): number | null {
  const now = Date.parse(stock.miraklNow() ?? isoAt(ctx.clock.now()));
  const latest = readyFacts(stock);
  let every: number | null = null;
  for (const intent of parked(ctx, stock)) {
    const until = lostImportMayRunUntil(intent);
    if (until === null || isSentBeforeRestore(ctx, intent)) continue;
    if (latest && Date.parse(latest.from) >= until && probeState(stock, intent).kind === 'decided') continue;
    const wait = now < until + 60 * minute ? queuedRefreshMs : 60 * minute;
    every = every === null ? wait : Math.min(every, wait);
  }
  return every;
}

/** Whether an export is too early to show what an import whose outcome is unknown did (it has a basis). */
function isSnapshotTooEarly(snapshot: Snapshot, intent: Intent<ImportPayload>): boolean {
  const basis = intent.payload.basis as ImportBasis;
  return snapshot.id <= readBackAfter(intent) || snapshot.isRepeat || Date.parse(snapshot.from) < Date.parse(basis.sentAfter) + settleMs;
}

/** Only exports asked for after this id may show what an import did: after it was sent, or after Mirakl forgot it. */
function readBackAfter(intent: Intent<ImportPayload>): number {
  return Math.max(intent.payload.basis?.afterExport ?? 0, (intent.outcome as ImportOutcome | null)?.reopenedAfterExport ?? 0);
}

/**
 * What a differential export asks for: what changed since the last export's contents were taken, that is since it was
 * asked for; after one Mirakl answered with for an earlier request, since a second before that one's start (latestSnapshot),
 * so it is not the same request again. Never a request made before: a second earlier for each export given up since the
 * last applied, and for each request whose answer never came (Mirakl would answer it with the export it took then).
 * After a restore, the earlier copy of the database asked from the same exports, and this one cannot see its requests
 * (an export of one still running when asked the same again would pass for fresh): an hour earlier until one is read.
 */
function differentialSince(ctx: EngineContext, stock: StockFacts, previous: Snapshot | null): string {
  if (!previous) return '';
  const since = previous.isRepeat ? isoAt(Date.parse(previous.from) - 1000) : previous.from;
  const restoreShiftMs = isUnreadSinceRestore(ctx, previous) ? 60 * minute : 0;
  const givenUp = stock.repo.givenUpSinceApplied();
  return restoreShiftMs + givenUp === 0 ? since : isoAt(Date.parse(since) - restoreShiftMs - givenUp * 1000);
}

/** Quarantined after a restore, and no export asked for since applied: the earlier copy may have asked the same. */
function isUnreadSinceRestore(ctx: EngineContext, previous: Snapshot): boolean {
  const quarantine = ctx.restore.current();
  return quarantine !== null && previous.id <= quarantine.stockBasis.afterExport;
}

async function askForExport(ctx: EngineContext, stock: StockFacts): Promise<void> {
  const why = exportWanted(ctx, stock);
  if (!why) return;
  const previous = stock.latestSnapshot();
  // Once a day, whatever became of the last one: a full request again the same day is refused, or answered with it.
  // Not within the hour after a restore either: the earlier copy of the database may have made the same one (a full
  // request has no parameters), and an export still running for it would pass for fresh (differentialSince).
  const lastFull = stock.repo.lastFullAsked();
  const restoredAt = ctx.restore.lastStartedAt();
  const isRestoredLately = restoredAt !== null && ctx.clock.now() - restoredAt < duplicateWindowMs;
  const isFullDue =
    !previous || (!isUnreadSinceRestore(ctx, previous) && !isRestoredLately && (!lastFull || ctx.clock.now() - Date.parse(lastFull.requested_at) >= fullEveryMs));
  const since = differentialSince(ctx, stock, previous);
  const ask = async (mode: 'full' | 'differential') => {
    // Written down first, so that a request Mirakl took is never made again, even by an app killed before the answer.
    const takenFrom = stock.miraklNow() ?? isoAt(ctx.clock.now() - serverMarginMs);
    const id = stock.repo.askingExport({ mode, since: mode === 'full' ? null : since, takenFrom, now: isoAt(ctx.clock.now()) });
    try {
      return { id, asked: await ctx.mirakl.requestOfferExport(mode === 'full' ? {} : { since }) };
    } catch (error) {
      // Refused by a call budget: Mirakl took nothing. Any other failure may have reached it: the request stays.
      if (isApiError(error) && error.kind === 'rate_limited') stock.repo.refusedExport(id);
      throw error;
    }
  };
  let mode: 'full' | 'differential' = isFullDue ? 'full' : 'differential';
  let request: Awaited<ReturnType<typeof ask>>;
  try {
    request = await ask(mode);
  } catch (error) {
    // Mirakl allows one full export a day: until then, what changed since the last one will do.
    if (!(mode === 'full' && previous && isApiError(error) && error.kind === 'rate_limited')) throw error;
    mode = 'differential';
    request = await ask(mode);
  }
  const { id, asked } = request;
  stock.sawMiraklAt(asked.serverTime);
  // A full request the same as one whose answer never came (with no export at hand: otherwise the next is differential)
  // may be answered with the export Mirakl took then: its contents may be from as early as that request.
  const ours = isoAt((asked.serverTime ?? ctx.clock.now()) - serverMarginMs);
  const earlier = stock.repo.unansweredSameFrom(id, mode, mode === 'differential' ? since : null, isoAt(ctx.clock.now() - duplicateWindowMs));
  stock.repo.answeredExport(id, asked.trackingId, earlier !== null && earlier < ours ? earlier : ours);
  ctx.log.info('stock export asked for', { mode, why });
}

// ---- after a restore ---------------------------------------------------------------------------------------------------

/**
 * What this database believes of Mirakl's stock, for a quarantine starting now: each offer's quantity as its latest
 * export showed it, at the moment that export was taken, and that export's id (restore-quarantine.ts).
 */
export function stockBasisNow(ctx: EngineContext): StockBasis {
  const stock = stockFacts(ctx);
  const snapshot = stock.latestSnapshot();
  const offers: StockBasis['offers'] = {};
  if (!snapshot) return { afterExport: stock.latestExportId(), offers };
  for (const row of stock.repo.offerQuantities()) if (row.quantity !== null) offers[row.shop_sku] = { quantity: row.quantity, at: snapshot.by };
  // Its own imports that export may not show: what each offer held then depends on them (the latest one of each offer).
  for (const id of stock.repo.importsMaybeAfter(snapshot.id, isoAt(Date.parse(snapshot.from) - settleMs))) {
    const intent = ctx.intents.get<ImportPayload>(id);
    const basis = intent?.payload.basis;
    if (!basis) continue;
    for (const line of intent.payload.lines) {
      const offer = offers[line.sku];
      if (offer) offer.ownImport = { intentId: id, to: line.to, readAt: basis.readAt, sentAfter: basis.sentAfter, mayBeShown: snapshot.id > basis.afterExport };
    }
  }
  return { afterExport: stock.latestExportId(), offers };
}

/** What a database put back believed an offer held, and since when; or why that cannot be told, or that it must wait. */
type RestoredBelief =
  | { kind: 'known'; quantity: number; at: string; what: string; ownImport?: { line: OwnImportLine; overwritten: number }; inDoubt?: { intentId: number; units: number } }
  | { kind: 'unclear'; why: string; ownImport?: OwnImportLine }
  | { kind: 'wait' };

/**
 * An offer's belief after a restore: its quantity as the latest export showed it, unless an import of the database's own
 * that export cannot show was applied — then the quantity that import set as of its read, with the sales it overwrote
 * (sold after the read and before it was sent; see lineVerdict) still in it. That import is judged only once settled; a
 * sale in the minutes it may have taken to run may or may not be in what it set, so the offer is then unclear.
 */
function restoredBelief(
  ctx: EngineContext,
  stock: StockFacts,
  quarantine: { startedAt: string },
  sku: string,
  entry: StockBasis['offers'][string] | undefined,
  inDoubt: readonly Intent<ImportPayload>[],
): RestoredBelief {
  if (!entry) return { kind: 'unclear', why: 'this database held no quantity of it from before' };
  const fromExport: RestoredBelief = { kind: 'known', quantity: entry.quantity, at: entry.at, what: `this database knew of ${entry.quantity} at ${entry.at}` };
  // Its own import of it whose answer was lost, older than what it believed: that export shows it applied or not, and
  // which of the two cannot be told from here — nor, then, whether its units are among those Mirakl shows.
  const doubtful = inDoubt.find((i) => (ctx.restock.importLine(i.id, sku).importing ?? 0) > 0);
  if (doubtful && doubtful.id !== entry.ownImport?.intentId) {
    return { kind: 'unclear', why: `whether this database's own stock update of it whose answer was lost (import ${doubtful.id}) ran is not known` };
  }
  const own = entry.ownImport;
  if (!own) return fromExport;
  const intent = ctx.intents.get<ImportPayload>(own.intentId);
  if (!intent || intent.state === 'failed') return fromExport;
  const units = ctx.restock.importLine(own.intentId, sku);
  if ((units.importing ?? 0) > 0 && intent.state === 'uncertain') {
    // Its answer lost: judged here, with the imports unknown to this database. Applied, it added its units to what the
    // offer held, and the sales between its read and its running, which it overwrote. Either adds to Mirakl's quantity
    // beyond the belief without it, as does an earlier copy's import of the same units had it not run: at least its
    // units beyond the belief shows them on sale, one way or the other, and the rest is raised as overwritten; fewer shows
    // it did not run (settleRestoredStock). Asking a person whether it ran would not do: "not done" would release units
    // an earlier copy may have put on sale since, and "done" would record it without the sales it overwrote.
    if (own.mayBeShown) {
      return { kind: 'unclear', why: `its last export was taken while this database's own stock update of it (setting ${own.to}), whose answer was lost, may have been running` };
    }
    if (stock.sold(sku, own.readAt, isoAt(Date.parse(own.sentAfter) + settleMs)) === null) {
      return { kind: 'unclear', why: `its sales while this database's own stock update of it, whose answer was lost, was on its way could not all be read` };
    }
    return { ...fromExport, what: `${fromExport.what}, and its own stock update of it (${units.importing} unit(s)), whose answer was lost, either ran or not`, inDoubt: { intentId: own.intentId, units: units.importing ?? 0 } };
  }
  if ((units.importing ?? 0) > 0) {
    // Still settling (STO02, or read back): waited for, unless it waits for a person, or for longer than an import's
    // fate is left unknown anywhere (its status may never be read again, and refunds wait with the settlement).
    const isParked = stock.repo.importsParked().includes(own.intentId);
    const hasWaitedTooLong = ctx.clock.now() - Date.parse(quarantine.startedAt) >= unknownAfterMs;
    if (isParked || hasWaitedTooLong) {
      return { kind: 'unclear', why: `whether this database's own stock update of it (setting ${own.to}) ran is not known yet`, ownImport: own };
    }
    return { kind: 'wait' };
  }
  if ((units.applied ?? 0) === 0) return fromExport;
  if (own.mayBeShown) {
    return { kind: 'unclear', why: `its last export was taken while this database's own stock update of it (setting ${own.to}) may have been running`, ownImport: own };
  }
  const beforeSent = stock.sold(sku, own.readAt, own.sentAfter);
  const whileRunning = stock.sold(sku, own.readAt, isoAt(Date.parse(own.sentAfter) + settleMs));
  if (beforeSent === null || whileRunning === null) {
    return { kind: 'unclear', why: `its sales while this database's own stock update of it was on its way could not all be read`, ownImport: own };
  }
  if (whileRunning > beforeSent) {
    return {
      kind: 'unclear',
      why: `${whileRunning} unit(s) sold while this database's own stock update of it (setting ${own.to}) was on its way, and that update may have overwritten them`,
      ownImport: own,
    };
  }
  return {
    kind: 'known',
    quantity: own.to + beforeSent,
    at: own.readAt,
    what: `this database's own stock update set ${own.to} as of ${own.readAt}${beforeSent ? `, overwriting ${beforeSent} unit(s) sold before it was sent` : ''}`,
    ownImport: { line: own, overwritten: beforeSent },
  };
}

/** Planned before the latest quarantine after a restore began: by this database, before it was put back. */
function isSentBeforeRestore(ctx: EngineContext, intent: Intent<ImportPayload>): boolean {
  return ctx.restore.predates(intent.createdAt);
}

/** Its own imports whose outcome is unknown (their answer lost): in flight, or waiting for a person. */
function importsInDoubt(ctx: EngineContext, stock: StockFacts): Intent<ImportPayload>[] {
  const current = inFlight(ctx, stock);
  return [...(current?.state === 'uncertain' ? [current] : []), ...parked(ctx, stock)];
}

/** Quarantined after a restore, with the units already imported not settled yet. */
function isRestoreUnsettled(ctx: EngineContext): boolean {
  const quarantine = ctx.restore.current();
  return quarantine !== null && quarantine.stockSettledAt === null;
}

/**
 * Whether an export shows what Mirakl holds since the quarantine began: asked for since, and taken since it was asked.
 * Mirakl answers a request identical to one of the last hour with that export (OF52: "the tracking_id of the existing
 * export"), and the earlier copy of the database asked the same: taken before the restore, it cannot show that copy's
 * last imports. The next request differs (it starts from this one), so it is a new export. Once the settlement has
 * asked for one of its own (settleAfterExport), only a later one.
 */
function showsNowAfterRestore(ctx: EngineContext, snapshot: Snapshot | null): boolean {
  const basis = ctx.restore.current()?.stockBasis;
  const after = Math.max(basis?.afterExport ?? 0, basis?.settleAfterExport ?? 0);
  return snapshot !== null && snapshot.id > after && !snapshot.isRepeat;
}

/**
 * Quarantined after a restore, with the units already imported not settled yet: the earliest moment whose sales the
 * settlement counts (when what the database put back believed was true), while the sales read here do not reach back
 * to it; null otherwise. A belief older than the sales kept is not read back: its sales stay unknown, and the units wait.
 */
function restoreSalesFrom(ctx: EngineContext, stock: StockFacts): string | null {
  const quarantine = ctx.restore.current();
  if (!quarantine || quarantine.stockSettledAt !== null) return null;
  const beliefs = Object.values(quarantine.stockBasis.offers);
  if (beliefs.length === 0) return null;
  const from = beliefs.reduce((earliest, b) => (b.at < earliest ? b.at : earliest), beliefs[0]?.at as string);
  // Measured against the sales read (salesKnownFrom's own bound), so a belief it cannot reach is never waited for.
  const now = stock.salesThrough() ?? stock.miraklNow() ?? isoAt(ctx.clock.now());
  if (from < isoAt(Date.parse(now) - salesKeptMs + 60 * minute)) return null;
  const known = stock.salesKnownFrom();
  return known !== null && known <= from ? null : from;
}

/**
 * After a restore, the settlement judged this offer against the database's own import of it: that import's read-back
 * of the offer is done (a later export also shows what imports unknown here did, which its check would take for sales
 * overwritten, or for someone else's write). `overwritten`: the sales it overwrote, raised as its own check would; null
 * when they could not be told, which the settlement's RESTOCK_UNCERTAIN puts to a person.
 */
function closeOwnImportCheck(ctx: EngineContext, stock: StockFacts, own: OwnImportLine, sku: string, overwritten: number | null, shortBy = 0): void {
  const intent = ctx.intents.get<ImportPayload>(own.intentId);
  const outcome = intent?.outcome as ImportOutcome | null | undefined;
  if (!intent || !outcome?.toCheck?.includes(sku)) return;
  const suspects = { ...(outcome.suspects ?? {}) };
  delete suspects[sku];
  ctx.intents.updateOutcome(own.intentId, {
    ...outcome,
    toCheck: outcome.toCheck.filter((s) => s !== sku),
    overwritten: overwritten === null ? (outcome.overwritten ?? {}) : { ...(outcome.overwritten ?? {}), [sku]: overwritten },
    suspects,
  } satisfies ImportOutcome);
  const line = intent.payload.lines.find((l) => l.sku === sku);
  if (line && overwritten !== null) raiseOverwritten(ctx, stock, intent, line, overwritten, { shortBy });
}

/**
 * What a restore's settlement judges, once everything it waits for is known: ReBound read again (every unit graded since
 * the backup is pending here), the returns received since found, an export taken since the quarantine began (and since
 * the settlement asked for one) read, with the sales from what the database believed up to it; null until then.
 */
function restoredStockToJudge(ctx: EngineContext, stock: StockFacts, quarantine: RestoreQuarantineRow) {
  const rebound = ctx.feeds.schedule('rebound');
  if (!rebound.lastRunAt || rebound.lastRunAt < quarantine.startedAt || rebound.lastError !== null) return null;
  // Units of returns received since the backup are known only once their return orders were found (intake.ts).
  if (ctx.intake.waitingToBeFound() > 0) return null;
  const snapshot = readyFacts(stock);
  if (!snapshot || !showsNowAfterRestore(ctx, snapshot)) return null;
  // The sales since what it believed are being read back (readSales).
  if (restoreSalesFrom(ctx, stock) !== null) return null;
  planStockIncrements(ctx);
  // Offers with units waiting, and offers with units the sku-offers mapping skipped since the restore: the database put
  // back learnt of those only now, and an earlier copy of it may have put them on sale before the mapping said never.
  const pendingOffers = new Set(ctx.restock.pendingOffers().map((p) => p.sku));
  const skippedSince = ctx.restock.offersSkippedByMappingSince(quarantine.startedAt);
  // And the offers of its own imports whose answer was lost: what Mirakl shows now holds what an earlier copy imported
  // since, so they are judged here, with it, and never read back on their own (decideFromFacts).
  const inDoubt = importsInDoubt(ctx, stock);
  const doubtfulOffers = inDoubt.flatMap((i) => i.payload.lines.map((l) => l.sku));
  const judgedOffers = [...new Set([...pendingOffers, ...skippedSince, ...doubtfulOffers])];
  const beliefs = new Map(judgedOffers.map((sku) => [sku, restoredBelief(ctx, stock, quarantine, sku, quarantine.stockBasis.offers[sku], inDoubt)]));
  if ([...beliefs.values()].some((b) => b.kind === 'wait')) return null;
  return { snapshot, judgedOffers, inDoubt, beliefs: beliefs as Map<string, Exclude<RestoredBelief, { kind: 'wait' }>> };
}

/**
 * The settlement's own export read, something else it waits for is unknown again (the sales through it failed, ReBound,
 * a return to find): by the time it is known, what Mirakl holds may have changed. Past a pass (the sales through an
 * export may be read only in the next), it drops its mark, and asks for another export once all is known again.
 */
function unreadyAfterAsking(ctx: EngineContext, stock: StockFacts, quarantine: RestoreQuarantineRow): void {
  const { settleAfterExport: mark, unreadyWith } = quarantine.stockBasis;
  const latest = stock.latestSnapshot();
  if (mark === undefined || !latest || latest.isRepeat || latest.id <= mark) return;
  ctx.restore.markSettlement(unreadyWith === latest.id ? { settleAfterExport: undefined, unreadyWith: undefined } : { unreadyWith: latest.id });
}

/**
 * Quarantined after a restore: once ReBound was read again (every unit graded since the backup is pending here), an
 * export taken since the quarantine began has been read, and the sales are read from what the database believed up to
 * that export, each offer with pending units is compared with that belief (restoredBelief): Mirakl's quantity beyond it,
 * less the units sold since, is units an import this database no longer knows of already put on sale. That many pending
 * units are settled applied, so they are never imported a second time; more than they explain is raised as
 * STOCK_OVERWRITTEN; the rest wait for a person (RESTOCK_UNCERTAIN). Settled once per quarantine, with an export it
 * asked for once all else was known.
 */
function settleRestoredStock(ctx: EngineContext, stock: StockFacts): void {
  const quarantine = ctx.restore.current();
  if (!quarantine || quarantine.stockSettledAt !== null) return;
  const ready = restoredStockToJudge(ctx, stock, quarantine);
  if (!ready) return unreadyAfterAsking(ctx, stock, quarantine);
  const { snapshot, judgedOffers, inDoubt, beliefs } = ready;
  // Everything else was known only now, maybe hours after the export was taken: an import an earlier copy made may have
  // run since (Mirakl's queue holds them for hours). It judges with an export asked for from now on (exportWanted), by
  // order, not age: a reading of a given age may never exist when the engine runs seldom.
  if (judgedOffers.length > 0 && quarantine.stockBasis.settleAfterExport === undefined) {
    ctx.restore.markSettlement({ settleAfterExport: stock.repo.latestExportId() });
    return;
  }
  // Its export asked for an hour or more ago (the app closed, the machine asleep, between asking and judging): asked for
  // again, a few times at most, so an engine whose every pass is hours apart still settles (what it cannot tell then
  // waits for a person). On this engine's own clock: Mirakl's as last seen is only as fresh as this pass's calls.
  const staleAsks = quarantine.stockBasis.staleAsks ?? 0;
  const isStale = ctx.clock.now() - Date.parse(snapshot.askedAt) >= restoreReadingFreshMs;
  if (judgedOffers.length > 0 && isStale && staleAsks < maxStaleAsks) {
    ctx.restore.markSettlement({ settleAfterExport: stock.repo.latestExportId(), unreadyWith: undefined, staleAsks: staleAsks + 1 });
    return;
  }
  const found: string[] = [];
  const unclear: string[] = [];
  let settled = 0;
  let heldUnits = 0;
  ctx.transaction(() => {
    for (const sku of judgedOffers) {
      const belief = beliefs.get(sku) as Exclude<RestoredBelief, { kind: 'wait' }>;
      const basis = belief.kind === 'known' ? belief : undefined;
      const row = stock.offer(sku);
      const sold = basis ? stock.sold(sku, basis.at, snapshot.by) : null;
      // Without a quantity before and after, and the sales between, nothing shows what was imported: all of it waits.
      const isKnown = basis !== undefined && row !== undefined && row.quantity !== null && sold !== null;
      // Mirakl never shows a quantity below 0: sales beyond the stock left take it to 0, not below.
      const surplus = isKnown ? (row.quantity as number) - Math.max(0, basis.quantity - (sold as number)) : 0;
      const judged =
        belief.kind === 'unclear'
          ? belief.why
          : row?.quantity === null || row === undefined
            ? "Mirakl's quantity of it could not be read"
            : sold === null
              ? `its sales since ${belief.at} could not all be read`
              : `Mirakl showed ${row.quantity} at ${snapshot.by}; ${belief.what}, and ${sold} sold since`;
      // Its own import's read-back is this judgement: a later export also shows what imports unknown here did.
      if (belief.kind === 'known' && belief.ownImport) closeOwnImportCheck(ctx, stock, belief.ownImport.line, sku, belief.ownImport.overwritten, Math.max(0, -surplus));
      if (belief.kind === 'unclear' && belief.ownImport) closeOwnImportCheck(ctx, stock, belief.ownImport, sku, null);
      if (!isKnown) unclear.push(sku);
      // Its own import whose answer was lost: at least its units beyond the belief without it shows them on sale (it ran,
      // or an earlier copy that learnt it did not run imported them again; sales it overwrote are the rest, raised below);
      // fewer shown, it did not run, and its units wait as the others do (restoredBelief).
      // Not shown on sale while Mirakl's queue may still run it says nothing: its units stay with it, for a person.
      let doubtApplied = 0;
      if (isKnown && basis.inDoubt) {
        const note = `restored database: ${surplus >= basis.inDoubt.units ? 'on sale' : 'not on sale'}, its answer lost (${judged})`;
        const doubtful = ctx.intents.get<ImportPayload>(basis.inDoubt.intentId);
        const queuedUntil = doubtful ? lostImportMayRunUntil(doubtful) : null;
        if (surplus >= basis.inDoubt.units) doubtApplied = ctx.restock.markApplied(basis.inDoubt.intentId, note, sku);
        else if (queuedUntil === null || Date.parse(snapshot.from) >= queuedUntil) ctx.restock.releaseUnsent(basis.inDoubt.intentId, note, sku);
      }
      const left = surplus - doubtApplied;
      settled += doubtApplied;
      const units = left > 0 ? ctx.restock.settleImportedElsewhere(sku, left, `restored database: already on sale (${judged})`) : [];
      // Beyond the units waiting: units the mapping skipped since the restore, which an import before the mapping changed
      // put on sale. They are on sale, so they are recorded so; whether they should stay there is a person's question.
      const onSaleSkipped = isKnown
        ? ctx.restock.settleSkippedImportedElsewhere(sku, quarantine.startedAt, left - units.length, `restored database: on sale although the sku-offers mapping now says never restock (${judged})`)
        : [];
      const explained = doubtApplied + units.length + onSaleSkipped.length;
      settled += units.length + onSaleSkipped.length;
      if (explained > 0) found.push(`${sku} ${explained}${surplus > explained ? ` (Mirakl shows ${surplus - explained} more no returned unit explains)` : ''}`);
      // More on sale than the returned units explain: a sale an import before the restore overwrote (what that import's
      // own check would have raised, had this database known of it), or stock set by someone else. A person corrects it.
      if (isKnown && surplus > explained) {
        ctx.exceptions.raise({
          type: 'STOCK_OVERWRITTEN',
          subjectKey: `${sku}:restore-${quarantine.id}`,
          offerSku: sku,
          cause: `After this database was put back from a backup, Mirakl shows ${surplus - explained} unit(s) of ${sku} more than the returned units explain (${judged}). A stock update made before the restore may have overwritten sales. Lower ${sku} by ${surplus - explained} in the back office if the shelf count agrees.`,
        });
      }
      // Its own import of the offer was judged here (its read-back closed, or its lost answer settled), as its own check
      // would have: what Mirakl showed is what the offer is expected to hold from then on, less the units sold since and
      // the overwritten units a person may take off, so someone else's later write to it is seen (checkExpected).
      if (isKnown && (basis.ownImport || basis.inDoubt)) {
        stock.expect(sku, row.quantity as number, snapshot, (basis.ownImport?.overwritten ?? 0) + Math.max(0, surplus - explained), `the restore settlement of ${quarantine.startedAt}`);
      }
      raiseSkippedOnSale(ctx, quarantine, sku, { onSale: onSaleSkipped.length, isKnown, judged, quantity: row?.quantity ?? null });
      // The rest may have been imported too, by calls this database no longer knows of: a sale it has not read, or one
      // read late, hides such an import from the count. A unit restocked twice is worse than one restocked late, so
      // they wait for a person who checks the listing.
      const held = ctx.restock.holdForPerson(sku, `restored database: not shown as already on sale (${judged}); waiting for a person`);
      if (held > 0) {
        heldUnits += held;
        ctx.exceptions.raise({
          type: 'RESTOCK_UNCERTAIN',
          subjectKey: sku,
          offerSku: sku,
          cause:
            `This database was put back from a backup or copied in. ${ctx.restock.rejectedOf(sku, 'restore')} returned unit(s) of ${sku} are waiting to be put back on sale, ` +
            `but the app cannot tell whether a stock update it made before the restore already added them: ${judged}` +
            (basis
              ? `, so ${Math.max(0, surplus)} unit(s) show as added since. Check the listing's quantity, then restock them or skip.`
              : `. Its quantity in Mirakl may hold what stock updates made before the restore did, unknown to this database: ` +
                `these units put back, and sales an update overwrote (${row?.quantity ?? 'unknown'} now). Count the shelf, set the ` +
                `listing's quantity in the back office if it differs, then restock them or skip.`),
        });
      }
    }
    for (const intent of inDoubt) settleImportInDoubt(ctx, intent);
    ctx.restore.stockSettled(
      `${settled} returned unit(s) were already on sale in Mirakl and were not imported again${found.length ? ` (${found.join(', ')})` : ''}` +
        (heldUnits ? `; ${heldUnits} wait for a person (RESTOCK_UNCERTAIN)` : '') +
        (unclear.length ? `; what ${unclear.join(', ')} held could not be told` : ''),
    );
  });
}

/**
 * After a restore's settlement: its own import whose answer was lost, with every line judged, is settled (confirmed if
 * any of its units were found on sale, failed if none); with lines it could not judge, it waits for a person, who sees
 * the offers in Mirakl: it is never read back against exports that hold what an earlier copy did (decideFromFacts).
 */
function settleImportInDoubt(ctx: EngineContext, intent: Intent<ImportPayload>): void {
  const subjectKey = `intent:${intent.id}`;
  const lines = intent.payload.lines.map((l) => ({ sku: l.sku, units: ctx.restock.importLine(intent.id, l.sku) }));
  if (lines.some((l) => (l.units.importing ?? 0) > 0)) {
    askWhetherImportRan(ctx, intent);
    return;
  }
  const why = 'judged after the database was put back from a backup, with what Mirakl shows since (the restore settlement)';
  if (lines.some((l) => (l.units.applied ?? 0) > 0)) ctx.intents.confirmUncertain(intent.id, { importId: null, status: 'SETTLED', checkedAt: isoAt(ctx.clock.now()) } satisfies ImportOutcome);
  else ctx.intents.fail(intent.id, `not applied: ${why}`, null, 'uncertain');
  ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', subjectKey, why);
}

/**
 * Its own import whose answer was lost before the database was put back, which the settlement could not judge: only a
 * person can say whether it ran (its offers' quantities also hold what stock updates made since the backup did).
 */
function askWhetherImportRan(ctx: EngineContext, intent: Intent<ImportPayload>): void {
  const open = intent.payload.lines.filter((l) => (ctx.restock.importLine(intent.id, l.sku).importing ?? 0) > 0).map((l) => l.sku);
  const queuedUntil = lostImportMayRunUntil(intent);
  const isQueued = queuedUntil !== null && ctx.clock.now() < queuedUntil;
  ctx.exceptions.raise({
    type: 'OUTCOME_UNKNOWN',
    subjectKey: `intent:${intent.id}`,
    cause:
      `A stock import's answer was lost before this database was put back from a backup, and what Mirakl shows now cannot tell whether it ran ` +
      `on ${open.join(', ')}: its quantities also hold what stock updates made since the backup did. It is not sent again, and the app no longer checks it by itself: check the offers in Mirakl, then mark it done or not done.` +
      (isQueued
        ? ` Mirakl's import queue may still run it until ${isoAt(queuedUntil)}: until then it can be marked done (Mirakl's import history shows it ran) but not "not done". If it runs meanwhile, it sets each offer back to the quantity it carried, over the sales made since it was sent: lower the offer by those sales then.`
        : ''),
  });
}

/**
 * After a restore, units of `sku` the sku-offers mapping skipped (never restock) may be on sale all the same: put there by
 * an import an earlier copy of the database made before the mapping changed. The units Mirakl's quantity shows were
 * recorded as on sale; a person decides whether they stay there (the mapping says they should not). Where the quantity
 * could not be judged, whether they are on sale at all is the question.
 */
function raiseSkippedOnSale(
  ctx: EngineContext,
  quarantine: { id: number; startedAt: string },
  sku: string,
  found: { onSale: number; isKnown: boolean; judged: string; quantity: number | null },
): void {
  if (found.isKnown && found.onSale > 0) {
    ctx.exceptions.raise({
      type: 'RESTOCK_UNCERTAIN',
      subjectKey: `${sku}:restore-${quarantine.id}:never-restock-on-sale`,
      offerSku: sku,
      cause:
        `This database was put back from a backup. ${found.onSale} returned unit(s) of ${sku} are on sale in Mirakl although the sku-offers mapping ` +
        `now says never restock ${sku}: a stock update made before the restore put them back before the mapping changed (${found.judged}). ` +
        `They are recorded as restocked. If they should not be on sale, lower ${sku} by ${found.onSale} in the back office; then skip the restock to close this.`,
    });
    return;
  }
  if (found.isKnown) return;
  const skipped = ctx.restock.skippedByMappingSince(sku, quarantine.startedAt);
  if (skipped === 0) return;
  // Until the person answers, a mapping edit must not restock them: that is what the question is about.
  ctx.restock.holdSkippedForPerson(sku, quarantine.startedAt);
  ctx.exceptions.raise({
    type: 'RESTOCK_UNCERTAIN',
    subjectKey: `${sku}:restore-${quarantine.id}:never-restock-unknown`,
    offerSku: sku,
    cause:
      `This database was put back from a backup or copied in. ${skipped} returned unit(s) of ${sku} were not restocked because the sku-offers ` +
      `mapping says never restock ${sku}, but a stock update made before the restore, before the mapping changed, may have put them on sale: ` +
      `${found.judged}. Its quantity in Mirakl may hold what stock updates made before the restore did, unknown to this database: these units ` +
      `put back, and sales an update overwrote (${found.quantity ?? 'unknown'} now). Count the shelf, set the listing's quantity in the back office ` +
      `if it differs, then skip the restock to close this.`,
  });
}

// ---- the facts, kept locally ----------------------------------------------------------------------------------------

type StockFacts = ReturnType<typeof stockFacts>;

/** ISO on Mirakl's clock, from what an answer said (an ISO date or a time in ms); null when it said nothing usable. */
function miraklIso(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isNaN(ms) ? null : isoAt(ms);
}

/**
 * The snapshot of offer quantities, the exports and the sales (core/store/stock-facts-repo.ts): Mirakl's facts as last
 * read, with the two cursors that say what they may decide — the export floor (exports up to it predate our last
 * import's effect) and how far the sales are known (Mirakl's clock) — and the records that could not be read held aside.
 */
function stockFacts(ctx: EngineContext) {
  const repo = ctx.stockFacts;
  const cursor = {
    floor: 'stock.export_floor',
    salesThrough: 'stock.sales_through',
    salesFrom: 'stock.sales_from',
    miraklNow: 'stock.mirakl_now',
    expectedChecked: 'stock.expected_checked',
  };
  const now = () => isoAt(ctx.clock.now());
  const numberAt = (name: string): number => Number(ctx.cursors.get(name) ?? '0');
  const heldAmong = (operation: string, keys: Iterable<string>): string[] => {
    const wanted = new Set(keys);
    return ctx.quarantine.heldKeys(operation, 10_000).filter((k) => wanted.has(k));
  };

  /**
   * The sales are known without a gap from this moment to salesThrough (Mirakl's clock): where the reads began, and no
   * earlier than the sales kept. Null while none was read. A database from before this was recorded is taken to know
   * them as far back as it keeps them.
   */
  const salesKnownFrom = (): string | null => {
    const through = ctx.cursors.get(cursor.salesThrough);
    if (through === null) return null;
    const kept = isoAt(Date.parse(through) - salesKeptMs);
    const from = ctx.cursors.get(cursor.salesFrom);
    return from !== null && from > kept ? from : kept;
  };

  return {
    repo,
    floor: (): number => numberAt(cursor.floor),
    /** Exports up to `id` may no longer be used to plan an import; the floor never goes down. */
    raiseFloor(id: number): void {
      if (id > numberAt(cursor.floor)) ctx.cursors.set(cursor.floor, String(id));
    },
    salesThrough: (): string | null => ctx.cursors.get(cursor.salesThrough),
    salesKnownFrom,
    /** Exports up to this id have been compared with what the offers we set are expected to hold. */
    expectedCheckedThrough: (): number => numberAt(cursor.expectedChecked),
    expectedChecked(id: number): void {
      if (id > numberAt(cursor.expectedChecked)) ctx.cursors.set(cursor.expectedChecked, String(id));
    },
    /** `sku` is expected to hold `quantity`, as an export taken in [from, by] showed it, less the units sold since (`correction` more may be taken off). */
    expect(sku: string, quantity: number, taken: { from: string; by: string }, correction: number, basis: string): void {
      repo.expectOffer({ sku, quantity, fromMirakl: taken.from, atMirakl: taken.by, correction: Math.max(0, correction), basis, now: now() });
    },
    /** The latest time Mirakl's answers to the stock reads carried: a moment already past on Mirakl's clock. */
    miraklNow: (): string | null => ctx.cursors.get(cursor.miraklNow),
    sawMiraklAt(serverTime: number | null): void {
      const at = miraklIso(serverTime);
      const known = ctx.cursors.get(cursor.miraklNow);
      if (at && (!known || at > known)) ctx.cursors.set(cursor.miraklNow, at);
    },

    latestExportId: (): number => repo.latestExportId(),
    latestExport: (): OfferExportRow | undefined => repo.latestExport(),
    requestedExport: (): OfferExportRow | undefined => repo.requestedExport(),
    /**
     * The latest export applied. Dated before our request for it (`by` before `from`): by a little, the clocks of
     * Mirakl's servers differ, and it was taken around the two; by more than a minute, Mirakl answered ours with an export
     * it took for an earlier request (one this app never repeats: see askForExport, so another client's, or a duplicate
     * Mirakl saw where we did not). That one was taken after the export it asked from, at most an export's life before.
     */
    latestSnapshot(): Snapshot | null {
      const row = repo.latestApplied();
      if (!row?.taken_by_mirakl) return null;
      const [from, by] = [row.taken_from_mirakl, row.taken_by_mirakl];
      if (by >= from) return { id: row.id, from, by, isRepeat: false, askedAt: row.requested_at };
      // The servers' clocks differ by at least the gap and, taken to be no more than a minute, the contents were taken
      // after the request on one clock and before completion on the other: within a minute either side.
      if (Date.parse(by) >= Date.parse(from) - repeatBeforeMs) {
        return { id: row.id, from: isoAt(Date.parse(from) - repeatBeforeMs), by: isoAt(Date.parse(by) + repeatBeforeMs), isRepeat: false, askedAt: row.requested_at };
      }
      return { id: row.id, from: row.since_mirakl ?? isoAt(Date.parse(by) - exportGiveUpMs), by, isRepeat: true, askedAt: row.requested_at };
    },
    failExport(id: number, error: string): void {
      repo.failExport(id, error);
      ctx.log.warn('stock export given up', { id, error });
    },

    /** The export's offers, as in repo.applyExport; an offer whose record cannot be read is held aside (MALFORMED_RECORD). */
    applyExport(exp: OfferExportRow, takenBy: string, offers: ExportedOffer[], quarantined: QuarantinedRecord[]): void {
      ctx.transaction(() => {
        // A record without a readable shop SKU names no offer: it is held aside, and changes nothing in the snapshot.
        const unreadable = quarantined.filter((r) => !r.key.startsWith('#')).map((r) => r.key);
        repo.applyExport({ id: exp.id, isFull: exp.mode === 'full', takenBy, offers, unreadable, now: now() });
        ctx.quarantine.hold(quarantined);
        // A readable copy ends an earlier hold (of this export's kind, or of the per-offer reads used before it).
        const readable = offers.map((o) => o.shop_sku);
        for (const operation of ['OF52', 'OF21']) ctx.quarantine.release(operation, heldAmong(operation, readable));
      });
    },

    offer: (sku: string): { quantity: number | null } | undefined => repo.offer(sku),

    /**
     * Units of `sku` sold in (from, to] on Mirakl's clock; null when a sale in that window cannot be read, or the window
     * begins before the sales read here do (a sale there was never seen).
     */
    sold(sku: string, from: string, to: string): number | null {
      if (to <= from) return 0;
      const knownFrom = salesKnownFrom();
      if (knownFrom === null || from < knownFrom) return null;
      const r = repo.soldIn(sku, from, to);
      return r.unknown > 0 ? null : r.units;
    },

    /** Sales read from OR11, known through `through` (Mirakl's clock); an order that cannot be read is held aside. */
    recordSales(
      read: {
        sales: { order_id: string; order_line_id: string; offer_sku: string; quantity: number; created_date: string }[];
        unreadable: { record: QuarantinedRecord; createdDate: string | null; skus: (string | null)[] }[];
      },
      since: string,
      through: string,
    ): void {
      ctx.transaction(() => {
        const readableOrders = [...new Set(read.sales.map((s) => s.order_id))];
        repo.recordSales({
          readableOrders,
          sales: [
            ...read.sales.map((s) => ({ orderLineId: s.order_line_id, orderId: s.order_id, offerSku: s.offer_sku, quantity: s.quantity, createdMirakl: miraklIso(s.created_date) ?? through })),
            ...read.unreadable.flatMap((u) =>
              u.skus.map((sku, i) => ({ orderLineId: `${u.record.key}#${i + 1}`, orderId: u.record.key, offerSku: sku, quantity: null, createdMirakl: miraklIso(u.createdDate) ?? through })),
            ),
          ],
          now: now(),
          keepFrom: isoAt(Date.parse(through) - salesKeptMs),
        });
        ctx.quarantine.hold(read.unreadable.map((u) => u.record));
        ctx.quarantine.release('OR11', heldAmong('OR11', readableOrders));
        const known = ctx.cursors.get(cursor.salesThrough);
        if (!known || through > known) ctx.cursors.set(cursor.salesThrough, through);
        // A read reaches back to `since` from at least as far as the last one ended: the sales stay known without a gap.
        // (A database from before this was kept has no start: it keeps assuming the sales it keeps.)
        const knownFrom = ctx.cursors.get(cursor.salesFrom);
        if (!known || (knownFrom !== null && since < knownFrom)) ctx.cursors.set(cursor.salesFrom, since);
      });
    },
  };
}
