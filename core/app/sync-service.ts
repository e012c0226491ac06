import type { Store } from '../store/db';
import { createSyncServiceRepo } from '../store/feeds-repo';
import type { Mode, SyncState } from '../contract';
import { miraklCallBudgets } from '../mirakl/client';
import type { Clock, Logger } from '../ports';
import type { CycleReport, Engine } from '../sync/engine';
import type { EventBus } from './event-bus';
import { feedOperations } from '../store/sync-health-repo';

// The background scheduler around the engine: it runs cycles off the request path, one at a time (one writer),
// each feed on its own cadence (the engine skips feeds whose next_run_at is ahead). A cycle that throws is logged
// and shown in the status, and the next one runs as usual. Stopping lets the cycle in flight finish: an intent is
// never abandoned between `sending` and its recorded outcome by us.

/** Waits `ms` of real time, or less when the signal aborts. The default uses timers; tests may pass their own. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const timerSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export interface SyncServiceOptions {
  mode: Mode;
  engine: Engine;
  db: Store['db'];
  /** The core's clock (sandbox time in Sandbox mode): cycle times and call budgets are in its terms. */
  clock: Clock;
  log: Logger;
  events: EventBus;
  /** Real time between the end of one cycle and the start of the next. */
  idleMs: number;
  sleep?: Sleep;
}

export interface SyncServiceStatus {
  state: SyncState;
  isPaused: boolean;
  mode: Mode;
  lastCycleAt: string | null;
  lastError: string | null;
  cycles: number;
}

export function createSyncService(options: SyncServiceOptions) {
  const { engine, db, clock, log, events, mode } = options;
  const sleep = options.sleep ?? timerSleep;
  let isStarted = false;
  let isStopping = false;
  let isPaused = false;
  let isCycleRunning = false;
  let runRequested = false;
  let lastCycleAt: string | null = null;
  let lastError: string | null = null;
  let cycles = 0;
  let wake = new AbortController();
  let loop: Promise<void> | null = null;
  // Every cycle, the loop's and any asked for by a person, goes through this chain: never two at once.
  let chain: Promise<unknown> = Promise.resolve();

  const repo = createSyncServiceRepo(db);

  function state(): SyncState {
    if (!isStarted) return 'stopped';
    if (isCycleRunning) return 'running';
    return isPaused ? 'paused' : 'idle';
  }

  function status(): SyncServiceStatus {
    return { state: state(), isPaused, mode, lastCycleAt: lastCycleAt ?? repo.lastRunAt(), lastError, cycles };
  }

  function announce(): void {
    const s = status();
    events.emit('sync.stateChanged', { state: s.state, mode: s.mode, lastCycleAt: s.lastCycleAt, lastError: s.lastError });
  }

  function cycle(): Promise<CycleReport> {
    const run = chain.then(async () => {
      isCycleRunning = true;
      announce();
      try {
        // Each feed is a command on the queue, which announces the tables its writes changed (nothing for a poll that
        // found nothing: its cursor, journal line and budget mark are bookkeeping).
        const report = await engine.runCycle();
        cycles++;
        lastError = null;
        if (engine.state === 'fenced') {
          // Another engine started on this database while this one was stopped: it never sends again (restart the app
          // to take over); the loop is paused so the status says so rather than cycling for nothing.
          lastError = report.failed.at(-1)?.error ?? 'another engine started on this database';
          isPaused = true;
        }
        return report;
      } catch (error) {
        lastError = (error as Error).message;
        log.error('sync cycle failed', { error: lastError, stack: (error as Error).stack });
        return { ran: [], failed: [{ feed: '(cycle)', error: lastError }] } satisfies CycleReport;
      } finally {
        lastCycleAt = new Date(clock.now()).toISOString();
        isCycleRunning = false;
        announce();
      }
    });
    chain = run.catch(() => undefined);
    return run;
  }

  async function runLoop(): Promise<void> {
    while (!isStopping) {
      if (!isPaused || runRequested) {
        runRequested = false;
        await cycle();
      }
      if (isStopping) break;
      wake = new AbortController();
      if (runRequested) continue;
      await sleep(options.idleMs, wake.signal);
    }
  }

  /**
   * Brings every feed's next run forward to now, or to the moment its Mirakl call budget allows (a person's "run now"
   * must not spend Mirakl's patience: RT11 stays ≥ 5 minutes apart whoever asks).
   */
  function makeFeedsDue(): void {
    const now = clock.now();
    for (const row of repo.nextRuns()) {
      let allowedAt = now;
      for (const group of feedOperations[row.feed] ?? []) {
        if (group.system !== 'mirakl') continue;
        for (const operation of group.operations) {
          const interval = miraklCallBudgets[operation];
          const last = interval === undefined ? undefined : repo.lastCallAt(`mirakl:${operation}`);
          if (interval !== undefined && last !== undefined) allowedAt = Math.max(allowedAt, last + interval);
        }
      }
      const current = row.next_run_at ? Date.parse(row.next_run_at) : now;
      if (allowedAt < current) repo.bringForward(row.feed, new Date(allowedAt).toISOString());
    }
  }

  return {
    mode,
    status,
    start(): void {
      if (isStarted) return;
      isStarted = true;
      isStopping = false;
      announce();
      loop = runLoop();
    },
    /** Lets the cycle in flight finish, then stops. */
    async stop(): Promise<void> {
      if (!isStarted) return;
      isStopping = true;
      wake.abort();
      await loop;
      await chain;
      isStarted = false;
      announce();
    },
    pause(): void {
      isPaused = true;
      announce();
    },
    resume(): void {
      isPaused = false;
      announce();
      wake.abort();
    },
    /** Asks for a cycle now (even when paused: a person asked), with every feed due that its budget allows. */
    runNow(): void {
      makeFeedsDue();
      runRequested = true;
      wake.abort();
    },
    /** Wakes the loop so it runs its next cycle now (after a change that unblocked work), unless paused. */
    nudge(): void {
      wake.abort();
    },
    /** Runs one cycle after any in flight, and resolves with its report (tests; the CLI's --once). */
    runCycle: (): Promise<CycleReport> => cycle(),
    get isPaused() {
      return isPaused;
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
