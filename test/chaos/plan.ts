import type { Rng } from '../../core/sandbox/rng';

// The faults one chaos run injects, drawn up front from the run's seed. Each fault is armed at a moment of sandbox
// time and fires at the first opportunity after it that fits (the next write to Mirakl, the next ReBound
// notification, the next step boundary…), so the same seed fires the same faults at the same places.

export const faultKinds = [
  // One HTTP call, chosen by `target`.
  'timeoutBeforeApply', // the call never reaches the server, the client sees a timeout
  'timeoutAfterApply', // the server applies the change, the client sees a timeout
  'connectionReset', // the sandbox drops the connection before applying anything
  'serverError', // the sandbox answers 5xx without applying anything
  'lostResponse', // the sandbox applies the change, then drops the connection
  'rateLimitStorm', // the sandbox answers 429 to every call of that operation for a while
  'businessRejection', // the API refuses the write (4xx, or every item of a batch refused)
  'salesDuringImport', // customers buy units of an offer a stock import is setting, just before or just after it is sent
  'importStalled', // Mirakl takes a stock import and its queue stalls on it: RUNNING for hours, then it runs
  'pushRejected', // Mirakl refuses one return of an RT04 / RT26 / RT27 with a per-item return_errors entry
  'unknownEnum', // the answer carries an enum value the client has never seen
  'shapes', // the answer is reshaped like Mirakl's own examples (nulls, older placements, deprecated fields, "12.50")
  'paginationShift', // an RT11 poll is read in small pages while time passes and the world changes between them
  'clockJumpMidCall', // sandbox and local time jump forward while a call is on its way
  'killAtCall', // the process dies just before a call leaves, or just after its answer arrived
  'secondInstance', // a second engine opens the same data directory mid-call and runs beside the first
  // The engine's own instrumented crash points (`ctx.crash`): just before or just after a side effect's call.
  'killAtCrashPoint',
  // Between two engine cycles.
  'sleep', // the machine sleeps: sandbox and local time jump hours ahead together
  'clockSkew', // the local clock jumps ahead of or behind the servers' for a while, then is corrected
  'diskFull', // SQLite cannot grow the database file for a while (max_page_count)
  'ioError', // one write, a few writes after the fault is armed, fails with SQLITE_IOERR
  // (both also strike right after a write's answer arrived, while its outcome is being recorded)
  'mappingEdit', // a mapping file in the data directory is edited (sometimes badly)
  'backOfficeRefund', // someone refunds a return line in Mirakl's back office, outside the app: all of it, the shipping, or part
  'lateUnit', // ReBound registers a unit of a line whose refund for the earlier units is planned or sent (a later parcel, or found at the hub)
  'restoreBackup', // the database is backed up, and a few steps later put back from that backup over the live one (a restore)
  // A colleague's installation with Live credentials and a database of its own syncs the same shop for `amount` steps.
  'secondEngineOwnDb',
  // ReBound notifications, on their way to the engine's receiver.
  'notificationDuplicate',
  'notificationLate',
  'notificationMissing', // acknowledged to ReBound but never reaches the engine
  'notificationRefused', // the receiver is unreachable: ReBound retries later
  'notificationsReordered',
] as const;

export type FaultKind = (typeof faultKinds)[number];

/** Which calls an HTTP fault may hit. */
export type CallTarget = 'unsafeWrite' | 'write' | 'read' | 'any' | 'enumRead' | 'shaped';

export interface PlannedFault {
  id: number;
  kind: FaultKind;
  /** Sandbox time from which the fault is armed. */
  at: number;
  target: CallTarget;
  /** Kind-specific size: a duration, a jump, a count (see where each kind fires). */
  amount: number;
  /** Kind-specific choice: before/after for kills, the edit for mappingEdit, the sign of a skew. */
  variant: string;
  firedAt: number | null;
  /** Where it fired, for the verbose trace. */
  where: string | null;
}

const minute = 60_000;
const hour = 60 * minute;

export const mappingEditVariants = ['addReason', 'triggerInspected', 'restockNever', 'refundCodeChange', 'malformed'] as const;
/** All that is left of the line on top of ours, only its shipping ('goodwill shipping refund'), or `amount`% of what is left. */
export const backOfficeRefundVariants = ['full', 'shipping', 'partial'] as const;
/** How a late unit reaches the hub: in a parcel of its own, or found there after the others were registered. */
export const lateUnitArrivals = ['separateParcel', 'foundAtHub'] as const;
/** Whether the second installation's cycle runs just before or just after A's in each step it is open. */
export const secondEngineOrders = ['afterA', 'beforeA'] as const;
export const crashPoints = ['or28', 'sto01', 'create-return', 'sales-order', 'rt04', 'rt21', 'rt25', 'rt26', 'rt27'] as const;

