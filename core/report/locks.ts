import { createHash } from 'node:crypto';
import type { AdjustmentRow, Report } from '../contract/reports';
import { reportSchema } from '../contract/reports';
import type { Store } from '../store/db';
import { createLocksRepo, type AdjustmentDbRow, type LockRow } from '../store/report/locks-repo';
import { money } from './money';
import { nextPeriod, parsePeriod, type Period } from './period';

// A locked period keeps its report and the facts behind it. Afterwards the same facts are computed again whenever a
// report that could show a change is made; every difference from the last known state of a fact (the locked one,
// or the last adjustment of it) is recorded once as a post-close adjustment, in the first period that was still
// open when it was found. The locked report itself is never rewritten: its stored bytes keep their sha256.

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export function createLockStore(db: Store['db']) {
  const repo = createLocksRepo(db);
  const locked = () => new Set(repo.lockedPeriods());

  const store = {
    get: repo.get,
    lockedPeriods: locked,

    /** The first period after `period` that is not locked: where a change found now to `period` is reported. */
    firstOpenAfter(period: Period, isLocked: Set<string> = locked()): Period {
      let p = nextPeriod(period);
      while (isLocked.has(p.id)) p = nextPeriod(p);
      return p;
    },

    /** Locked periods whose changes found now are shown in `period`'s report. */
    periodsReportedIn(period: Period): Period[] {
      const isLocked = locked();
      return [...isLocked].map(parsePeriod).filter((p) => p.id < period.id && store.firstOpenAfter(p, isLocked).id === period.id);
    },

    /**
     * Records how temp.rp_facts (just built for the locked `period`) differs from what is known of it. Returns how
     * many adjustments were recorded.
     */
    recordDifferences(period: Period, now: string): number {
      repo.loadBaseline(period.id);
      return repo.recordChanges({ period: period.id, reportedIn: store.firstOpenAfter(period).id, now });
    },

    /**
     * Ends `period`'s lock (see reopenRefusal for when it may be): the lock, its report and its facts are kept as
     * history, and the adjustments found while it was locked are no longer reported anywhere — the month's own live
     * report counts those changes again. Call inside a transaction.
     */
    reopen: repo.reopen,
    unlocks: repo.unlocks,

    adjustmentsReportedIn: (period: string) => repo.adjustmentsReportedIn(period).map(toAdjustmentRow),
    adjustmentsOf: (period: string) => repo.adjustmentsOf(period).map(toAdjustmentRow),
    adjustmentCounts: () => new Map(repo.adjustmentCounts().map((r) => [r.period, r.n])),

    /** sha256 over the facts in temp.rp_facts, in (family, key) order. */
    factsSha256(): string {
      const hash = createHash('sha256');
      for (const [family, key, fact] of repo.factRows()) hash.update(`${family}\t${key}\t${fact}\n`);
      return hash.digest('hex');
    },

    /** Freezes `reportText` (the exact bytes hashed) and the facts in temp.rp_facts. Call inside the lock's transaction. */
    insert(lock: Omit<LockRow, 'report_sha256' | 'facts_sha256'> & { factsSha256: string }): { reportSha256: string } {
      const reportSha256 = sha256(lock.report);
      repo.insert({
        period: lock.period,
        lockedAt: lock.locked_at,
        lockedBy: lock.locked_by,
        reason: lock.reason,
        report: lock.report,
        reportSha256,
        factsSha256: lock.factsSha256,
        auditSeq: lock.audit_seq,
      });
      return { reportSha256 };
    },

    /** The locked report as stored, marked locked, with the changes found since. */
    lockedReport(row: LockRow): Report {
      const stored = reportSchema.parse(JSON.parse(row.report));
      return {
        ...stored,
        status: 'locked',
        lock: {
          lockedAt: row.locked_at,
          lockedBy: row.locked_by,
          reason: row.reason,
          reportSha256: row.report_sha256,
          factsSha256: row.facts_sha256,
          isIntact: sha256(row.report) === row.report_sha256,
        },
        changesSinceLock: store.adjustmentsOf(row.period),
      };
    },
  };
  return store;
}

export type LockStore = ReturnType<typeof createLockStore>;

/**
 * Why `period` cannot be reopened now, or null when it can: it must be locked, and no later month may be. A later
 * locked month froze a report that counts this month's post-close changes, and a chain of months closes in order: it
 * is reopened latest first.
 */
