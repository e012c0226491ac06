import type { Database } from 'better-sqlite3';
import type { AdjustmentRow } from '../../contract/reports';
import type { FactFamily } from './facts';

// Locked periods, the facts frozen with them and the post-close adjustments found since (core/report/locks.ts says
// what a lock keeps and where a change is reported). The differences are found in SQL, against temp.rp_facts.

export interface LockRow {
  period: string;
  locked_at: string;
  locked_by: string;
  reason: string | null;
  report: string;
  report_sha256: string;
  facts_sha256: string;
  audit_seq: number;
}

export interface AdjustmentDbRow {
  id: number;
  period: string;
  reported_in: string;
  family: FactFamily;
  key: string;
  change: AdjustmentRow['change'];
  before: string | null;
  after: string | null;
  currency: string | null;
  amount_minor: number;
  detected_at: string;
}

export interface UnlockRow {
  id: number;
  period: string;
  locked_at: string;
  locked_by: string;
  lock_reason: string | null;
  report_sha256: string;
  facts_sha256: string;
  unlocked_at: string;
  unlocked_by: string;
  proposed_by: string | null;
  reason: string;
  audit_seq: number;
}

// The adjustments of the lock a period has now: those recorded after its last reopening (migration 0024). The ones
// before it belong to an ended lock, whose changes the reopened month's own report counted again.
const isCurrent = (a: string) => `${a}.id > COALESCE((SELECT max(u.adjustments_through) FROM period_unlocks u WHERE u.period = ${a}.period), 0)`;

