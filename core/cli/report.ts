import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { osPersonName } from '../adapters/person-name';
import { systemClock } from '../adapters/system';
import { personActor } from '../app/person';
import { createAuditLog } from '../audit/log';
import { periodSchema } from '../contract/reports';
import { bundleCommand } from '../contract/shell';
import { AppError } from '../errors';
import { loadMappings } from '../mappings/load';
import { createReconciler } from '../store/reconcile/pass';
import { money } from '../report/money';
import { createReports } from '../report/service';
import { databaseFileName, openStore } from '../store/db';
import { acquireFolderLock, describeBusy, FolderBusyError, type FolderLock } from '../store/folder-lock';
import { sourceMigrationsDir } from '../store/paths';
import { createSettingsRepo } from '../store/settings-repo';
import { parseFlags, UsageError } from './args';
import { defaultDataDir, repoRoot } from './paths';
import { reportFatal } from './web';

// A report reconciles before it counts and may lock the month: it writes to the data folder's database, so it takes
// the folder's lock as an engine does (DESIGN.md: one engine per data folder). Beside a running app or `npm run sync`
// it waits for them, saying whom it waits for, or with --no-wait refuses at once (exit 75, as `npm run sync` does).
// An expected condition (busy folder, bad flags, no database) is a sentence, never a stack trace.

const busyExitCode = 75;
const interruptedExitCode = 130;

