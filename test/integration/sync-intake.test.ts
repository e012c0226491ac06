import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultScenario } from '../../core/sandbox/scenario';
import { backlogScenario } from '../bench/lifecycle';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;
const day = 24 * 60 * minute;

describe('intake when the order is not visible yet', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  beforeEach(async () => {
    temp = makeTempDir();
    h = await startHarness({
      seed: 9,
      dataDir: temp.dir,
      scenario: {
        historyDays: 0,
        ordersPerDay: 20,
        ordersUntilMs: defaultScenario.startMs + day,
        returnRate: 0.5,
        returnAfterDays: [0, 1],
        // Every order shows up in OR11 five to six hours after its return: past the 4-hour wait window.
        orderVisibleLateRate: 1,
        orderVisibleLateMinutes: [300, 360],
      },
    });
  });
  afterEach(async () => {
    await h.close();
    temp.remove();
  });

  it('waits, raises ORDER_NOT_FOUND after the window, never half-creates, and resolves when the order appears', async () => {
    const db = h.store.db;
    let sawException = false;
    let createdWhileMissing = 0;
    while (h.clock.now() < defaultScenario.startMs + 6 * day) {
      await h.step(10 * minute);
      const open = db.prepare(`SELECT subject_key FROM exceptions WHERE type = 'ORDER_NOT_FOUND' AND state = 'open'`).all() as { subject_key: string }[];
      if (open.length > 0) sawException = true;
      for (const { subject_key } of open) {
        const created = db.prepare(`SELECT count(*) AS n FROM intents WHERE key = ? AND state != 'planned'`).get(`rebound-return:${subject_key}`) as { n: number };
        createdWhileMissing += created.n;
      }
    }
    expect(sawException).toBe(true);
    expect(createdWhileMissing).toBe(0);
    const open = db.prepare(`SELECT count(*) AS n FROM exceptions WHERE type = 'ORDER_NOT_FOUND' AND state != 'resolved'`).get() as { n: number };
    expect(open.n).toBe(0);
    const resolved = db.prepare(`SELECT resolution FROM exceptions WHERE type = 'ORDER_NOT_FOUND' AND state = 'resolved' LIMIT 1`).get() as { resolution: string };
    expect(resolved.resolution).toMatch(/order is now visible/);
    const returns = h.sandbox.world.returnsList().filter((r) => r.lines.every((l) => l.reasonCode !== 'RETURN_DAMAGED_PACKAGING'));
    const inReBound = db.prepare('SELECT count(*) AS n FROM rebound_return_orders').get() as { n: number };
    expect(inReBound.n).toBe(returns.filter((r) => r.state !== 'WAITING_ACCEPTANCE').length);
  }, 300_000);
});

describe('intake of a backlog: returns requested days before the app first reads them', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  beforeEach(async () => {
    temp = makeTempDir();
    // 400 returns already waiting in Mirakl when the engine starts (a first sync), requested days earlier, every
    // order visible: more orders than one OR11 call reads, so many returns wait a cycle or more for theirs.
    h = await startHarness({ seed: 5, dataDir: temp.dir, scenario: backlogScenario(5, 400) });
  });
  afterEach(async () => {
    await h.close();
    temp.remove();
  });

  it('gives each return its full wait for the order from when the app first sees it: no ORDER_NOT_FOUND on first sight', async () => {
    const db = h.store.db;
    for (let i = 0; i < 12; i++) await h.step(10 * minute);
    const backlog = db.prepare('SELECT count(*) AS n FROM mirakl_returns WHERE date_created < ?').get(new Date(defaultScenario.startMs - 4 * 60 * minute).toISOString()) as { n: number };
    expect(backlog.n).toBeGreaterThan(10);
    const raised = db.prepare(`SELECT count(*) AS n FROM exceptions WHERE type = 'ORDER_NOT_FOUND'`).get() as { n: number };
    expect(raised.n).toBe(0);
    const created = db.prepare('SELECT count(*) AS n FROM rebound_return_orders').get() as { n: number };
    expect(created.n).toBeGreaterThan(10);
  }, 120_000);
});

describe('intake when ReBound cannot be searched', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  beforeEach(async () => {
    temp = makeTempDir();
    h = await startHarness({
      seed: 11,
      dataDir: temp.dir,
      scenario: { historyDays: 0, ordersPerDay: 20, ordersUntilMs: defaultScenario.startMs + day, returnRate: 0.5, returnAfterDays: [0, 1] },
      // The look-up before every creation fails; nothing else does.
      reboundFaults: { 'returnOrders.list': { serverErrorRate: 1 } },
    });
  });
  afterEach(async () => {
    await h.close();
    temp.remove();
  });

  it('defers each creation with backoff and creates nothing blind, without failing the feed', async () => {
    const failures: string[] = [];
    for (let i = 0; i < 72; i++) {
      h.clock.advance(60 * minute);
      h.sandbox.advance();
      const report = await h.engine.runCycle({ force: true });
      failures.push(...report.failed.map((f) => `${f.feed}: ${f.error}`));
      await h.sandbox.flush();
    }
    expect(failures).toEqual([]);
    const intents = h.store.db.prepare(`SELECT state, last_error, next_attempt_at FROM intents WHERE kind = 'rebound.createReturn'`).all() as {
      state: string;
      last_error: string;
      next_attempt_at: string;
    }[];
    expect(intents.length).toBeGreaterThan(0);
    for (const intent of intents) {
      expect(intent.state).toBe('failed');
      expect(intent.last_error).toMatch(/^looking for a return order ReBound may already hold failed/);
      expect(intent.next_attempt_at).not.toBeNull();
    }
    expect(h.sandbox.world.returnsList().length).toBeGreaterThan(0);
    expect((h.store.db.prepare('SELECT count(*) AS n FROM rebound_return_orders').get() as { n: number }).n).toBe(0);
  }, 120_000);
});
