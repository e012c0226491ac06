import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import type { Logger } from '../ports';
import { openStore, type Store } from '../store/db';
import { createFeedsRepo } from '../store/feeds-repo';
import { sourceMigrationsDir } from '../store/paths';
import type { CycleReport, Engine } from '../sync/engine';
import { makeTempDir } from '../../test/support/temp-dir';
import { createEventBus } from './event-bus';
import { createSyncService, type Sleep } from './sync-service';

// The scheduler around the engine, with a scripted engine: cycles in a loop off the caller's path, one at a time,
// pause / resume / run now, a failing cycle that does not stop the loop, and a stop that waits for the cycle in flight.

interface ScriptedEngine extends Engine {
  calls: number;
  maxConcurrent: number;
  /** The next cycles wait for release() (one per cycle) instead of finishing at once. */
  hold(): void;
  release(): void;
  failNext(message: string): void;
}

function scriptedEngine(): ScriptedEngine {
  let running = 0;
  let isHeld = false;
  const waiting: (() => void)[] = [];
  let failure: string | null = null;
  const engine = {
    calls: 0,
    maxConcurrent: 0,
    async runCycle(): Promise<CycleReport> {
      engine.calls++;
      running++;
      engine.maxConcurrent = Math.max(engine.maxConcurrent, running);
      try {
        if (isHeld) await new Promise<void>((resolve) => waiting.push(resolve));
        if (failure) {
          const message = failure;
          failure = null;
          throw new Error(message);
        }
        return { ran: ['mirakl.returns'], failed: [] };
      } finally {
        running--;
      }
    },
    pause() {},
    resume() {},
    state: 'idle' as const,
    hold() {
      isHeld = true;
    },
    release() {
      isHeld = false;
      waiting.splice(0).forEach((r) => r());
    },
    failNext(message: string) {
      failure = message;
    },
  };
  return engine as unknown as ScriptedEngine;
}

/** A sleep the test ends by hand: the loop waits here between cycles until tick() (or a wake-up). */
function manualSleep() {
  const sleepers: (() => void)[] = [];
  const sleep: Sleep = (_ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => resolve();
      sleepers.push(wake);
      signal.addEventListener(
        'abort',
        () => {
          sleepers.splice(sleepers.indexOf(wake), 1);
          resolve();
        },
        { once: true },
      );
    });
  return {
    sleep,
    tick: () => sleepers.splice(0).forEach((r) => r()),
    get sleeping() {
      return sleepers.length;
    },
  };
}