export function reopenRefusal(period: Period, lockedPeriods: Iterable<string>): string | null {
  const locked = [...lockedPeriods].sort();
  if (!locked.includes(period.id)) return `${period.label} is not locked: there is nothing to reopen.`;
  const later = locked.filter((p) => p > period.id).map(parsePeriod);
  if (later.length === 0) return null;
  const latest = later[later.length - 1]!;
  return (
    `${period.label} cannot be reopened while a later month is locked (${later.map((p) => p.label).join(', ')}): ` +
    (later.length === 1 ? `reopen ${latest.label} first.` : `reopen them first, latest first (${latest.label}).`)
  );
}

type Json = (string | number | null)[];

function toAdjustmentRow(r: AdjustmentDbRow): AdjustmentRow {
  return {
    id: r.id,
    period: r.period,
    reportedIn: r.reported_in,
    family: r.family,
    key: r.key,
    change: r.change,
    description: describe(r),
    currency: r.currency,
    amountMinor: r.amount_minor,
    detectedAt: r.detected_at,
  };
}

/** What changed, in words, from the two states of the fact (see the fact layouts in core/store/report/facts.ts). */
export function describe(r: Pick<AdjustmentDbRow, 'family' | 'key' | 'change' | 'before' | 'after' | 'currency' | 'amount_minor'>): string {
  const before = r.before ? (JSON.parse(r.before) as Json) : null;
  const after = r.after ? (JSON.parse(r.after) as Json) : null;
  const f = after ?? before ?? [];
  const cur = (fact: Json | null, i: number) => (fact ? money(Number(fact[i] ?? 0), String(fact[1] ?? r.currency)) : '—');
  const delta = r.amount_minor !== 0 ? ` (${r.amount_minor > 0 ? '+' : ''}${money(r.amount_minor, r.currency)})` : '';
  switch (r.family) {
    case 'refund': {
      const amount = (fact: Json | null) => (fact ? money(Number(fact[3]), String(fact[2])) : '—');
      if (r.change === 'added') return `Refund ${r.key} of ${amount(after)} on order line ${f[0]}, dated ${f[7]}, was not in the locked report${delta}.`;
      if (r.change === 'removed') return `Refund ${r.key} of ${amount(before)} on order line ${f[0]} is no longer dated in this period in Mirakl's ledger${delta}.`;
      const changes = [
        before?.[3] !== after?.[3] ? `amount ${amount(before)} → ${amount(after)}` : null,
        before?.[8] !== after?.[8] ? `return ${before?.[8] ?? 'none'} → ${after?.[8] ?? 'none'}` : null,
        before?.[9] !== after?.[9] ? (after?.[9] ? 'now backed by a receipt verified before period end' : 'no longer backed by a verified receipt') : null,
        before?.[2] !== after?.[2] ? `currency ${before?.[2]} → ${after?.[2]}` : null,
      ].filter(Boolean);
      return `Refund ${r.key} on order line ${f[0]} changed: ${changes.join('; ') || 'details changed'}${delta}.`;
    }
    case 'line': {
      const outstanding = (fact: Json | null) => (fact ? money(Math.max(0, Number(fact[4]) - Number(fact[5])), String(fact[1])) : money(0, r.currency));
      return `Order line ${r.key}: ${before ? `${before[2]} verified unit(s), ${cur(before, 5)} refunded` : 'not counted'} → ${
        after ? `${after[2]} verified unit(s), ${cur(after, 5)} refunded` : 'not counted'
      } by period end; awaiting refund ${outstanding(before)} → ${outstanding(after)}${delta}.`;
    }
    case 'return': {
      const events = (fact: Json | null) =>
        fact
          ? [fact[3] ? 'opened' : null, fact[4] ? 'received' : null, fact[6] ? 'refunded' : null, fact[5] ? 'closed' : null].filter(Boolean).join(', ') || 'no event'
          : 'not counted';
      return `Return ${r.key}: ${events(before)} → ${events(after)} in this period.`;
    }
    case 'stock':
      return `Stock increment of unit ${r.key} (${f[0]}): ${before?.[2] ?? 'not counted'} → ${after?.[2] ?? 'not counted'} in this period.`;
    case 'exception':
      return `Exception ${r.key} (${f[0]}, ${f[1]}): ${r.change === 'removed' ? 'no longer open' : r.change === 'added' ? 'now open' : 'changed'} at period end.`;
  }
}