const usage = `Usage: npm run report -- --period YYYY-MM --out DIR [--data-dir DIR] [--bundle] [--lock [--reason TEXT]] [--no-wait] [--json]
  Writes the month's reconciliation report into DIR: returns-report-YYYY-MM.json, a CSV per table, .xlsx and .pdf.
  --period YYYY-MM  the calendar month, in UTC
  --out DIR         where to write the files (created if missing); a file already there is never replaced: the
                    run refuses and names it
  --data-dir DIR    the app's data folder (default: ${defaultDataDir()})
  --bundle          also write the offline evidence bundle returns-evidence-YYYY-MM.zip (open it with
                    npm run web -- --bundle FILE)
  --lock            lock the month first (it must be over): its report is frozen, and any later change touching it
                    appears as a post-close adjustment in the next open month's report. Locking is audited.
  --reason TEXT     why the month is locked (kept in the audit log with the lock)
  --no-wait         when the app or \`npm run sync\` is syncing the data folder, say so and stop (exit code ${busyExitCode})
                    instead of waiting for it to stop (the default; the app's Reports page makes the same files)
  --json            print one JSON line {period, status, outDir, files, bundle, checks} instead of the summary
  Exit codes: 0 written; 1 failed; 2 bad arguments or no database; ${busyExitCode} the folder is busy (--no-wait);
  ${interruptedExitCode} stopped with Ctrl+C.`;

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { period: 'string', out: 'string', 'data-dir': 'string', bundle: 'boolean', lock: 'boolean', reason: 'string', 'no-wait': 'boolean', json: 'boolean' },
    usage,
  );
  if (!flags.period) throw new UsageError(`--period is required.\n${usage}`);
  const period = periodSchema.safeParse(flags.period);
  if (!period.success) throw new UsageError(`--period "${flags.period}": ${period.error.issues[0]?.message ?? 'expected YYYY-MM'}.`);
  if (!flags.out) throw new UsageError(`--out is required: the folder to write the report into.\n${usage}`);
  if (flags.reason !== undefined && !flags.lock) throw new UsageError('--reason goes with --lock: it is the reason kept with the lock.');
  const dataDir = resolve(flags['data-dir'] ?? defaultDataDir());
  if (!existsSync(join(dataDir, databaseFileName))) {
    throw new UsageError(`There is no Returns Workbench database in ${dataDir} (no ${databaseFileName}). Give the app's data folder with --data-dir.`);
  }
  const outDir = resolve(flags.out);

  const clock = systemClock;
  const folder = await takeFolder(dataDir, !flags['no-wait']);
  const store = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock });
  try {
    const mappings = loadMappings(undefined, join(dataDir, 'mappings'));
    const reconciler = createReconciler(store.db, clock);
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const reports = createReports({
      db: store.db,
      clock,
      audit: createAuditLog(store.db, clock),
      mappings: () => mappings,
      // The name the person set in the app's Settings, as every other action of theirs is recorded under.
      actor: personActor(createSettingsRepo(store.db, clock), osPersonName()),
      appVersion: version,
      beforeReport: () => reconciler.run(mappings.policy, { fullPass: 'finish' }),
    });
    const locked = flags.lock ? reports.lock(period.data, flags.reason?.trim() || null) : null;
    const { report, files, bundle } = await reports.generateFiles(period.data, outDir, { bundle: Boolean(flags.bundle) });
    if (flags.json) {
      process.stdout.write(
        JSON.stringify({ period: report.period, status: report.status, lock: report.lock, outDir, files, bundle, checks: report.checks, money: report.money, returns: report.returns }) + '\n',
      );
      return;
    }
    const lines = [
      `Returns reconciliation ${report.period} (${report.status === 'locked' ? `LOCKED by ${report.lock?.lockedBy} at ${report.lock?.lockedAt}` : report.isPeriodComplete ? 'not locked' : 'provisional: the month has not ended'})`,
      locked ? `  Locked now: report sha256 ${locked.reportSha256}${locked.adjustments ? `, with ${locked.adjustments} adjustment(s) to earlier months` : ''}` : null,
      `  Returns: ${report.returns.opened} opened, ${report.returns.received} received, ${report.returns.refunded} refunded, ${report.returns.closed} closed`,
      ...report.money.map(
        (m) =>
          `  ${m.currency}: refunded ${money(m.refundedMinor, m.currency)} in ${m.refunds} refund(s), ${m.unbackedRefunds} without a verified receipt (${money(m.unbackedMinor, m.currency)}); ` +
          `awaiting refund ${money(m.accrualMinor, m.currency)} on ${m.accrualLines} line(s); variance ${money(m.varianceMinor, m.currency)}`,
      ),
      '  Checks:',
      ...report.checks.map((c) => `    ${c.status.toUpperCase().padEnd(4)}  ${c.label}: ${c.detail}`),
      report.changesSinceLock.length ? `  ${report.changesSinceLock.length} change(s) touching this month were found after it was locked (see changes-since-lock).` : null,
      `  Files in ${outDir}:`,
      ...files.map((f) => `    ${f.name}`),
      bundle ? `  Evidence bundle: ${bundle.path} (sha256 ${bundle.sha256})` : null,
      bundle ? `  Open it read-only with: ${bundleCommand(bundle.path)}` : null,
    ];
    process.stdout.write(lines.filter((l) => l !== null).join('\n') + '\n');
  } finally {
    store.close();
    await folder.release();
  }
}

/**
 * The data folder's lock, waited for while another process syncs it (unless `wait` is off). Ctrl+C while waiting
 * stops the wait with nothing written.
 */
async function takeFolder(dataDir: string, wait: boolean): Promise<FolderLock> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort(new Interrupted());
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    return await acquireFolderLock(dataDir, {
      wait,
      signal: stop.signal,
      onBusy: (busy) =>
        process.stderr.write(
          busy.isHolderGone
            ? `${describeBusy(busy)}\n`
            : `Waiting for the data folder: ${describeBusy(busy)} The report is made as soon as that one stops; ` +
                `meanwhile the app's Reports page makes the same files (Ctrl+C stops waiting).\n`,
        ),
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

class Interrupted extends Error {
  override name = 'Interrupted';
  constructor() {
    super('Stopped waiting for the data folder: no report was written.');
  }
}

main().catch((error: unknown) => {
  if (error instanceof FolderBusyError) {
    process.stderr.write(`${error.message} Its Reports page makes the same files; or run this again without --no-wait to wait for it.\n`);
    process.exit(busyExitCode);
  }
  if (error instanceof Interrupted) {
    process.stderr.write(`${error.message}\n`);
    process.exit(interruptedExitCode);
  }
  if (error instanceof AppError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.code === 'VALIDATION' ? 2 : 1);
  }
  reportFatal(error);
});
