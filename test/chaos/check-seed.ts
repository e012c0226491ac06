import { runSeed, type RunResult } from './simulation';
import type { FaultKind } from './plan';

// A seed passes when its run breaks no invariant and a second run of the same seed, from scratch, ends in the same
// state: same rows in every table, same ground truth in both simulated systems.

export interface SeedReport extends RunResult {
  ms: number;
}

export async function checkSeed(seed: number, options: { trace?: (line: string) => void } = {}): Promise<SeedReport> {
  const started = performance.now();
  const first = await runSeed(seed, options);
  const replay = await runSeed(seed);
  const violations = [...first.violations];
  if (replay.hash !== first.hash) {
    const differing = Object.keys({ ...first.tables, ...replay.tables }).filter((t) => first.tables[t] !== replay.tables[t]);
    violations.push(
      `REPLAY DIVERGED: state hash ${first.hash}, then ${replay.hash} on replay (${differing.length ? `tables differing: ${differing.join(', ')}` : 'the sandbox ground truth differs'})`,
    );
  }
  return { ...first, violations, ms: Math.round(performance.now() - started) };
}

const shortNames: Record<FaultKind, string> = {
  timeoutBeforeApply: 'timeout-before',
  timeoutAfterApply: 'timeout-after',
  connectionReset: 'reset',
  serverError: '5xx',
  lostResponse: 'lost-response',
  rateLimitStorm: '429-storm',
  businessRejection: 'rejected',
  salesDuringImport: 'sales@import',
  importStalled: 'import-stall',
  pushRejected: 'push-rejected',
  unknownEnum: 'unknown-enum',
  shapes: 'shapes',
  paginationShift: 'page-shift',
  clockJumpMidCall: 'clock-jump',
  killAtCall: 'kill@call',
  secondInstance: 'second-instance',
  killAtCrashPoint: 'kill@point',
  sleep: 'sleep',
  clockSkew: 'clock-skew',
  diskFull: 'disk-full',
  ioError: 'io-error',
  mappingEdit: 'mapping-edit',
  backOfficeRefund: 'bo-refund',
  lateUnit: 'late-unit',
  restoreBackup: 'restore',
  secondEngineOwnDb: 'second-db',
  notificationDuplicate: 'ntf-dup',
  notificationLate: 'ntf-late',
  notificationMissing: 'ntf-missing',
  notificationRefused: 'ntf-refused',
  notificationsReordered: 'ntf-reordered',
};
const backgroundNames: Record<string, string> = { reset: 'reset', serverError: '5xx', lostResponse: 'lost-response', rateLimitStorm: '429-storm', unknownEnum: 'unknown-enum', shapes: 'shapes' };

export const firedCount = (r: RunResult) => Object.values(r.fired).reduce((s, n) => s + (n ?? 0), 0);
export const backgroundCount = (r: RunResult) => Object.values(r.background).reduce((s, n) => s + n, 0);
/** Records the shapes fault reshaped in a run, over every variant. */
export const shapedRecords = (r: RunResult) => Object.values(r.shapes).reduce((s, n) => s + (n ?? 0), 0);

/** One line per seed: faults that fired by kind, cycles, restarts, the verdict. */
export function seedLine(r: SeedReport): string {
  const fired = Object.entries(r.fired)
    .map(([k, n]) => `${shortNames[k as FaultKind]} ${n}`)
    .join(', ');
  const background = Object.entries(r.background)
    .map(([k, n]) => `${backgroundNames[k] ?? k} ${n}`)
    .join(', ');
  const verdict = r.violations.length === 0 ? 'ok' : `FAILED (${r.violations.length} violation${r.violations.length === 1 ? '' : 's'})`;
  return (
    `seed ${String(r.seed).padStart(4)}  ${verdict.padEnd(2)}  faults ${firedCount(r)} of ${r.drawn} drawn [${fired}] + sandbox ${backgroundCount(r)} [${background}]` +
    `  reshaped records ${shapedRecords(r)}  ${r.taxMode === 'TAX_EXCLUDED' ? 'tax-excluded shop  ' : ''}cycles ${r.cycles}  restarts ${r.restarts}  ${r.simDays} d  ${(r.ms / 1000).toFixed(1)} s`
  );
}

export { shortNames as faultShortNames };