const settle = async (times = 5) => {
  for (let i = 0; i < times; i++) await new Promise((r) => setImmediate(r));
};

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('sync service', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 9, 1, 12));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  function build(engine: Engine, log: Logger = silentLogger) {
    const events = createEventBus();
    const states: string[] = [];
    events.on('sync.stateChanged', (s) => states.push(s.state));
    const sleeper = manualSleep();
    const service = createSyncService({ mode: 'sandbox', engine, db: store.db, clock, log, events, idleMs: 1000, sleep: sleeper.sleep });
    return { service, sleeper, states, events };
  }

  it('runs a cycle at start and another after each idle wait, and stops with nothing left running', async () => {
    const engine = scriptedEngine();
    const { service, sleeper, states } = build(engine);
    expect(service.status().state).toBe('stopped');
    service.start();
    await until(() => sleeper.sleeping === 1, 'the first idle wait');
    expect(engine.calls).toBe(1);
    sleeper.tick();
    await until(() => engine.calls === 2 && sleeper.sleeping === 1, 'the second cycle');
    expect(service.status()).toMatchObject({ state: 'idle', mode: 'sandbox', cycles: 2, lastError: null, lastCycleAt: '2026-10-01T12:00:00.000Z' });
    await service.stop();
    expect(service.status().state).toBe('stopped');
    sleeper.tick();
    await settle();
    expect(engine.calls).toBe(2);
    expect(states[0]).toBe('idle');
    expect(states).toContain('running');
    expect(states.at(-1)).toBe('stopped');
  });

  it('survives a failing cycle: the error is logged and shown, and the next cycle runs and clears it', async () => {
    const engine = scriptedEngine();
    const logged: string[] = [];
    const log: Logger = { ...silentLogger, error: (message, fields) => void logged.push(`${message}: ${String(fields?.error)}`) };
    const { service, sleeper } = build(engine, log);
    engine.failNext('database is locked');
    service.start();
    await until(() => sleeper.sleeping === 1, 'the idle wait after the failure');
    expect(service.status()).toMatchObject({ state: 'idle', lastError: 'database is locked', cycles: 0 });
    expect(logged).toEqual(['sync cycle failed: database is locked']);
    sleeper.tick();
    await until(() => service.status().cycles === 1, 'the next cycle');
    expect(service.status().lastError).toBeNull();
    await service.stop();
  });

  it('stop lets the cycle in flight finish before it resolves', async () => {
    const engine = scriptedEngine();
    const { service } = build(engine);
    engine.hold();
    service.start();
    await until(() => service.status().state === 'running', 'the cycle to start');
    let isStopped = false;
    const stopping = service.stop().then(() => {
      isStopped = true;
    });
    await settle();
    expect(isStopped).toBe(false);
    expect(service.status().state).toBe('running');
    engine.release();
    await stopping;
    expect(service.status()).toMatchObject({ state: 'stopped', cycles: 1 });
    expect(engine.calls).toBe(1);
  });

  it('never runs two cycles at once: a cycle asked for while one runs waits for it', async () => {
    const engine = scriptedEngine();
    const { service } = build(engine);
    engine.hold();
    service.start();
    await until(() => engine.calls === 1, 'the loop cycle');
    const asked = service.runCycle();
    await settle();
    expect(engine.calls).toBe(1);
    engine.release();
    await asked;
    expect(engine.calls).toBe(2);
    expect(engine.maxConcurrent).toBe(1);
    await service.stop();
  });

  it('pause holds the loop, run now runs exactly one cycle while paused, resume carries on', async () => {
    const engine = scriptedEngine();
    const { service, sleeper } = build(engine);
    service.start();
    await until(() => sleeper.sleeping === 1, 'the first idle wait');
    service.pause();
    expect(service.status().state).toBe('paused');
    sleeper.tick();
    await until(() => sleeper.sleeping === 1, 'the paused wait');
    sleeper.tick();
    await until(() => sleeper.sleeping === 1, 'another paused wait');
    expect(engine.calls).toBe(1);

    service.runNow();
    await until(() => engine.calls === 2 && sleeper.sleeping === 1, 'the cycle asked for');
    expect(service.status().state).toBe('paused');
    sleeper.tick();
    await until(() => sleeper.sleeping === 1, 'the wait after it');
    expect(engine.calls).toBe(2);

    service.resume();
    await until(() => engine.calls === 3, 'the cycle after resume');
    expect(service.status().state).not.toBe('paused');
    await service.stop();
  });

  it('run now brings feeds forward, but never before Mirakl’s call budget allows (RT11 stays 5 minutes apart)', async () => {
    const feeds = createFeedsRepo(store.db);
    feeds.register({ feed: 'mirakl.returns', label: 'RT11', cadenceSeconds: 300 });
    feeds.register({ feed: 'rebound', label: 'ReBound', cadenceSeconds: 300 });
    const later = new Date(clock.now() + 280_000).toISOString();
    store.db.prepare('UPDATE feeds SET next_run_at = ?').run(later);
    // RT11 was called 60 s ago: the next call is allowed in 240 s.
    store.db.prepare(`INSERT INTO api_budgets (key, last_call_at) VALUES ('mirakl:RT11', ?)`).run(clock.now() - 60_000);
    const { service } = build(scriptedEngine());
    service.runNow();
    const next = Object.fromEntries((store.db.prepare('SELECT feed, next_run_at FROM feeds').all() as { feed: string; next_run_at: string }[]).map((r) => [r.feed, r.next_run_at]));
    expect(next).toEqual({ 'mirakl.returns': new Date(clock.now() + 240_000).toISOString(), rebound: new Date(clock.now()).toISOString() });
  });
});
