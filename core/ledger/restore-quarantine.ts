import type { Database } from 'better-sqlite3';
import { createAuditLog } from '../audit/log';
import type { Clock } from '../ports';
import type { ExceptionStore } from './exceptions';

// Quarantine after restore (issue 25). A database put back from a backup, or copied in, does not know the refunds and
// stock imports made after it was taken: planning from it would refund a line again and import units Mirakl already
// holds. So an engine that finds itself on such a database (lease.ts, arrivedBecause) sends no refund (OR28) and no
// stock import (STO01) until Mirakl's ledger of every order with refund work was read again and the units Mirakl's
// quantities show as already imported were settled. The start and the end are audited and shown to a person as one
// critical RESTORED_DATABASE exception, which closes itself when the quarantine ends.

/**
 * What the database believed of Mirakl's stock: per offer, the quantity and the moment (Mirakl's clock) it held, and
 * the last export it had asked for — only a later one shows what was imported since.
 */
export interface StockBasis {
  afterExport: number;
  /**
   * The last export asked for once everything else the settlement waits for was known (the sales, ReBound, the returns
   * received since): it judges with a later one, as what Mirakl holds may have changed while it waited — an earlier
   * copy's import Mirakl's queue held for hours. Dropped when, that export read, something else is unknown again for
   * more than a pass (`unreadyWith`: the export it was first found not ready with): a later one is asked for once all is.
   */
  settleAfterExport?: number;
  unreadyWith?: number;
  /** How often it asked again because its export was read hours after it was taken (the app closed, say): bounded. */
  staleAsks?: number;
  /**
   * Per offer, its quantity as the latest export showed it and when that export was taken (Mirakl's clock); `ownImport`
   * names the database's own latest import of it that export may not show (sent after it was asked for, or seen running
   * until after that): what the offer held then depends on whether that import was applied, known once it has settled.
   */
  offers: Record<string, { quantity: number; at: string; ownImport?: OwnImportLine }>;
}

/**
 * One line of a stock import of the database's own: the quantity it set, read at `readAt`, sent after `sentAfter`;
 * `mayBeShown` when the export may or may not show it (asked for after it was sent, but taken before it surely ran).
 */
export interface OwnImportLine {
  intentId: number;
  to: number;
  readAt: string;
  sentAfter: string;
  mayBeShown: boolean;
}

export interface RestoreQuarantineRow {
  id: number;
  startedAt: string;
  cause: string;
  stockBasis: StockBasis;
  stockSettledAt: string | null;
  stockOutcome: string | null;
}

export const restoreSubject = 'database';

