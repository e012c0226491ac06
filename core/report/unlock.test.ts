import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { createAuditLog } from '../audit/log';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { sha256 } from './locks';
import { createReports, type Reports } from './service';

// Reopening a locked month (issue 25): only the latest locked month, with a reason; the lock is kept whole as history,
// the month's sign-offs are withdrawn, it can be signed and locked again, and a change found while it was locked is
// counted once — by the reopened month's own report, no longer also by the later month that showed it.

describe('reopening a locked month', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let reports: Reports;
  let actor = 'Ana Ruiz';
  const mappings = loadMappings(shippedMappingsDir);

  const lateOctoberRefund = () =>
    store.db
      .prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
        VALUES ('X-2', 'L-2', 'OR-X-2', 3000, 0, 1, '11', 'REFUNDED', '2026-10-30T10:00:00Z', '2026-11-10T12:00:00.000Z', '2026-11-10T12:00:00.000Z')`)
      .run();
  const eur = (period: string) => reports.generate(period).money.find((m) => m.currency === 'EUR');
  const auditOf = (period: string) =>
    store.db.prepare(`SELECT action, actor, reason, before, after FROM audit_log WHERE subject = ? ORDER BY seq`).all(`period:${period}`) as {
      action: string;
      actor: string;
      reason: string | null;
      before: string | null;
      after: string | null;
    }[];

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 3, 9));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    seedOctober(store.db);
    actor = 'Ana Ruiz';
    reports = createReports({ db: store.db, clock, audit: createAuditLog(store.db, clock), mappings: () => mappings, actor: () => actor, appVersion: 'test' });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('refuses a month that is not locked, a blank reason, and a month with a later locked month, naming it', () => {
    expect(() => reports.unlock('2026-10', 'wrong accrual')).toThrow(/October 2026 is not locked: there is nothing to reopen/);
    reports.lock('2026-10');
    expect(() => reports.unlock('2026-10', '   ')).toThrow(expect.objectContaining({ code: 'VALIDATION', message: expect.stringMatching(/Say why October 2026 is reopened/) }));
    clock.set(Date.UTC(2026, 11, 2));
    reports.lock('2026-11');
    expect(() => reports.unlock('2026-10', 'wrong accrual')).toThrow(
      expect.objectContaining({ code: 'CONFLICT', message: 'October 2026 cannot be reopened while a later month is locked (November 2026): reopen November 2026 first.' }),
    );
    clock.set(Date.UTC(2027, 0, 2));
    reports.lock('2026-12');
    expect(() => reports.unlock('2026-10', 'wrong accrual')).toThrow(/\(November 2026, December 2026\): reopen them first, latest first \(December 2026\)/);
    expect(reports.isLocked('2026-10')).toBe(true);

    reports.unlock('2026-12', 'December first');
    reports.unlock('2026-11', 'then November');
    expect(reports.unlock('2026-10', 'wrong accrual')).toMatchObject({ period: '2026-10', ended: { unlockedBy: 'Ana Ruiz', proposedBy: null, reason: 'wrong accrual' } });
    expect(reports.list().periods.filter((p) => p.lock).map((p) => p.period)).toEqual([]);
  });

  it('reopens only the lock that was asked for: not one made after the request', () => {
    const first = reports.lock('2026-10', 'October close');
    clock.set(Date.UTC(2026, 10, 5));
    reports.unlock('2026-10', 'first correction', { reportSha256: first.reportSha256 });
    clock.set(Date.UTC(2026, 10, 6));
    const second = reports.lock('2026-10', 'October close, corrected');
    // A request made against the first lock (a proposal approved late, say) does not end the second one.
    expect(() => reports.unlock('2026-10', 'first correction', { reportSha256: first.reportSha256 })).toThrow(
      expect.objectContaining({ code: 'CONFLICT', message: expect.stringMatching(/^October 2026 is now locked by Ana Ruiz at 2026-11-06T00:00:00.000Z, not by the lock asked to be reopened/) }),
    );
    expect(reports.isLocked('2026-10')).toBe(true);
    expect(reports.unlock('2026-10', 'second correction', { reportSha256: second.reportSha256 }).ended.reportSha256).toBe(second.reportSha256);
  });

  it('keeps the ended lock, its report, hash and facts, as append-only history and audits the reopening', () => {
    const lock = reports.lock('2026-10', 'October close');
    const frozen = store.db.prepare('SELECT report FROM period_locks').pluck().get() as string;
    const factCount = store.db.prepare('SELECT count(*) FROM period_lock_facts').pluck().get() as number;
    expect(factCount).toBeGreaterThan(0);
    // Without its history kept first, a lock still cannot leave.
    expect(() => store.db.prepare('DELETE FROM period_lock_facts').run()).toThrow(/never edited/);
    expect(() => store.db.prepare('DELETE FROM period_locks').run()).toThrow(/never edited/);

    clock.set(Date.UTC(2026, 10, 12, 15));
    const reopened = reports.unlock('2026-10', '  Missing carrier credit note  ');
    expect(reopened).toEqual({
      period: '2026-10',
      ended: {
        lockedAt: lock.lockedAt,
        lockedBy: 'Ana Ruiz',
        lockReason: 'October close',
        reportSha256: lock.reportSha256,
        factsSha256: lock.factsSha256,
        unlockedAt: '2026-11-12T15:00:00.000Z',
        unlockedBy: 'Ana Ruiz',
        proposedBy: null,
        reason: 'Missing carrier credit note',
      },
      signOffsWithdrawn: 0,
      adjustmentsSuperseded: 0,
    });
    const kept = store.db.prepare('SELECT * FROM period_unlocks').get() as { id: number; report: string; report_sha256: string; audit_seq: number };
    expect(kept.report).toBe(frozen);
    expect(sha256(kept.report)).toBe(lock.reportSha256);
    expect(store.db.prepare('SELECT count(*) FROM period_unlock_facts WHERE unlock_id = ?').pluck().get(kept.id)).toBe(factCount);
    expect(store.db.prepare('SELECT count(*) FROM period_locks').pluck().get()).toBe(0);
    expect(() => store.db.prepare('DELETE FROM period_unlocks').run()).toThrow(/append-only/);
    expect(() => store.db.prepare(`UPDATE period_unlocks SET reason = 'x'`).run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM period_unlock_facts').run()).toThrow(/append-only/);

    const audit = auditOf('2026-10');
    expect(audit.map((a) => `${a.action} by ${a.actor}`)).toEqual(['period.lock by Ana Ruiz', 'period.unlock by Ana Ruiz']);
    expect(audit[1]).toMatchObject({ reason: 'Missing carrier credit note' });
    expect(JSON.parse(audit[1]!.before!)).toMatchObject({ reportSha256: lock.reportSha256, factsSha256: lock.factsSha256 });
    expect(createAuditLog(store.db, clock).verify().ok).toBe(true);

    expect(reports.generate('2026-10')).toMatchObject({ status: 'live', lock: null });
    expect(reports.list().periods.find((p) => p.period === '2026-10')).toMatchObject({ lock: null, endedLocks: [{ reportSha256: lock.reportSha256, reason: 'Missing carrier credit note' }] });
  });

  it('withdraws both sign-offs of the reopened month, which can then be signed and locked again', () => {
    reports.signOff('2026-10', 'prepared', 'tied out');
    actor = 'Bo Berg';
    expect(reports.signOff('2026-10', 'reviewed', null).complete).toBe(true);
    const first = reports.lock('2026-10', 'October close');

    clock.set(Date.UTC(2026, 10, 12));
    expect(reports.unlock('2026-10', 'Refund X-2 belongs to October')).toMatchObject({ signOffsWithdrawn: 2 });
    const signOffs = reports.signOffs('2026-10');
    expect(signOffs.complete).toBe(false);
    expect(signOffs.signOffs.map((s) => [s.kind, s.standing, s.withdrawnReason])).toEqual([
      ['prepared', false, 'Month reopened by Bo Berg: Refund X-2 belongs to October'],
      ['reviewed', false, 'Month reopened by Bo Berg: Refund X-2 belongs to October'],
    ]);
    const withdrawals = auditOf('2026-10').filter((a) => a.action === 'period.signoff.withdrawn');
    expect(withdrawals.map((a) => [a.actor, a.reason, (JSON.parse(a.before!) as { kind: string }).kind])).toEqual([
      ['Bo Berg', 'month reopened', 'prepared'],
      ['Bo Berg', 'month reopened', 'reviewed'],
    ]);

    actor = 'Ana Ruiz';
    reports.signOff('2026-10', 'prepared', null);
    actor = 'Bo Berg';
    expect(reports.signOff('2026-10', 'reviewed', null).complete).toBe(true);
    const second = reports.lock('2026-10', 'October close, again');
    expect(second.reportSha256).not.toBe(first.reportSha256);
    expect(reports.generate('2026-10')).toMatchObject({ status: 'locked', lock: { reason: 'October close, again', isIntact: true } });
    expect(reports.list().periods.find((p) => p.period === '2026-10')).toMatchObject({ lock: { reportSha256: second.reportSha256 }, endedLocks: [{ reportSha256: first.reportSha256 }] });
  });

  it('counts a change found while the month was locked once: in its own report after reopening, no longer in the later one', () => {
    const before = eur('2026-10')!;
    reports.lock('2026-10');
    clock.set(Date.UTC(2026, 10, 10, 12));
    lateOctoberRefund();
    expect(reports.generate('2026-11').tables.adjustments.map((a) => a.key)).toEqual(['R-2', 'X-2', 'L-2']);
    expect(eur('2026-11')).toMatchObject({ adjustedRefundsMinor: 3000, adjustedAccrualMinor: -3000 });

    expect(reports.unlock('2026-10', 'Refund X-2 belongs to October')).toMatchObject({ adjustmentsSuperseded: 3 });
    // October counts the refund itself now; November no longer reports it as an adjustment.
    expect(eur('2026-10')).toMatchObject({ refunds: before.refunds + 1, refundedMinor: before.refundedMinor + 3000 });
    const november = reports.generate('2026-11');
    expect(november.tables.adjustments).toEqual([]);
    expect(november.money.map((m) => [m.currency, m.adjustedRefundsMinor, m.adjustedAccrualMinor]).filter(([, r, a]) => r !== 0 || a !== 0)).toEqual([]);
    expect(november.checks.find((c) => c.id === 'adjustments')?.status).not.toBe('warn');
    // The adjustments themselves stay, append-only: the ended lock's history.
    expect(store.db.prepare('SELECT count(*) FROM period_adjustments').pluck().get()).toBe(3);

    // Locked again: nothing is different from the new lock, and a later change is measured from it alone.
    expect(reports.lock('2026-10').adjustments).toBe(0);
    expect(reports.generate('2026-10').changesSinceLock).toEqual([]);
    expect(reports.generate('2026-11').tables.adjustments).toEqual([]);
    expect(reports.list().periods.find((p) => p.period === '2026-10')?.changesSinceLock).toBe(0);
    store.db.prepare(`UPDATE mirakl_refunds SET amount_minor = 2500 WHERE id = 'X-2'`).run();
    expect(reports.generate('2026-11').tables.adjustments.map((a) => [a.period, a.key, a.change, a.amountMinor])).toEqual([
      ['2026-10', 'X-2', 'changed', -500],
      ['2026-10', 'L-2', 'changed', 500],
    ]);
    expect(reports.generate('2026-10').changesSinceLock).toHaveLength(2);
  });

  it('reopens the latest month first, keeping the adjustments of an earlier locked month where they were reported', () => {
    // A change to October found while November was open is frozen into November's lock.
    reports.lock('2026-10');
    clock.set(Date.UTC(2026, 11, 2));
    lateOctoberRefund();
    const november = reports.lock('2026-11');
    expect(november.adjustments).toBe(3);
    expect(() => reports.unlock('2026-10', 'too early')).toThrow(/reopen November 2026 first/);
    reports.unlock('2026-11', 'Late credit note');
    // November's own report still shows October's adjustments (October is still locked): reported once.
    expect(reports.generate('2026-11').tables.adjustments.map((a) => a.key)).toEqual(['R-2', 'X-2', 'L-2']);
    expect(reports.generate('2026-12').tables.adjustments).toEqual([]);
    // November's frozen report is kept as it was, adjustments and all.
    const kept = store.db.prepare(`SELECT report FROM period_unlocks WHERE period = '2026-11'`).pluck().get() as string;
    expect((JSON.parse(kept) as { tables: { adjustments: unknown[] } }).tables.adjustments).toHaveLength(3);
  });
});
