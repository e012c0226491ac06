import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditLog } from '../audit/log';
import type { Report, SignOffKind, SignOffs } from '../contract/reports';
import { AppError } from '../errors';
import type { Mappings } from '../mappings/load';
import type { Clock } from '../ports';
import type { Store } from '../store/db';
import { createFacts } from '../store/report/facts';
import { createReportRepo } from '../store/report/report-repo';
import { createSignOffsRepo } from '../store/report/signoffs-repo';
import { copyPeriodRows } from '../store/report/snapshot';
import { readAuditSegment } from './audit-segment';
import { asOfOf, createReportBuilder } from './build';
import { writeBundle } from './bundle';
import { writeReportFiles } from './exports';
import { stageIn, type WrittenFile } from './file-out';
import { createLockStore, reopenRefusal, sha256 } from './locks';
import { parsePeriod, periodOf, type Period } from './period';

// Month-end reports: generate a period's report (live, or the locked one with the changes found since), write it
// as files, lock a period, and pack the offline evidence bundle. A lock freezes the report and its facts in one
// transaction with its audit entry; every later difference becomes a post-close adjustment, never an edit. A locked
// month is reopened only with a reason, latest month first, its lock kept whole as history (locks.ts).

export interface ReportPorts {
  db: Store['db'];
  clock: Clock;
  audit: AuditLog;
  mappings: () => Mappings;
  /** Who acts (read at each action: the name set in Settings can change between two). */
  actor: () => string;
  /** On a team server, the approved proposal the current action runs (its proposer is named with a reopening). */
  approval?: () => { proposalId: number; proposedBy: string } | undefined;
  appVersion: string;
  /** Sandbox or live data, recorded in bundles so a reviewer knows which. */
  mode?: 'sandbox' | 'live';
  /** Brings the reconciliation's derived tables up to date before a report reads them (suggested refund matches). */
  beforeReport?: () => void;
}

export type { WrittenFile } from './file-out';

