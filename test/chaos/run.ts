import { cpus } from 'node:os';
import { parseFlags, UsageError } from '../../core/cli/args';
import { backgroundCount, checkSeed, faultShortNames, firedCount, seedLine, shapedRecords, type SeedReport } from './check-seed';
import type { FaultKind } from './plan';
import { runSeeds } from './pool';

// `npm run chaos -- --seeds N [--from S] [--seed S] [--workers W] [--verbose]`: seeded chaos runs of the real sync
// engine against the sandbox. Each seed is run twice (the second run must end in the same state). One line per
// seed, a closing summary, exit code 1 when any seed broke an invariant; a failing seed is reproduced with --seed.

const usage = `Usage: npm run chaos -- [--seeds N] [--from S] [--seed S] [--workers W] [--verbose]
  --seeds N    check N consecutive seeds (default 20), starting at --from (default 1)
  --seed S     check one seed, in this process, printing its fault trace with --verbose
  --workers W  worker processes (default: 2, or the number of cores if fewer)
  --verbose    print each seed's statistics too (and the fault trace with --seed)`;

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), { seeds: 'string', from: 'string', seed: 'string', workers: 'string', verbose: 'boolean' }, usage);
  const whole = (name: string, value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, got "${value}".\n${usage}`);
    return n;
  };
  const started = performance.now();
  const isVerbose = flags.verbose === true;

  if (flags.seed !== undefined) {
    if (flags.seeds !== undefined || flags.from !== undefined) throw new UsageError(`--seed checks one seed; it cannot be combined with --seeds or --from.\n${usage}`);
    const seed = whole('seed', flags.seed, 1, 0);
    const report = await checkSeed(seed, isVerbose ? { trace: (line) => process.stdout.write(`  ${line}\n`) } : {});
    print(report, isVerbose);
    return summarise([report], 1, started);
  }

  const count = whole('seeds', flags.seeds, 20, 1);
  const from = whole('from', flags.from, 1, 0);
  const workers = whole('workers', flags.workers, Math.min(2, cpus().length), 1);
  const seeds = Array.from({ length: count }, (_, i) => from + i);
  process.stdout.write(`chaos: checking seeds ${from}..${from + count - 1} on ${workers} worker(s); each seed runs twice (the replay must end in the same state)\n`);
  const reports = await runSeeds(seeds, { workers, onReport: (r) => print(r, isVerbose) });
  return summarise(reports, workers, started);
}

function print(r: SeedReport, isVerbose: boolean): void {
  const lines = [seedLine(r)];
  for (const v of r.violations) lines.push(`      ${v}`);
  if (r.violations.length) lines.push(`      reproduce: npm run chaos -- --seed ${r.seed} --verbose`);
  if (isVerbose) lines.push(`      state ${r.hash}  ${Object.entries(r.stats).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function summarise(reports: SeedReport[], workers: number, started: number): number {
  const failed = reports.filter((r) => r.violations.length > 0).sort((a, b) => a.seed - b.seed);
  const fired: Partial<Record<FaultKind, number>> = {};
  for (const r of reports) for (const [k, n] of Object.entries(r.fired)) fired[k as FaultKind] = (fired[k as FaultKind] ?? 0) + (n ?? 0);
  const planned = reports.reduce((s, r) => s + firedCount(r), 0);
  const background = reports.reduce((s, r) => s + backgroundCount(r), 0);
  const fewest = reports.reduce((m, r) => Math.min(m, firedCount(r)), Infinity);
  const seconds = (performance.now() - started) / 1000;
  const variants: Record<string, number> = {};
  for (const r of reports) for (const [v, n] of Object.entries(r.shapes)) variants[v] = (variants[v] ?? 0) + (n ?? 0);
  const shapesDrawn = reports.reduce((s, r) => s + (r.fired.shapes ?? 0) + (r.background.shapes ?? 0), 0);
  const excluded = reports.filter((r) => r.taxMode === 'TAX_EXCLUDED').length;
  const byKind = Object.entries(fired)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, n]) => `${faultShortNames[k as FaultKind]} ${n}`)
    .join(', ');
  process.stdout.write(
    [
      '',
      `chaos: ${reports.length} seed(s), ${reports.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (seed ${failed.map((r) => r.seed).join(', ')})` : ''} in ${seconds.toFixed(0)} s on ${workers} worker(s)`,
      `faults: ${planned} planned faults fired (at least ${fewest} per seed) + ${background} drawn by the sandbox itself`,
      `  ${byKind}`,
      `shapes: ${shapesDrawn} answers reshaped (${fired.shapes ?? 0} planned, ${shapesDrawn - (fired.shapes ?? 0)} drawn by the sandbox), ${reports.reduce((s, r) => s + shapedRecords(r), 0)} records: ${
        Object.entries(variants)
          .sort((a, b) => b[1] - a[1])
          .map(([v, n]) => `${v} ${n}`)
          .join(', ') || 'none'
      }`,
      `tax modes: ${excluded} of ${reports.length} seed(s) ran a TAX_EXCLUDED shop`,
      `stock: ${fired.salesDuringImport ?? 0} sales during stock imports (${stat(reports, 'unitsSoldDuringImports')} units sold), ${stat(reports, 'overwrittenUnitsRaised')} overwritten unit(s) raised as STOCK_OVERWRITTEN, ${stat(reports, 'restockedUnits')} unit(s) restocked; ${fired.importStalled ?? 0} import(s) Mirakl's queue stalled on (${stat(reports, 'stalledImportsRaised')} raised as STOCK_IMPORT_STALLED)`,
      `back office: ${fired.backOfficeRefund ?? 0} refund(s) made outside the app (${stat(reports, 'foreignWritesRaised')} raised as FOREIGN_WRITE, pausing refunds and stock until a person acknowledged ${stat(reports, 'foreignWritesAcknowledged')}; ${stat(reports, 'backOfficeRefundsRaised')} raised as REFUND_EXCEEDS_RECEIPT / REFUND_WITHOUT_RECEIPT); ` +
        `${stat(reports, 'pushRejections')} status push(es) refused by Mirakl (${stat(reports, 'rt04RefusedReturnsReceived')} RT04-refused return(s) still received); ` +
        `second instance refused by the folder lock ${stat(reports, 'secondInstanceRefused')} time(s), opened ${stat(reports, 'secondInstanceOpened')}`,
      `second installations with their own database: ${fired.secondEngineOwnDb ?? 0} opened for ${stat(reports, 'secondEngineCycles')} cycle(s); they made ${stat(reports, 'secondEngineRefunds')} refund(s) ` +
        `(${stat(reports, 'secondEngineRefundsRaised')} raised as FOREIGN_WRITE, ${stat(reports, 'secondEngineRefundsTakenForOurs')} taken by a probe for the engine's own) and ${stat(reports, 'secondEngineImports')} stock import(s); ` +
        `${stat(reports, 'crossEngineDuplicates')} unit payment(s) duplicated across the two, ${stat(reports, 'crossEngineDuplicatesInFlightRaised')} in flight and raised; ` +
        `their imports left ${stat(reports, 'unitsOffBySecondEngine')} unit(s) on ${stat(reports, 'offersOffBySecondEngine')} of the ${stat(reports, 'offersSetBySecondEngine')} offer(s) they set off the engine's account (${stat(reports, 'offersOffBySecondEngineRaised')} of those offer(s) raised as FOREIGN_WRITE)`,
      `late units: ${stat(reports, 'lateUnitsDrawn')} drawn, ${fired.lateUnit ?? 0} registered by ReBound after their line's refund was planned ` +
        `(${stat(reports, 'lateUnitsAfterRefundConfirmed')} after it was confirmed): ${stat(reports, 'lateUnitsRefunded')} refunded by a refund of their own, ` +
        `${stat(reports, 'lateUnitsHeldByException')} held by an open exception, ${stat(reports, 'lateUnitsSettledOtherwise')} not owed or already paid; ` +
        `${stat(reports, 'closedReturnsChecked')} closed return(s) checked against their refunds`,
      `cycles: ${reports.reduce((s, r) => s + r.cycles, 0)} engine cycles, ${reports.reduce((s, r) => s + r.restarts, 0)} restarts after a kill`,
      failed.length === 0 ? 'every invariant held on every seed, and every replay ended in the same state' : `reproduce a failure: npm run chaos -- --seed ${failed[0]?.seed} --verbose`,
    ].join('\n') + '\n',
  );
  return failed.length === 0 ? 0 : 1;
}

const stat = (reports: SeedReport[], key: string) => reports.reduce((n, r) => n + (r.stats[key] ?? 0), 0);

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