/** A seed's plan: `count` faults of every kind, each armed at a moment in the window. */
export function drawPlan(rng: Rng, window: { fromMs: number; toMs: number }, count: number): PlannedFault[] {
  const faults: PlannedFault[] = [];
  for (let id = 1; id <= count; id++) {
    const kind = rng.pick(faultKinds);
    const at = window.fromMs + Math.floor(rng.float() * (window.toMs - window.fromMs));
    faults.push({ id, kind, at, ...details(rng, kind), firedAt: null, where: null });
  }
  return faults.sort((a, b) => a.at - b.at || a.id - b.id);
}

function details(rng: Rng, kind: FaultKind): { target: CallTarget; amount: number; variant: string } {
  switch (kind) {
    case 'timeoutAfterApply':
    case 'lostResponse':
      // The case that makes a blind retry dangerous: mostly on writes that are not safe to repeat.
      return { target: rng.chance(0.7) ? 'unsafeWrite' : 'write', amount: 0, variant: '' };
    case 'timeoutBeforeApply':
    case 'connectionReset':
    case 'serverError':
      return { target: rng.pick(['unsafeWrite', 'write', 'read', 'any'] as const), amount: 0, variant: '' };
    case 'businessRejection':
      return { target: rng.chance(0.5) ? 'unsafeWrite' : 'write', amount: 0, variant: '' };
    case 'rateLimitStorm':
      return { target: rng.pick(['write', 'read', 'any'] as const), amount: rng.int(60, 1800), variant: '' };
    case 'salesDuringImport':
      // Between the read the import was computed from and Mirakl applying it: the units it will overwrite.
      return { target: 'unsafeWrite', amount: rng.int(1, 3), variant: rng.pick(['before', 'after']) };
    case 'importStalled':
      // Seconds the import waits in Mirakl's queue: past the hour after which the engine tells a person.
      return { target: 'unsafeWrite', amount: rng.int(2, 8) * 3600, variant: '' };
    case 'pushRejected':
      return { target: 'write', amount: 0, variant: '' };
    case 'backOfficeRefund':
      return { target: 'any', amount: rng.int(20, 80), variant: rng.pick(backOfficeRefundVariants) };
    case 'lateUnit':
      return { target: 'any', amount: 0, variant: rng.pick(lateUnitArrivals) };
    case 'unknownEnum':
      return { target: 'enumRead', amount: 0, variant: '' };
    case 'shapes':
      return { target: 'shaped', amount: 0, variant: '' };
    case 'paginationShift':
      return { target: 'read', amount: rng.int(1, 5), variant: '' };
    case 'clockJumpMidCall':
      return { target: 'any', amount: rng.int(1, 45) * minute, variant: '' };
    case 'killAtCall':
      return { target: rng.pick(['unsafeWrite', 'write', 'read', 'any'] as const), amount: 0, variant: rng.pick(['before', 'after']) };
    case 'secondInstance':
      return { target: rng.pick(['unsafeWrite', 'write', 'any'] as const), amount: rng.int(1, 6), variant: '' };
    case 'killAtCrashPoint':
      return { target: 'any', amount: 0, variant: `${rng.pick(crashPoints)}:${rng.pick(['before', 'after'])}-call` };
    case 'sleep':
      return { target: 'any', amount: rng.int(2, 20) * hour, variant: '' };
    case 'clockSkew':
      return { target: 'any', amount: rng.int(2, 90) * minute * (rng.chance(0.5) ? 1 : -1), variant: String(rng.int(1, 8)) };
    // Storage faults strike between cycles, or right after a write's answer arrived, while its outcome is recorded.
    case 'diskFull':
      return rng.chance(0.5)
        ? { target: rng.pick(['unsafeWrite', 'write'] as const), amount: rng.int(1, 8), variant: 'afterCall' }
        : { target: 'any', amount: rng.int(1, 8), variant: 'between' };
    case 'ioError':
      return rng.chance(0.6)
        ? { target: rng.pick(['unsafeWrite', 'write'] as const), amount: rng.int(1, 3), variant: 'afterCall' }
        : { target: 'any', amount: rng.int(1, 80), variant: 'between' };
    case 'secondEngineOwnDb':
      // A desktop behind NAT (no webhooks): open for a few hours to most of a day, its cycle before or after A's.
      return { target: 'any', amount: rng.int(2, 12), variant: rng.pick(secondEngineOrders) };
    case 'restoreBackup':
      // Steps between the backup and the restore: the database put back misses what the engine did meanwhile.
      return { target: 'any', amount: rng.int(1, 8), variant: '' };
    case 'mappingEdit':
      return { target: 'any', amount: 0, variant: rng.pick(mappingEditVariants) };
    case 'notificationLate':
      return { target: 'any', amount: rng.int(1, 4), variant: '' };
    default:
      return { target: 'any', amount: 0, variant: '' };
  }
}

/** The faults of a plan that are armed now and not fired yet, oldest first. */
export function armed(plan: PlannedFault[], now: number, kind: FaultKind): PlannedFault[] {
  return plan.filter((f) => f.kind === kind && f.firedAt === null && f.at <= now);
}