export function createReports(ports: ReportPorts) {
  const { db, clock } = ports;
  const repo = createReportRepo(db);
  const facts = createFacts(db);
  const builder = createReportBuilder(db);
  const locks = createLockStore(db);
  const iso = (ms: number) => new Date(ms).toISOString();

  /** The live report of an unlocked period. Records first the changes to locked periods that it shows. Inside a transaction. */
  function liveReport(period: Period, now: number): Report {
    const nowIso = iso(now);
    for (const earlier of locks.periodsReportedIn(period)) {
      facts.build(earlier, earlier.toKey);
      locks.recordDifferences(earlier, nowIso);
    }
    const { asOfMs } = asOfOf(period, now);
    facts.build(period, iso(asOfMs).slice(0, 19));
    const mappings = ports.mappings();
    return builder.build({
      period,
      now,
      toleranceMinor: mappings.policy.refunds.toleranceMinor,
      refundStalledHours: mappings.policy.sla.refundStalledHours,
      mappingVersions: mappings.versions,
      adjustments: locks.adjustmentsReportedIn(period.id),
      audit: ports.audit.verify(),
    });
  }

  /** The period's report as it stands: live, or locked with the changes found since. Inside a transaction. */
  function reportOf(period: Period, now: number): Report {
    const lock = locks.get(period.id);
    if (!lock) return liveReport(period, now);
    facts.build(period, period.toKey);
    locks.recordDifferences(period, iso(now));
    return locks.lockedReport(lock);
  }

  const signOffRows = createSignOffsRepo(db);

  /** Withdraws the standing sign-offs whose facts are no longer the period's, then lists them all. In a transaction. */
  function signOffsOf(period: Period, now: number): SignOffs {
    reportOf(period, now);
    const factsSha256 = locks.factsSha256();
    for (const row of signOffRows.forPeriod(period.id)) {
      if (row.withdrawn_at !== null || row.facts_sha256 === factsSha256) continue;
      const reason = `${period.label}'s figures changed after it was signed (${row.kind} by ${row.signed_by}): it must be signed again.`;
      signOffRows.withdraw(row.id, iso(now), reason);
      ports.audit.append({ actor: 'Returns Workbench', action: 'period.signoff.withdrawn', subject: `period:${period.id}`, before: { kind: row.kind, signedBy: row.signed_by, factsSha256: row.facts_sha256 }, after: { factsSha256 }, reason });
    }
    const signOffs = signOffRows.forPeriod(period.id).map((row) => ({
      kind: row.kind,
      signedBy: row.signed_by,
      signedAt: row.signed_at,
      note: row.note,
      standing: row.withdrawn_at === null,
      withdrawnAt: row.withdrawn_at,
      withdrawnReason: row.withdrawn_reason,
    }));
    const has = (kind: SignOffKind) => signOffs.some((s) => s.standing && s.kind === kind);
    return { period: period.id, factsSha256, signOffs, complete: has('prepared') && has('reviewed') };
  }

  const reports = {
    generate(periodId: string): Report {
      const period = parsePeriod(periodId);
      ports.beforeReport?.();
      return repo.transaction(() => reportOf(period, clock.now()));
    },

    lock(periodId: string, reason: string | null = null) {
      const period = parsePeriod(periodId);
      const now = clock.now();
      if (now < period.toMs) {
        throw new AppError('CONFLICT', `${period.label} has not ended yet (it ends at ${period.to}): a period can only be locked once it is over.`);
      }
      ports.beforeReport?.();
      return repo.transaction(() => {
        const existing = locks.get(period.id);
        if (existing) throw new AppError('CONFLICT', `${period.label} is already locked (by ${existing.locked_by} at ${existing.locked_at}); a lock is never changed.`);
        const report = liveReport(period, now);
        const text = JSON.stringify(report);
        const factsSha256 = locks.factsSha256();
        const reportSha256 = sha256(text);
        const actor = ports.actor();
        const entry = ports.audit.append({
          actor,
          action: 'period.lock',
          subject: `period:${period.id}`,
          before: null,
          after: {
            reportSha256,
            factsSha256,
            returns: report.returns,
            money: report.money.map((m) => ({ currency: m.currency, refundedMinor: m.refundedMinor, unbackedMinor: m.unbackedMinor, accrualMinor: m.accrualMinor })),
            adjustments: report.tables.adjustments.length,
          },
          reason,
        });
        locks.insert({ period: period.id, locked_at: iso(now), locked_by: actor, reason, report: text, factsSha256, audit_seq: entry.seq });
        return { period: period.id, lockedAt: iso(now), lockedBy: actor, reportSha256, factsSha256, adjustments: report.tables.adjustments.length };
      });
    },

    /**
     * Reopens a locked month: its lock (report, hashes and facts) is kept as history, its standing sign-offs are
     * withdrawn, and the changes found while it was locked are counted by its own live report again, not by the later
     * month that showed them. Refused while a later month is locked. On a team server a second person approved it.
     */
    unlock(periodId: string, reason: string, expected: { reportSha256?: string | undefined } = {}) {
      const period = parsePeriod(periodId);
      const why = reason.trim();
      if (why === '') throw new AppError('VALIDATION', `Say why ${period.label} is reopened: the reason is kept with its ended lock and in the audit log.`, [{ path: ['reason'], message: 'required' }]);
      const now = iso(clock.now());
      return repo.transaction(() => {
        const refusal = reopenRefusal(period, locks.lockedPeriods());
        if (refusal) throw new AppError('CONFLICT', refusal);
        const lock = locks.get(period.id)!;
        if (expected.reportSha256 !== undefined && expected.reportSha256 !== lock.report_sha256) {
          throw new AppError(
            'CONFLICT',
            `${period.label} is now locked by ${lock.locked_by} at ${lock.locked_at}, not by the lock asked to be reopened (report sha256 ${expected.reportSha256.slice(0, 12)}…): ask again if this lock must be reopened.`,
          );
        }
        const actor = ports.actor();
        const proposer = ports.approval?.()?.proposedBy;
        const proposedBy = proposer && proposer !== actor ? proposer : null;
        const adjustmentsSuperseded = locks.adjustmentsOf(period.id).length;
        const ended = { lockedAt: lock.locked_at, lockedBy: lock.locked_by, lockReason: lock.reason, reportSha256: lock.report_sha256, factsSha256: lock.facts_sha256 };
        const entry = ports.audit.append({
          actor,
          action: 'period.unlock',
          subject: `period:${period.id}`,
          before: ended,
          after: { status: 'live', proposedBy, adjustmentsSuperseded },
          reason: why,
        });
        locks.reopen({ period: period.id, unlockedAt: now, unlockedBy: actor, proposedBy, reason: why, auditSeq: entry.seq });
        // The signatures were given to the figures the lock froze: the live month must be signed again.
        const standing = signOffRows.forPeriod(period.id).filter((row) => row.withdrawn_at === null);
        const withdrawnReason = `Month reopened by ${actor}: ${why}`;
        for (const row of standing) {
          signOffRows.withdraw(row.id, now, withdrawnReason);
          ports.audit.append({ actor, action: 'period.signoff.withdrawn', subject: `period:${period.id}`, before: { kind: row.kind, signedBy: row.signed_by, factsSha256: row.facts_sha256 }, after: null, reason: 'month reopened' });
        }
        return { period: period.id, ended: { ...ended, unlockedAt: now, unlockedBy: actor, proposedBy, reason: why }, signOffsWithdrawn: standing.length, adjustmentsSuperseded };
      });
    },

    isLocked: (periodId: string): boolean => Boolean(locks.get(parsePeriod(periodId).id)),

    /** The period's sign-offs, after withdrawing those whose facts have changed since they were given. */
    signOffs(periodId: string): SignOffs {
      const period = parsePeriod(periodId);
      ports.beforeReport?.();
      return repo.transaction(() => signOffsOf(period, clock.now()));
    },

    /**
     * Signs a finished period's report as its preparer, or as its reviewer once it was prepared (never by the person
     * who prepared it). The signature holds the facts it saw: when they change it is withdrawn.
     */
    signOff(periodId: string, kind: SignOffKind, note: string | null): SignOffs {
      const period = parsePeriod(periodId);
      const now = clock.now();
      if (now < period.toMs) throw new AppError('CONFLICT', `${period.label} has not ended yet (it ends at ${period.to}): its report can be signed once it is over.`);
      const lock = locks.get(period.id);
      if (lock) throw new AppError('CONFLICT', `${period.label} is locked (by ${lock.locked_by} at ${lock.locked_at}): its figures are frozen, so there is nothing left to sign.`);
      ports.beforeReport?.();
      return repo.transaction(() => {
        const current = signOffsOf(period, now);
        const actor = ports.actor();
        const standing = current.signOffs.filter((s) => s.standing);
        const same = standing.find((s) => s.kind === kind);
        if (same) throw new AppError('CONFLICT', `${period.label} is already ${kind} by ${same.signedBy} (${same.signedAt}), and its figures have not changed since.`);
        if (kind === 'reviewed') {
          const prepared = standing.find((s) => s.kind === 'prepared');
          if (!prepared) throw new AppError('CONFLICT', `${period.label} has no standing preparer's sign-off to review: it must be prepared (signed) first.`);
          if (prepared.signedBy === actor) throw new AppError('CONFLICT', `You prepared ${period.label}: another person must review it.`);
        }
        const entry = ports.audit.append({ actor, action: 'period.signoff', subject: `period:${period.id}`, after: { kind, factsSha256: current.factsSha256 }, reason: note });
        signOffRows.insert({ period: period.id, kind, signed_by: actor, signed_at: iso(now), note, facts_sha256: current.factsSha256, audit_seq: entry.seq });
        return signOffsOf(period, now);
      });
    },

    /** Every month from the first return to now, newest first, with its lock. */
    list() {
      const now = clock.now();
      const opened = new Map(repo.returnsOpenedByMonth().map((r) => [r.period, r.n]));
      const locked = locks.lockedPeriods();
      const counts = locks.adjustmentCounts();
      const ended = new Map<string, ReturnType<typeof locks.unlocks>>();
      for (const u of locks.unlocks()) ended.set(u.period, [...(ended.get(u.period) ?? []), u]);
      const known = [...opened.keys(), ...locked].filter((p) => /^\d{4}-\d{2}$/.test(p)).sort();
      const periods: Period[] = [];
      for (let p = parsePeriod(known[0] ?? periodOf(now).id); p.fromMs <= now; p = periodOf(p.toMs)) periods.push(p);
      return {
        periods: periods.reverse().map((p) => {
          const lock = locks.get(p.id);
          return {
            period: p.id,
            from: p.from,
            to: p.to,
            isComplete: now >= p.toMs,
            returnsOpened: opened.get(p.id) ?? 0,
            lock: lock ? { lockedAt: lock.locked_at, lockedBy: lock.locked_by, reportSha256: lock.report_sha256 } : null,
            changesSinceLock: counts.get(p.id) ?? 0,
            endedLocks: (ended.get(p.id) ?? []).map((u) => ({
              lockedAt: u.locked_at,
              lockedBy: u.locked_by,
              lockReason: u.lock_reason,
              reportSha256: u.report_sha256,
              factsSha256: u.facts_sha256,
              unlockedAt: u.unlocked_at,
              unlockedBy: u.unlocked_by,
              proposedBy: u.proposed_by,
              reason: u.reason,
            })),
          };
        }),
      };
    },

    /**
     * Writes the report's files (JSON, a CSV per table, XLSX, PDF) into `outDir`, streamed to disk. They appear under
     * their names once all are written: a run that fails leaves the files already there as they were.
     */
    async write(report: Report, outDir: string): Promise<WrittenFile[]> {
      const staging = stageIn(outDir);
      try {
        return staging.publish(await writeReportFiles(report, staging.dir));
      } finally {
        staging.discard();
      }
    },

    /**
     * Generates the period's report and writes its files into `outDir`; with `bundle`, the evidence bundle too, from
     * a snapshot taken in the same transaction as the report.
     */
    async generateFiles(periodId: string, outDir: string, options: { bundle?: boolean } = {}) {
      if (!options.bundle) {
        const report = reports.generate(periodId);
        return { report, files: await reports.write(report, outDir), bundle: null };
      }
      return bundle(parsePeriod(periodId), outDir);
    },
  };

  async function bundle(period: Period, outDir: string) {
    const work = mkdtempSync(join(tmpdir(), 'rw-bundle-build-'));
    const snapshotFile = join(work, 'period.sqlite');
    // The report files and the bundle are written into a staging folder beside their destination and renamed into it
    // once all are complete: an interrupted run never leaves a half-written file under a final name.
    const staging = stageIn(outDir);
    try {
      ports.beforeReport?.();
      const taken = repo.withSnapshotAttached(snapshotFile, () =>
        repo.transaction(() => {
          const now = clock.now();
          const report = reportOf(period, now);
          // reportOf leaves the facts of this period in the temp tables: they decide which rows the snapshot holds.
          const audit = readAuditSegment(db, period.from);
          const tables = copyPeriodRows(db, period, audit.fromSeq ?? Number.MAX_SAFE_INTEGER);
          const schemaVersion = repo.schemaVersion();
          return { report, lockedReportText: locks.get(period.id)?.report ?? null, audit, schemaVersion, tables };
        }),
      );
      const mappings = ports.mappings();
      const mappingFiles = Object.values(mappings.sources).map((path) => ({ name: path.split(/[\\/]/).pop() ?? path, text: readFileSync(path, 'utf8') }));
      const bundleName = `returns-evidence-${period.id}.zip`;
      // The snapshot streams into the bundle (deflated on the thread pool) while the report files are written beside it.
      const files = writeReportFiles(taken.report, staging.dir);
      const zipped = writeBundle(join(staging.dir, bundleName), {
        period: period.id,
        createdAt: iso(clock.now()),
        createdBy: ports.actor(),
        appVersion: ports.appVersion,
        sourceMode: ports.mode ?? null,
        report: taken.report,
        lockedReportText: taken.lockedReportText,
        files,
        snapshotFile,
        snapshotTables: taken.tables,
        snapshotSchemaVersion: taken.schemaVersion,
        audit: taken.audit,
        mappings: { files: mappingFiles, inForce: mappings.versions, recorded: recordedMappingVersions(period) },
      });
      // Both settle before the staging folder may go: a failed bundle must not pull the files from under their writer.
      const [writtenFiles, writtenBundle] = await Promise.allSettled([files, zipped]);
      if (writtenFiles.status === 'rejected') throw writtenFiles.reason;
      if (writtenBundle.status === 'rejected') throw writtenBundle.reason;
      const result = writtenBundle.value;
      const [bundleFile, ...written] = staging.publish([result, ...writtenFiles.value]);
      // The audit log keeps each bundle's manifest hash: the one check a forger who rewrote a whole bundle cannot pass.
      repo.transaction(() =>
        ports.audit.append({
          actor: ports.actor(),
          action: 'period.bundle',
          subject: `period:${period.id}`,
          after: { file: bundleName, manifestSha256: result.manifestSha256, bundleSha256: result.sha256, reportStatus: taken.report.status },
        }),
      );
      return {
        report: taken.report,
        files: written,
        bundle: { name: bundleName, path: bundleFile?.path ?? join(outDir, bundleName), bytes: result.bytes, sha256: result.sha256, manifestSha256: result.manifestSha256 },
      };
    } finally {
      staging.discard();
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** The mapping versions recorded on the period's decisions (intents and intakes), with how many records carry each. */
  function recordedMappingVersions(period: Period) {
    const p = { from: period.fromKey, to: period.toKey };
    const intents = repo.intentMappingVersions(p);
    const intakes = repo.intakeMappingVersions(p);
    return [...intents.map((r) => ({ source: 'intents', version: r.version, records: r.n })), ...intakes.map((r) => ({ source: 'return intake', version: r.version, records: r.n }))];
  }

  return reports;
}

export type Reports = ReturnType<typeof createReports>;
