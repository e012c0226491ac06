// Every benchmark figure of the app in one run and one table (issues 9 and 22): the sync engine's drain time, calls,
// latency, CPU and memory against the sandbox (test/bench/lifecycle.ts), the matcher, detectors and grid pages on a
// year of returns (test/bench/reconcile.ts), the month-end report and bundle (test/bench/report.ts), and each part's
// peak memory. Each part runs in its own child process (this file with --part), so its peak RSS is its own and its
// memory goes back to the system before the next one starts; the sync parts start the sandbox in a process of its
// own too. Not a unit test: `npm run bench`, or `npx tsx test/bench/all.ts --quick` for small sizes (a smoke test:
// the targets are for the full sizes); `--only backlog,report` runs some parts, `--backlog N` changes the backlog's size.
// Exits 1 when a part fails, or (full sizes only) when a target is missed.

import { fork } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { engineV8Flags } from '../../core/app/engine-process';
import { describeFloor } from './baselines';
import { fullLatency, maxStepMs, quickLatency, runBacklog, runLatency, type BacklogFigures, type LatencyFigures } from './lifecycle';
import { reconcileTargets, runReconcileBench, type ReconcileFigures } from './reconcile';
import { reportTargetMs, runReportBench, type ReportFigures } from './report';
import { installSqlProfile } from './sql-profile';

const partNames = ['backlog', 'cpu', 'latency', 'reconcile', 'report'] as const;
type PartName = (typeof partNames)[number];

interface Sizes {
  backlog: number;
  latency: typeof fullLatency;
  lines: number;
  reportReturns: number;
}
const fullSizes: Sizes = { backlog: 10_000, latency: fullLatency, lines: 1_000_000, reportReturns: 100_000 };
const quickSizes: Sizes = { backlog: 2_000, latency: quickLatency, lines: 50_000, reportReturns: 10_000 };

interface PartFigures {
  backlog: BacklogFigures;
  cpu: BacklogFigures;
  latency: LatencyFigures;
  reconcile: ReconcileFigures;
  report: ReportFigures;
}

/** What a child sends back: its figures and what it cost. */
interface PartResult<K extends PartName = PartName> {
  part: K;
  figures: PartFigures[K];
  maxRssKb: number;
  wallMs: number;
}

async function runPart(part: PartName, sizes: Sizes, log: (line: string) => void): Promise<PartFigures[PartName]> {
  switch (part) {
    case 'backlog':
      return runBacklog({ returns: sizes.backlog, transport: 'loopback', log });
    case 'cpu':
      return runBacklog({ returns: sizes.backlog, transport: 'in-process', log });
    case 'latency':
      return runLatency({ ...sizes.latency, log });
    case 'reconcile':
      return runReconcileBench({ lines: sizes.lines, log });
    case 'report':
      return runReportBench({ returns: sizes.reportReturns, log });
  }
}

/** In the child: run one part, send the figures to the parent, exit. */
async function child(part: PartName, sizes: Sizes): Promise<void> {
  const t0 = performance.now();
  const figures = await runPart(part, sizes, (line) => console.log(`  [${part}] ${line}`));
  const result: PartResult = { part, figures, maxRssKb: process.resourceUsage().maxRSS, wallMs: performance.now() - t0 };
  // Run by hand (`--part` without a parent), there is nobody to send the figures to: they were printed above.
  const send = process.send?.bind(process);
  if (send) await new Promise<void>((resolve, reject) => send(result, (error: Error | null) => (error ? reject(error) : resolve())));
  process.disconnect?.();
}

/** In the parent: fork this file for one part and wait for its figures (null when it failed). */
function forkPart(part: PartName, sizes: Sizes, quick: boolean): Promise<PartResult | { part: PartName; error: string }> {
  return new Promise((resolve) => {
    // execArgv is inherited, so the child runs under the same TypeScript loader (tsx) as this process.
    const args = ['--part', part, '--backlog', String(sizes.backlog), ...(quick ? ['--quick'] : [])];
    // The cpu part runs V8 without helper threads, so the sandbox thread's GC is charged to that thread (lifecycle.ts).
    // Every part stands in for the core's process, so it runs with that process's V8 flags (core/app/engine-process.ts).
    const execArgv = [...engineV8Flags, ...(part === 'cpu' ? ['--single-threaded'] : []), ...process.execArgv];
    const proc = fork(fileURLToPath(import.meta.url), args, { serialization: 'advanced', stdio: 'inherit', execArgv });
    let result: PartResult | null = null;
    proc.on('message', (message) => {
      result = message as PartResult;
    });
    proc.on('exit', (code, signal) => {
      resolve(result ?? { part, error: `the ${part} process exited with ${signal ?? `code ${code}`} before sending its figures` });
    });
  });
}