export function createLocksRepo(db: Database) {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS rp_baseline (family TEXT NOT NULL, key TEXT NOT NULL, fact TEXT, currency TEXT, amount_minor INTEGER NOT NULL,
    PRIMARY KEY (family, key)) WITHOUT ROWID`);
  const getLock = db.prepare('SELECT * FROM period_locks WHERE period = ?');
  const lockedPeriods = db.prepare('SELECT period FROM period_locks ORDER BY period');
  const clearBaseline = db.prepare('DELETE FROM temp.rp_baseline');
  const lockedFacts = db.prepare(`INSERT INTO temp.rp_baseline SELECT family, key, fact, currency, amount_minor FROM period_lock_facts WHERE period = ?`);
  const adjustedFacts = db.prepare(`INSERT OR REPLACE INTO temp.rp_baseline
    SELECT a.family, a.key, a.after, a.currency, COALESCE(a.after_amount_minor, 0) FROM period_adjustments a
    WHERE a.period = @period AND ${isCurrent('a')}
      AND a.id = (SELECT max(b.id) FROM period_adjustments b WHERE b.period = a.period AND b.family = a.family AND b.key = a.key)`);
  // A fact whose text differs from its last known state; one that appeared; one that is gone.
  const recordChanges = db.prepare(`INSERT INTO period_adjustments (period, reported_in, family, key, change, before, after, currency, amount_minor,
      after_amount_minor, detected_at)
    SELECT @period, @reportedIn, family, key, change, before, after, currency, amount, after_amount, @now FROM (
      SELECT f.family, f.key, CASE WHEN b.fact IS NULL THEN 'added' ELSE 'changed' END AS change, b.fact AS before, f.fact AS after, f.currency,
        f.amount_minor - CASE WHEN b.currency IS f.currency THEN COALESCE(b.amount_minor, 0) ELSE 0 END AS amount, f.amount_minor AS after_amount
      FROM temp.rp_facts f LEFT JOIN temp.rp_baseline b ON b.family = f.family AND b.key = f.key
      WHERE b.fact IS NULL OR b.fact != f.fact
      UNION ALL
      SELECT b.family, b.key, 'removed', b.fact, NULL, b.currency, -b.amount_minor, NULL FROM temp.rp_baseline b
      WHERE b.fact IS NOT NULL AND NOT EXISTS (SELECT 1 FROM temp.rp_facts f WHERE f.family = b.family AND f.key = b.key)
    ) ORDER BY CASE family WHEN 'return' THEN 0 WHEN 'refund' THEN 1 WHEN 'line' THEN 2 WHEN 'stock' THEN 3 ELSE 4 END, key`);
  const adjustmentsReportedIn = db.prepare(`SELECT * FROM period_adjustments a WHERE a.reported_in = ? AND ${isCurrent('a')} ORDER BY a.id`);
  const adjustmentsOf = db.prepare(`SELECT * FROM period_adjustments a WHERE a.period = ? AND ${isCurrent('a')} ORDER BY a.id`);
  const countAdjustmentsOf = db.prepare(`SELECT a.period, count(*) AS n FROM period_adjustments a WHERE ${isCurrent('a')} GROUP BY a.period`);
  const lastAdjustmentId = db.prepare('SELECT COALESCE(max(id), 0) FROM period_adjustments').pluck();
  const insertUnlock = db.prepare(`INSERT INTO period_unlocks (period, locked_at, locked_by, lock_reason, report, report_sha256, facts_sha256, lock_audit_seq,
      unlocked_at, unlocked_by, proposed_by, reason, audit_seq, adjustments_through)
    SELECT period, locked_at, locked_by, reason, report, report_sha256, facts_sha256, audit_seq, @unlockedAt, @unlockedBy, @proposedBy, @reason, @auditSeq,
      @adjustmentsThrough
    FROM period_locks WHERE period = @period`);
  const keepFacts = db.prepare(`INSERT INTO period_unlock_facts (unlock_id, family, key, fact, currency, amount_minor)
    SELECT ?, family, key, fact, currency, amount_minor FROM period_lock_facts WHERE period = ?`);
  const deleteFacts = db.prepare('DELETE FROM period_lock_facts WHERE period = ?');
  const deleteLock = db.prepare('DELETE FROM period_locks WHERE period = ?');
  const unlocksOf = db.prepare(`SELECT id, period, locked_at, locked_by, lock_reason, report_sha256, facts_sha256, unlocked_at, unlocked_by, proposed_by, reason,
      audit_seq FROM period_unlocks ORDER BY period, id`);
  const insertLock = db.prepare(`INSERT INTO period_locks (period, locked_at, locked_by, reason, report, report_sha256, facts_sha256, audit_seq)
    VALUES (@period, @lockedAt, @lockedBy, @reason, @report, @reportSha256, @factsSha256, @auditSeq)`);
  const insertFacts = db.prepare(`INSERT INTO period_lock_facts (period, family, key, fact, currency, amount_minor)
    SELECT ?, family, key, fact, currency, amount_minor FROM temp.rp_facts`);
  const factRows = db.prepare('SELECT family, key, fact FROM temp.rp_facts ORDER BY family, key').raw();

  return {
    get: (period: string) => (getLock.get(period) as LockRow | undefined) ?? null,
    lockedPeriods: () => (lockedPeriods.all() as { period: string }[]).map((r) => r.period),

    /** Fills temp.rp_baseline with the last known state of each of `period`'s facts: the locked one, or its last adjustment. */
    loadBaseline(period: string): void {
      clearBaseline.run();
      lockedFacts.run(period);
      adjustedFacts.run({ period });
    },

    /** Records every difference of temp.rp_facts from temp.rp_baseline as an adjustment of `period`. Returns how many. */
    recordChanges: (changes: { period: string; reportedIn: string; now: string }) => recordChanges.run(changes).changes,

    adjustmentsReportedIn: (period: string) => adjustmentsReportedIn.all(period) as AdjustmentDbRow[],
    adjustmentsOf: (period: string) => adjustmentsOf.all(period) as AdjustmentDbRow[],
    adjustmentCounts: () => countAdjustmentsOf.all() as { period: string; n: number }[],

    /** The facts in temp.rp_facts as [family, key, fact], in (family, key) order. */
    factRows: () => factRows.iterate() as Iterable<[string, string, string]>,

    /**
     * Ends `period`'s lock: the lock and its facts are kept in period_unlocks as they were, with the adjustments
     * recorded so far, and leave period_locks. Call inside a transaction. Returns the new history row's id.
     */
    reopen(change: { period: string; unlockedAt: string; unlockedBy: string; proposedBy: string | null; reason: string; auditSeq: number }): number {
      const adjustmentsThrough = lastAdjustmentId.get() as number;
      const { lastInsertRowid, changes } = insertUnlock.run({ ...change, adjustmentsThrough });
      if (changes !== 1) throw new Error(`There is no lock of ${change.period} to reopen.`);
      const id = Number(lastInsertRowid);
      keepFacts.run(id, change.period);
      deleteFacts.run(change.period);
      deleteLock.run(change.period);
      return id;
    },

    /** Every reopening, oldest first per period. */
    unlocks: () => unlocksOf.all() as UnlockRow[],

    /** Stores the lock and freezes the facts in temp.rp_facts with it. */
    insert(lock: { period: string; lockedAt: string; lockedBy: string; reason: string | null; report: string; reportSha256: string; factsSha256: string; auditSeq: number }): void {
      insertLock.run(lock);
      insertFacts.run(lock.period);
    },
  };
}
