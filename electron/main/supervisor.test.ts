import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../core/adapters/logger';
import type { FromCore, ToCore } from '../core-process/protocol';
import { createSupervisor, type ChildHandle, type SupervisorOptions, type SupervisorState } from './supervisor';

// The supervisor's logic on fake children and fake timers: handshake, routing, restart with backoff, giving up,
// and the quit path. supervisor-fork.test.ts runs the same supervisor on the real core process.

class FakeChild implements ChildHandle {
  received: ToCore[] = [];
  isKilled = false;
  private messageListeners: ((m: unknown) => void)[] = [];
  private exitListeners: ((code: number | null) => void)[] = [];
  postMessage(message: ToCore): void {
    this.received.push(message);
  }
  onMessage(listener: (m: unknown) => void): void {
    this.messageListeners.push(listener);
  }
  onExit(listener: (code: number | null) => void): void {
    this.exitListeners.push(listener);
  }
  kill(): void {
    if (this.isKilled) return;
    this.isKilled = true;
    this.exit(null);
  }
  send(message: FromCore | Record<string, unknown>): void {
    this.messageListeners.forEach((l) => l(message));
  }
  exit(code: number | null): void {
    this.exitListeners.forEach((l) => l(code));
  }
  /** Says hello, receives the boot config, answers ready. */
  boot(mode: 'sandbox' | 'live' = 'sandbox'): void {
    this.send({ type: 'hello' });
    this.send({ type: 'ready', mode });
  }
  invocations() {
    return this.received.filter((m): m is Extract<ToCore, { type: 'invoke' }> => m.type === 'invoke');
  }
}

const config = { dataDir: '/data', migrationsDir: '/app/migrations', mappingsDir: '/app/mappings', appVersion: '1.2.3' };