// --- The table ----------------------------------------------------------------------------------------------

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  verdict: '✓' | '✗' | '—' | '(✓)' | '(✗)';
}

/** Pads every column to its widest cell; the header is underlined. */
export function formatTable(rows: Row[]): string {
  const header: Row = { figure: 'figure', value: 'value', baseline: 'baseline / floor', ratio: 'ratio', target: 'target', verdict: '—' };
  const cells = (r: Row) => [r.figure, r.value, r.baseline, r.ratio, r.target, r === header ? '✓/✗' : r.verdict];
  const all = [header, ...rows].map(cells);
  const widths = all[0]?.map((_, i) => Math.max(...all.map((c) => [...(c[i] ?? '')].length))) ?? [];
  const line = (c: string[]) => c.map((text, i) => text + ' '.repeat((widths[i] ?? 0) - [...text].length)).join(' | ').trimEnd();
  const [head, ...body] = all;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

const n = (x: number, digits = 0) => x.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (x: number) => (x >= 1000 ? `${n(x / 1000, 1)} s` : `${n(x, 1)} ms`);
const minutes = (x: number) => (Number.isFinite(x) ? `${n(x / 60_000, 1)} min` : 'never');
const seconds = (x: number) => (Number.isFinite(x) ? (x >= 600_000 ? minutes(x) : `${n(x / 1000)} s`) : 'never');
const mb = (kb: number) => `${n(kb / 1024)} MB`;
const ratio = (value: number, base: number) => (base > 0 && Number.isFinite(value) ? `${n(value / base, 2)}×` : '—');

/** Issue 22's targets for the sync engine (full sizes). */
export const syncTargets = {
  drainRatio: 1.1,
  miraklPerReturn: 0.12,
  latencyP50Ms: 15_000,
  latencyP95Ms: 60_000,
  cpuMsPerReturn: 1,
  rssKb: 400 * 1024,
};

export function buildRows(
  results: Map<PartName, PartResult | { part: PartName; error: string }>,
  quick: boolean,
): { rows: Row[]; misses: string[]; notes: string[] } {
  const rows: Row[] = [];
  const misses: string[] = [];
  const notes: string[] = [];
  const judge = (name: string, isMet: boolean): Row['verdict'] => {
    if (!isMet) misses.push(name);
    if (quick) return isMet ? '(✓)' : '(✗)';
    return isMet ? '✓' : '✗';
  };
  const failed = (figure: string, error: string) => rows.push({ figure, value: `FAILED: ${error}`, baseline: '', ratio: '', target: '', verdict: '✗' });
  const get = <K extends PartName>(part: K): PartFigures[K] | string => {
    const r = results.get(part);
    if (!r) return 'not run';
    return 'error' in r ? r.error : (r.figures as PartFigures[K]);
  };

  const backlog = get('backlog');
  const cpu = get('cpu');
  if (typeof backlog === 'string') failed('sync engine backlog (figures 1–3, 5)', backlog);
  else {
    const per = Math.max(1, backlog.closed);
    const size = `${n(backlog.returns)}-return backlog`;
    const floor = backlog.floor;
    const drainRatio = backlog.simMs / floor.ms;
    rows.push({
      figure: `1. Drain the ${size}, default budgets (sandbox clock)`,
      value: backlog.isDrained ? minutes(backlog.simMs) : `not drained in ${minutes(backlog.simMs)}: ${n(backlog.closed)} closed`,
      baseline: `${minutes(floor.ms)} floor (${floor.binding.api === 'Mirakl' ? floor.binding.operation : 'ReBound'})`,
      ratio: backlog.isDrained ? ratio(backlog.simMs, floor.ms) : '—',
      target: `≤ ${n(syncTargets.drainRatio, 1)}× floor`,
      verdict: judge('drain vs floor', backlog.isDrained && drainRatio <= syncTargets.drainRatio),
    });
    const miraklPer = backlog.miraklTotal / per;
    rows.push({
      figure: '2. Mirakl calls per return, reads + writes (backlog)',
      value: n(miraklPer, 3),
      baseline: `${n(floor.miraklCalls / backlog.work.returns, 3)} floor`,
      ratio: ratio(backlog.miraklTotal, floor.miraklCalls),
      target: `≤ ${n(syncTargets.miraklPerReturn, 2)}`,
      verdict: judge('Mirakl calls per return', miraklPer <= syncTargets.miraklPerReturn),
    });
    rows.push({
      figure: '   Mirakl writes per return',
      value: n(backlog.miraklWrites / per, 3),
      baseline: `${n(backlog.naiveCalls / per, 2)} naive`,
      ratio: ratio(backlog.miraklWrites, backlog.naiveCalls),
      target: '—',
      verdict: '—',
    });
    rows.push({
      figure: '   ReBound calls per return',
      value: n(backlog.reboundTotal / per, 2),
      baseline: `${n(floor.reboundCalls / backlog.work.returns, 2)} floor`,
      ratio: ratio(backlog.reboundTotal, floor.reboundCalls),
      target: '—',
      verdict: '—',
    });
    notes.push(
      `1–2: ${n(backlog.closed)} of ${n(backlog.returns)} returns closed in ${n(backlog.cycles)} engine cycles, ${ms(backlog.wallMs)} wall. ` +
        `Floor = the least calls a perfect client needs per API and operation, and the least time the sandbox's budgets allow for them (the slowest binds):`,
      ...describeFloor(floor).map((line) => `    ${line}`),
      `    Mirakl floor ${n(floor.miraklCalls)} calls = ${n(floor.miraklCalls / backlog.work.returns, 3)} a return; ReBound ${n(floor.reboundCalls)} calls. ` +
        `Naive = one Mirakl call per accept, label push, receipt, compliance, close, refunded line and (return, offer) restocked (writes only).`,
      `    Engine's calls: Mirakl ${Object.entries(backlog.miraklCalls).map(([op, c]) => `${op} ${n(c)}`).join(', ')}; ` +
        `ReBound ${Object.entries(backlog.reboundCalls).map(([op, c]) => `${op} ${n(c)}`).join(', ')}.`,
    );
  }

  if (typeof cpu === 'string') failed('3. engine CPU per return (in-process transport)', cpu);
  else {
    const per = Math.max(1, cpu.closed);
    const cpuPer = cpu.engineCpuMs / per;
    rows.push({
      figure: `3. Engine CPU per return lifecycle (${n(cpu.returns)} backlog, in-process transport)`,
      value: ms(cpuPer),
      baseline: '—',
      ratio: '—',
      target: `≤ ${ms(syncTargets.cpuMsPerReturn)}`,
      verdict: judge('engine CPU per return', cpu.isDrained && cpuPer <= syncTargets.cpuMsPerReturn),
    });
    notes.push(
      `3: the sandbox on a thread of the engine's process, each request handed to its pipeline through a shared buffer (no socket, no HTTP); V8 ` +
        `${cpu.isSingleThreaded ? 'without helper threads (--single-threaded), so each heap is collected on its own thread' : 'WITH helper threads (not --single-threaded): the sandbox GC there counts as the engine'}. ` +
        `Engine = the process's CPU (process.cpuUsage(), every thread), ${ms(cpu.processCpuMs)}, less the sandbox thread's own (/proc/thread-self/stat), ` +
        `${ms(cpu.sandboxCpuMs)}, less the bench's share, ${ms(cpu.benchCpuMs)} (choosing steps and checking progress, measured; ${n(cpu.cycles)} clock moves at ` +
        `${n(cpu.controlRoundTripUs)} µs, calibrated), less the handoff's fixed cost, ${ms(cpu.transportCpuMs)} (${n(cpu.engineApiCalls)} requests at ` +
        `${n(cpu.apiRoundTripUs)} µs, calibrated on empty requests; reading the answers is left in, as with any transport): ${ms(cpu.engineCpuMs)} over ` +
        `${n(cpu.closed)} closed returns${cpu.isDrained ? '' : ` (NOT drained in ${minutes(cpu.capMs)}: the work spent on the unclosed is in it too)`}. ` +
        `Receiving ReBound's notifications over HTTP is the engine's, as in the app.` +
        (typeof backlog !== 'string' && (backlog.simMs !== cpu.simMs || backlog.miraklTotal !== cpu.miraklTotal)
          ? ` NOTE: this run did not do what the loopback run did (${minutes(cpu.simMs)}, ${n(cpu.miraklTotal)} Mirakl calls).`
          : ' It did exactly what the loopback run did (same sandbox minutes and calls).'),
    );
  }
  if (typeof backlog !== 'string') {
    const per = Math.max(1, backlog.closed);
    rows.push({
      figure: '   Wall clock per return over loopback HTTP (backlog run)',
      value: `${ms(backlog.wallMs / per)} (${n(backlog.closed / (backlog.wallMs / 1000), 1)} returns/s)`,
      baseline: '—',
      ratio: '—',
      target: '—',
      verdict: '—',
    });
    notes.push(
      `   Over loopback (the sandbox in its own process) the engine's process spent ${ms(backlog.engineCpuMs / per)} of CPU a return, the bench's share ` +
        `taken out as above; an empty HTTP request costs it ${n(backlog.apiRoundTripUs)} µs (fetch), a control call over IPC ${n(backlog.controlRoundTripUs)} µs.`,
    );
    rows.push({
      figure: `   Engine process CPU per return over loopback HTTP`,
      value: ms(backlog.engineCpuMs / per),
      baseline: '—',
      ratio: '—',
      target: '—',
      verdict: '—',
    });
  }

  const latency = get('latency');
  if (typeof latency === 'string') failed('4. ReBound receipt → Mirakl RECEIVED', latency);
  else {
    const isMet = latency.p50Ms <= syncTargets.latencyP50Ms && latency.p95Ms <= syncTargets.latencyP95Ms;
    rows.push({
      figure: `4. ReBound receipt → Mirakl RECEIVED, p50 / p95 / max (sandbox clock)`,
      value: `${seconds(latency.p50Ms)} / ${seconds(latency.p95Ms)} / ${seconds(latency.maxMs)}`,
      baseline: '—',
      ratio: '—',
      target: `p50 ≤ ${seconds(syncTargets.latencyP50Ms)}, p95 ≤ ${seconds(syncTargets.latencyP95Ms)}`,
      verdict: judge('receipt latency', isMet),
    });
    const f = latency.floor;
    const days = latency.windowHours / 24;
    const returns = Math.max(1, latency.returns);
    rows.push({
      figure: `   Steady flow: Mirakl calls per day / per return`,
      value: `${n(latency.calls.mirakl / days)} / ${n(latency.calls.mirakl / returns, 2)}`,
      baseline: `${n(f.miraklPerDay)} / ${n(f.miraklPerReturn, 2)} floor`,
      ratio: ratio(latency.calls.mirakl, f.miraklCalls),
      target: '—',
      verdict: '—',
    });
    rows.push({
      figure: `   Steady flow: ReBound calls per day / per return`,
      value: `${n(latency.calls.rebound / days)} / ${n(latency.calls.rebound / returns, 2)}`,
      baseline: `${n(f.reboundPerDay)} / ${n(f.reboundPerReturn, 2)} floor`,
      ratio: ratio(latency.calls.rebound, f.reboundCalls),
      target: '—',
      verdict: '—',
    });
    notes.push(
      `4: ${latency.samples} receipts over ${latency.windowHours} sandbox h of a steady flow (${n(latency.returns)} returns requested), from ReBound's ITEMS_REGISTERED to ` +
        `Mirakl's RECEIVED, both on the sandbox clock; ${latency.pending} never RECEIVED. Steps of ≤ ${maxStepMs / 1000} sandbox s, landing on each ReBound event ` +
        `(a parcel moves, a notification is due) and each feed due: a time is exact to the engine's cycles, not to the step.`,
      `    Steady-flow floor (a perfect client: RT11 at its recommended 15 min, receipts within 60 s, the rest batched over 15 min):`,
      ...describeFloor({ operations: f.operations }).map((line) => `    ${line.replace(/ = (\d[\d,]*) calls$/, ' = $1 calls in the window')}`),
      `    Engine's calls in the window: Mirakl ${Object.entries(latency.calls.miraklByOperation).map(([op, c]) => `${op} ${n(c)}`).join(', ')}; ` +
        `ReBound ${Object.entries(latency.calls.reboundByOperation).map(([op, c]) => `${op} ${n(c)}`).join(', ')}.`,
    );
  }

  if (typeof backlog !== 'string') {
    rows.push({
      figure: `5. Engine peak RSS, backlog run (sandbox in its own process)`,
      value: mb(backlog.maxRssKb),
      baseline: '—',
      ratio: '—',
      target: `≤ ${mb(syncTargets.rssKb)}`,
      verdict: judge('engine peak RSS', backlog.maxRssKb <= syncTargets.rssKb),
    });
    notes.push(
      `5: the backlog part's own peak (process.resourceUsage().maxRSS) when the backlog drained, before the bench read any ground truth; the sandbox ` +
        `process peaked at ${mb(backlog.sandboxProcess.maxRssKb)}.`,
    );
  }
  const recon = get('reconcile');
  if (typeof recon === 'string') failed('6–7. matcher, detectors, returns page', recon);
  else {
    const lines = `${n(recon.lines)} lines`;
    rows.push({
      figure: `6. Matcher + detectors, full pass (${lines})`,
      value: ms(recon.fullMs),
      baseline: '—',
      ratio: '—',
      target: `≤ ${ms(reconcileTargets.fullMs)}`,
      verdict: judge('full pass', recon.fullMs <= reconcileTargets.fullMs),
    });
    rows.push({
      figure: `   Incremental pass, 1,000 changed lines (median)`,
      value: ms(recon.incremental.medianMs),
      baseline: '—',
      ratio: '—',
      target: `≤ ${ms(reconcileTargets.incrementalMs)}`,
      verdict: judge('incremental pass', recon.incremental.medianMs <= reconcileTargets.incrementalMs),
    });
    // The slowest of the filtered and sorted pages of returns.list (the unfiltered page and the search are not).
    const pages = recon.returnPages.filter((p) => p.name.startsWith('returns page:') && !p.name.includes(': all'));
    const worst = pages.reduce((a, b) => (b.p95Ms > a.p95Ms ? b : a), pages[0] ?? { name: 'none', p50Ms: Number.NaN, p95Ms: Number.NaN, hasFullScan: true });
    rows.push({
      figure: `7. Returns grid page of 100, p50 / p95 (${lines})`,
      value: `${ms(worst.p50Ms)} / ${ms(worst.p95Ms)}`,
      baseline: '—',
      ratio: '—',
      target: `p95 ≤ ${ms(reconcileTargets.pageP95Ms)}`,
      verdict: judge('returns page p95', pages.every((p) => p.p95Ms <= reconcileTargets.pageP95Ms && !p.hasFullScan)),
    });
    notes.push(
      `6–7: ${n(recon.counts.returns ?? 0)} returns; incremental p95 ${ms(recon.incremental.p95Ms)} over ${recon.incremental.rounds} rounds. The page figure is the ` +
        `slowest of the filtered and sorted returns.list pages (${worst.name.replace('returns page: ', '')}); all: ` +
        `${pages.map((p) => `${p.name.replace('returns page: ', '')} ${ms(p.p95Ms)}`).join(', ')} (p95).`,
    );
    notes.push(
      `Dashboard money figures (${lines}): ${ms(recon.money.nowMs)} now, read from the ${n(recon.money.owedLines)} order lines that owe money; ` +
        `${ms(recon.money.baseTablesMs)} counted from the base tables (a report as at a past moment, and the dashboard before migration 0020). ` +
        `Dashboard KPIs in all: ${ms(recon.kpisMs)}.`,
    );
  }

  const report = get('report');
  if (typeof report === 'string') failed('8. report + bundle', report);
  else {
    rows.push({
      figure: `8. Report + bundle (month of ${n(report.returns)} returns)${report.isVerified ? '' : ' NOT VERIFIED'}`,
      value: ms(report.bundleMs),
      baseline: '—',
      ratio: '—',
      target: `≤ ${ms(reportTargetMs)}`,
      verdict: judge('report + bundle', report.bundleMs <= reportTargetMs && report.isVerified),
    });
    notes.push(
      `8: report ${ms(report.reportMs)}, files ${ms(report.filesMs)}, then report + files + bundle in one call ${ms(report.bundleMs)} (CPU ${ms(report.bundleCpuMs)}), ` +
        `bundle ${n(report.bundleBytes / 1e6, 1)} MB, ${report.isVerified ? 'verified' : `NOT verified: ${report.problems.join('; ')}`} ` +
        `(opened in a process of its own, as a reviewer's viewer opens it: ${ms(report.verifyMs)}, peak RSS ${mb(report.verifyMaxRssKb)}, not counted in 8's figure).`,
    );
  }

  for (const part of partNames) {
    const r = results.get(part);
    if (!r || 'error' in r) continue;
    rows.push({ figure: `9. Peak RSS: ${part} process`, value: mb(r.maxRssKb), baseline: '—', ratio: '—', target: '—', verdict: '—' });
  }
  rows.push({ figure: '9. Peak RSS: this (orchestrating) process', value: mb(process.resourceUsage().maxRSS), baseline: '—', ratio: '—', target: '—', verdict: '—' });
  return { rows, misses, notes };
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return (
    `machine: ${cpu}, ${cpus().length} cores (${availableParallelism()} usable), ${n(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}, ` +
    `${process.platform} ${release()}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      part: { type: 'string' },
      only: { type: 'string' },
      backlog: { type: 'string' },
      'sql-profile': { type: 'boolean', default: false },
    },
  });
  const sizes = { ...(values.quick ? quickSizes : fullSizes) };
  if (values.backlog !== undefined) sizes.backlog = Number(values.backlog);
  if (!Number.isInteger(sizes.backlog) || sizes.backlog < 10) throw new Error(`--backlog must be an integer ≥ 10, got ${values.backlog}`);
  if (values.part) {
    if (!(partNames as readonly string[]).includes(values.part)) throw new Error(`--part must be one of ${partNames.join(', ')}`);
    const profile = values['sql-profile'] ? installSqlProfile() : null;
    if (profile) console.log(`  [${values.part}] --sql-profile: every statement is timed, so this part's own figures are inflated`);
    await child(values.part as PartName, sizes);
    for (const line of profile?.report(40) ?? []) console.log(`  [${values.part}] ${line}`);
    return;
  }
  if (values['sql-profile']) throw new Error('--sql-profile goes with --part (one part, in this process)');
  const wanted = values.only ? values.only.split(',') : [...partNames];
  for (const w of wanted) if (!(partNames as readonly string[]).includes(w)) throw new Error(`--only takes a comma list of ${partNames.join(', ')}`);

  console.log(`Returns Workbench benchmarks — ${values.quick ? 'QUICK sizes (smoke test; targets are for the full sizes)' : 'full sizes'}`);
  console.log(machineLine());
  console.log(
    `sizes: backlog ${n(sizes.backlog)} returns; steady flow ${sizes.latency.ordersPerDay} orders/day, ${sizes.latency.windowHours} h measured; ` +
      `${n(sizes.lines)} return lines; report month of ${n(sizes.reportReturns)} returns\n`,
  );
  const started = performance.now();
  const results = new Map<PartName, PartResult | { part: PartName; error: string }>();
  for (const part of partNames) {
    if (!wanted.includes(part)) continue;
    console.log(`${part}:`);
    results.set(part, await forkPart(part, sizes, values.quick));
  }
  const { rows, misses, notes } = buildRows(results, values.quick);
  console.log(`\n${formatTable(rows)}\n`);
  console.log(
    'Sync figures (1–5): the real engine in its own process against the sandbox in another, no faults and no added latency, ReBound notifications on.',
  );
  for (const note of notes) console.log(`  ${note}`);
  const failedParts = [...results.values()].filter((r) => 'error' in r).length;
  console.log(
    `\n${n((performance.now() - started) / 1000, 0)} s in all; ${failedParts} part(s) failed; ${misses.length ? `target(s) missed: ${misses.join(', ')}` : 'every target met'}` +
      `${values.quick && misses.length ? ' (at quick sizes: not the issue figures)' : ''}`,
  );
  if (failedParts > 0 || (!values.quick && misses.length > 0)) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