export function createRestoreQuarantine(db: Database, clock: Clock, exceptions: ExceptionStore) {
  const iso = () => new Date(clock.now()).toISOString();
  const audit = createAuditLog(db, clock);
  const open = db.prepare('SELECT id, started_at, cause, stock_basis, stock_settled_at, stock_outcome FROM restore_quarantines WHERE ended_at IS NULL ORDER BY id LIMIT 1');
  const latestStart = db.prepare('SELECT max(started_at) AS at FROM restore_quarantines');
  const suspect = db.prepare(`UPDATE intents SET state = 'uncertain', updated_at = @now,
    last_error = 'the database was put back from a backup or copied in: this call may have gone out since, so it is checked before it is sent'
    WHERE kind IN ('mirakl.refund', 'rebound.createReturn') AND (state IN ('planned', 'sending') OR (state = 'failed' AND next_attempt_at IS NOT NULL))`);
  const settled = db.prepare('UPDATE restore_quarantines SET stock_settled_at = @now, stock_outcome = @outcome WHERE id = @id AND stock_settled_at IS NULL');
  const setBasis = db.prepare('UPDATE restore_quarantines SET stock_basis = @basis WHERE id = @id AND stock_settled_at IS NULL');
  const insert = db.prepare('INSERT INTO restore_quarantines (started_at, cause, stock_basis) VALUES (@now, @cause, @basis)');
  const restart = db.prepare(`UPDATE restore_quarantines SET started_at = @now, cause = @cause, stock_basis = @basis, stock_settled_at = NULL, stock_outcome = NULL
    WHERE id = @id AND ended_at IS NULL`);
  const end = db.prepare('UPDATE restore_quarantines SET ended_at = @now, outcome = @outcome WHERE id = @id AND ended_at IS NULL');
  const read = (): RestoreQuarantineRow | null => {
    const row = open.get() as { id: number; started_at: string; cause: string; stock_basis: string; stock_settled_at: string | null; stock_outcome: string | null } | undefined;
    return row
      ? { id: row.id, startedAt: row.started_at, cause: row.cause, stockBasis: JSON.parse(row.stock_basis) as StockBasis, stockSettledAt: row.stock_settled_at, stockOutcome: row.stock_outcome }
      : null;
  };

  return {
    /** The quarantine in force, or null. */
    current: read,
    isActive: (): boolean => open.get() !== undefined,
    /**
     * When the latest quarantine began, ended or not: a ledger of Mirakl's refunds read before it may lack refunds made
     * after the backup, so no refund is planned or sent from it (refunds.ts).
     */
    lastStartedAt: (): number | null => {
      const at = (latestStart.get() as { at: string | null }).at;
      return at === null ? null : Date.parse(at);
    },
    /** Whether something made at `at` (this engine's clock) was made before the latest quarantine began: by this database before it was put back. */
    predates(at: string): boolean {
      const started = (latestStart.get() as { at: string | null }).at;
      return started !== null && Date.parse(at) < Date.parse(started);
    },

    /**
     * Starts one. One already in force is begun again from now (the database was put back again), with this basis.
     * `stockBasis` is what this database believed of each offer's stock: what Mirakl shows beyond it, less the sales
     * since, is units imported by calls this database no longer knows of.
     */
    start(cause: string, stockBasis: StockBasis): RestoreQuarantineRow {
      return db.transaction(() => {
        const existing = read();
        const now = iso();
        // Put back again while a quarantine was in force (a backup taken during it): everything begins again from now —
        // an earlier copy may have sent refunds and imports since that backup, which the reads so far cannot show.
        // What it believed of the stock stays what it believed when the quarantine first began, until that is settled: it sent
        // no import since, and an export read during the quarantine may already show imports an earlier copy made. Only an
        // export asked for from now on shows what Mirakl holds now.
        const basis: StockBasis =
          existing && existing.stockSettledAt === null ? { afterExport: stockBasis.afterExport, offers: existing.stockBasis.offers } : stockBasis;
        if (existing) restart.run({ id: existing.id, now, cause, basis: JSON.stringify(basis) });
        else insert.run({ now, cause, basis: JSON.stringify(basis) });
        // A refund or a return creation this database still has to send may have gone out after the backup: each is
        // probed (OR11 refunds[], ReBound's return orders by client order id) before it may be sent, never sent blindly.
        suspect.run({ now });
        audit.append({ actor: 'engine', action: 'sync.quarantine', subject: restoreSubject, before: null, after: { startedAt: now }, reason: cause });
        exceptions.raise({
          type: 'RESTORED_DATABASE',
          subjectKey: restoreSubject,
          cause: `Refunds and stock updates are paused: ${cause}. The app is reading Mirakl's refunds and stock again to learn what was done since; they resume by themselves once it has.`,
        });
        return read() as RestoreQuarantineRow;
      })();
    },

    /** Which export the stock step judges after (StockBasis.settleAfterExport, unreadyWith, staleAsks); a field set undefined is dropped. */
    markSettlement(mark: Partial<Pick<StockBasis, 'settleAfterExport' | 'unreadyWith' | 'staleAsks'>>): void {
      const current = read();
      if (!current || current.stockSettledAt !== null) return;
      const basis: StockBasis = { ...current.stockBasis, ...mark };
      setBasis.run({ id: current.id, basis: JSON.stringify(basis) });
    },

    /** The stock step is done (restock.ts settled the units already imported): what it found. */
    stockSettled(outcome: string): void {
      const current = read();
      if (current) settled.run({ id: current.id, now: iso(), outcome });
    },

    /** Ends it: what was re-read and settled (audited, and the reason the exception closes with). */
    end(outcome: string): void {
      db.transaction(() => {
        const current = read();
        if (!current) return;
        end.run({ id: current.id, now: iso(), outcome });
        audit.append({ actor: 'engine', action: 'sync.unquarantine', subject: restoreSubject, before: { startedAt: current.startedAt }, after: null, reason: outcome });
        exceptions.autoResolve('RESTORED_DATABASE', restoreSubject, outcome);
      })();
    },
  };
}

export type RestoreQuarantine = ReturnType<typeof createRestoreQuarantine>;