function setup(over: Partial<SupervisorOptions> = {}) {
  const children: FakeChild[] = [];
  const events: [string, unknown][] = [];
  const states: SupervisorState[] = [];
  const supervisor = createSupervisor({
    launch: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    config,
    log: silentLogger,
    onEvent: (name, payload) => events.push([name, payload]),
    onStateChange: (state) => states.push(state),
    readyTimeoutMs: 10_000,
    backoff: { initialMs: 1_000, maxMs: 8_000 },
    stableAfterMs: 60_000,
    maxCrashes: 5,
    crashWindowMs: 10 * 60_000,
    waitForReadyMs: 20_000,
    ...over,
  });
  const latest = () => children[children.length - 1] as FakeChild;
  return { supervisor, children, events, states, latest };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 10, 1, 9) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('core process supervisor', () => {
  it('sends the boot config only once the child listens, and is ready when the child says so', () => {
    const { supervisor, latest, states } = setup();
    supervisor.start();
    expect(latest().received).toEqual([]);
    latest().send({ type: 'hello' });
    expect(latest().received).toEqual([{ type: 'boot', config }]);
    expect(supervisor.state).toBe('starting');
    latest().send({ type: 'ready', mode: 'live' });
    expect(supervisor.state).toBe('ready');
    expect(states).toEqual(['starting', 'ready']);
  });

  it('routes each command to the core by id and each answer back to its caller; forwards events', async () => {
    const { supervisor, latest, events } = setup();
    supervisor.start();
    latest().boot();
    const first = supervisor.invoke('app.info', {});
    const second = supervisor.invoke('sync.status', {});
    await vi.advanceTimersByTimeAsync(0);
    const [a, b] = latest().invocations();
    expect(a).toMatchObject({ command: 'app.info', input: {} });
    expect(b).toMatchObject({ command: 'sync.status' });
    latest().send({ type: 'result', id: b?.id ?? -1, result: { ok: true, data: 'status' } });
    latest().send({ type: 'result', id: a?.id ?? -1, result: { ok: true, data: 'info' } });
    expect(await first).toEqual({ ok: true, data: 'info' });
    expect(await second).toEqual({ ok: true, data: 'status' });

    latest().send({ type: 'event', name: 'data.changed', payload: { tables: ['exceptions'] } });
    latest().send({ type: 'event', payload: 'no name' });
    latest().send({ nonsense: true });
    latest().send({ type: 'result', id: 999, result: { ok: true, data: null } });
    expect(events).toEqual([['data.changed', { tables: ['exceptions'] }]]);
  });

  it('kills a child that does not become ready in time and starts another', async () => {
    const { supervisor, children, latest } = setup();
    supervisor.start();
    latest().send({ type: 'hello' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(children[0]?.isKilled).toBe(true);
    expect(supervisor.state).toBe('restarting');
    expect(supervisor.detail).toMatch(/did not become ready within 10 s/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(children).toHaveLength(2);
    latest().boot();
    expect(supervisor.state).toBe('ready');
  });

  it('answers a command in flight when the core crashes, restarts it with growing delays, and serves again', async () => {
    const { supervisor, children, latest } = setup();
    supervisor.start();
    latest().boot();
    const inFlight = supervisor.invoke('refunds.refundNow', { returnId: 'R1', orderLineId: 'L1' });
    await vi.advanceTimersByTimeAsync(0);
    latest().exit(134);
    expect(await inFlight).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: expect.stringMatching(/stopped while running refunds\.refundNow.*Check the result/) },
    });

    // Delays 1 s, 2 s, 4 s, 8 s (capped) between crashes that follow each other quickly.
    const delays: number[] = [];
    for (let crash = 0; crash < 4; crash++) {
      const before = children.length;
      let waited = 0;
      while (children.length === before) {
        await vi.advanceTimersByTimeAsync(500);
        waited += 500;
      }
      delays.push(waited);
      if (crash < 3) {
        latest().boot();
        latest().exit(1);
      }
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);

    // A command sent while it restarts waits for it, then goes through.
    const waiting = supervisor.invoke('app.info', {});
    await vi.advanceTimersByTimeAsync(100);
    latest().boot();
    await vi.advanceTimersByTimeAsync(0);
    const call = latest().invocations()[0];
    latest().send({ type: 'result', id: call?.id ?? -1, result: { ok: true, data: 'back' } });
    expect(await waiting).toEqual({ ok: true, data: 'back' });
  });

  it('starts the delays again from the shortest after a run that lasted', async () => {
    const { supervisor, children, latest } = setup();
    supervisor.start();
    latest().boot();
    latest().exit(1);
    await vi.advanceTimersByTimeAsync(1_000);
    latest().boot();
    latest().exit(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(children).toHaveLength(3);
    latest().boot();
    await vi.advanceTimersByTimeAsync(61_000);
    latest().exit(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(children).toHaveLength(4);
  });

  it('gives up after too many crashes in a short time, and says so to every caller', async () => {
    const { supervisor, children, latest } = setup({ maxCrashes: 3 });
    supervisor.start();
    for (let i = 0; i < 4; i++) {
      latest().boot();
      latest().exit(1);
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect(supervisor.state).toBe('failed');
    expect(children).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(children).toHaveLength(4);
    expect(await supervisor.invoke('app.info', {})).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: expect.stringMatching(/stopped 4 times in 10 minutes and will not be restarted again/) },
    });
  });

  it('does not restart a core whose start failed for a reason a restart cannot fix', async () => {
    const { supervisor, children, latest } = setup();
    supervisor.start();
    latest().send({ type: 'hello' });
    latest().send({ type: 'bootFailed', message: 'The database could not be opened; a copy was kept as workbench.sqlite.failed-1.', isPermanent: true });
    expect(supervisor.state).toBe('failed');
    expect(supervisor.detail).toMatch(/database could not be opened/);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(children).toHaveLength(1);
  });

  it('restarts after a start failure that may pass (reported, then the process exits)', async () => {
    const { supervisor, children, latest } = setup();
    supervisor.start();
    latest().send({ type: 'hello' });
    latest().send({ type: 'bootFailed', message: 'EMFILE: too many open files', isPermanent: false });
    latest().exit(1);
    expect(supervisor.state).toBe('restarting');
    expect(supervisor.detail).toBe('EMFILE: too many open files');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(children).toHaveLength(2);
  });

  it('answers a waiting command with an error when the core does not come back in time', async () => {
    const { supervisor, latest } = setup();
    supervisor.start();
    const waiting = supervisor.invoke('app.info', {});
    latest().send({ type: 'hello' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await waiting).toEqual({ ok: false, error: { code: 'INTERNAL', message: expect.stringMatching(/still starting/) } });
  });

  it('ignores a late message from a child it already replaced', async () => {
    const { supervisor, children, latest } = setup();
    supervisor.start();
    latest().boot();
    const old = latest();
    old.exit(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(children).toHaveLength(2);
    old.send({ type: 'ready', mode: 'live' });
    expect(supervisor.state).toBe('restarting');
  });

  describe('quitting', () => {
    it('asks the core to drain, waits for its report and its exit, then refuses new commands', async () => {
      const { supervisor, latest } = setup();
      supervisor.start();
      latest().boot();
      const inFlight = supervisor.invoke('exceptions.list', {});
      await vi.advanceTimersByTimeAsync(0);
      const stopping = supervisor.shutdown(15_000);
      expect(latest().received.at(-1)).toEqual({ type: 'shutdown', drainMs: 15_000 });
      expect(await inFlight).toMatchObject({ ok: false, error: { message: expect.stringMatching(/closing/) } });
      latest().send({ type: 'stopped', report: { isDrained: false, interrupted: 2 } });
      latest().exit(0);
      expect(await stopping).toEqual({ report: { isDrained: false, interrupted: 2 }, wasKilled: false });
      expect(supervisor.state).toBe('stopped');
      expect(await supervisor.invoke('app.info', {})).toMatchObject({ ok: false, error: { message: expect.stringMatching(/closing/) } });
    });

    it('kills a core that does not stop within the drain time plus grace', async () => {
      const { supervisor, latest } = setup();
      supervisor.start();
      latest().boot();
      const stopping = supervisor.shutdown(15_000, 5_000);
      await vi.advanceTimersByTimeAsync(19_999);
      expect(latest().isKilled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await stopping).toEqual({ report: null, wasKilled: true });
      expect(latest().isKilled).toBe(true);
    });

    it('reboots with another config (an evidence bundle): the old core drains first, the new one boots with it', async () => {
      const { supervisor, children, latest } = setup();
      supervisor.start();
      latest().boot();
      const first = latest();
      const bundleConfig = { ...config, bundleFile: '/tmp/returns-evidence-2026-10.zip' };
      const rebooting = supervisor.reboot(bundleConfig, 15_000);
      expect(first.received.at(-1)).toEqual({ type: 'shutdown', drainMs: 15_000 });
      first.send({ type: 'stopped', report: { isDrained: true, interrupted: 0 } });
      first.exit(0);
      expect(await rebooting).toEqual({ report: { isDrained: true, interrupted: 0 }, wasKilled: false });
      expect(children).toHaveLength(2);
      const answer = supervisor.invoke('app.info', {});
      latest().boot('live');
      expect(latest().received[0]).toEqual({ type: 'boot', config: bundleConfig });
      expect(supervisor.state).toBe('ready');
      await vi.advanceTimersByTimeAsync(0);
      expect(latest().invocations().map((m) => m.command)).toEqual(['app.info']);
      latest().send({ type: 'result', id: latest().invocations()[0]?.id ?? 0, result: { ok: true, data: {} } });
      expect(await answer).toEqual({ ok: true, data: {} });
    });

    it('cancels a pending restart instead of starting a core only to stop it', async () => {
      const { supervisor, children, latest } = setup();
      supervisor.start();
      latest().boot();
      latest().exit(1);
      expect(await supervisor.shutdown(15_000)).toEqual({ report: null, wasKilled: false });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(children).toHaveLength(1);
    });
  });
});
