import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { silentLogger } from '../../core/adapters/logger';
import { startWorkbench, type Workbench, type WorkbenchOptions } from '../../core/app/workbench';
import type { Command, Input, Output } from '../../core/contract';
import { createRng } from '../../core/sandbox/rng';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../support/temp-dir';

// Write freeze (DESIGN row 27, issue 24): one switch stops every call that changes Mirakl or ReBound while reads go
// on. Proven from outside, by the sandbox's own call counters: frozen, cycles read RT11/OR11 and ReBound but no
// write operation is called; the calls the cycles wanted stay planned; the freeze survives a restart; unfrozen, they go.

const hour = 3_600_000;
const seed = 5;

/** Operations that change something in Mirakl or ReBound (the sandbox counts each by these names). */
const miraklWrites = ['RT04', 'RT21', 'RT25', 'RT26', 'RT27', 'RT29', 'OR28', 'STO01'];
const reboundWrites = ['salesOrders.create', 'returnOrders.create', 'returnOrders.cancel'];
const miraklReads = ['RT11', 'OR11'];

async function call<K extends Command>(wb: Workbench, command: K, input: Input<K>): Promise<Output<K>> {
  const result = await wb.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  return result.data as Output<K>;
}

function calls(wb: Workbench): Record<string, number> {
  const sandbox = wb.sandbox;
  if (!sandbox) throw new Error('not in Sandbox mode');
  const out: Record<string, number> = {};
  for (const [op, c] of Object.entries(sandbox.miraklServer.counters)) out[`mirakl:${op}`] = c.calls;
  for (const [op, c] of Object.entries(sandbox.reboundServer.counters)) out[`rebound:${op}`] = c.calls;
  return out;
}

const sum = (counts: Record<string, number>, ops: string[]) => ops.reduce((n, op) => n + (counts[op] ?? 0), 0);
const writesOf = (counts: Record<string, number>) => sum(counts, [...miraklWrites.map((o) => `mirakl:${o}`), ...reboundWrites.map((o) => `rebound:${o}`)]);
const writeKinds = ['mirakl.accept', 'mirakl.patch', 'mirakl.receive', 'mirakl.compliance', 'mirakl.close', 'mirakl.refund', 'rebound.salesOrder', 'rebound.createReturn', 'stock.import'];

/** Asks for a refund where one is offered (with the override if that is all that is), as a person would; its intent id. */
async function refundSomething(wb: Workbench): Promise<number> {
  const lines = wb.core.store.db
    .prepare(`SELECT l.return_id AS returnId, l.order_line_id AS orderLineId FROM mirakl_return_lines l
      WHERE EXISTS (SELECT 1 FROM units u WHERE u.return_id = l.return_id) ORDER BY l.return_id LIMIT 200`)
    .all() as { returnId: string; orderLineId: string }[];
  for (const { returnId, orderLineId } of lines) {
    const guard = await call(wb, 'refunds.explainGuard', { returnId, orderLineId });
    const offered = guard.actions.find((a) => a.isAllowed);
    if (!offered) continue;
    const done = await call(wb, 'refunds.refundNow', { returnId, orderLineId, ...(offered.id === 'refund_override' ? { override: { reason: 'customer kept waiting' } } : {}) });
    expect(done.state).toBe('planned');
    return done.intentId;
  }
  throw new Error('no return line offers a refund');
}

describe('write freeze: no call changes Mirakl or ReBound while frozen; reads go on', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let wb: Workbench;
  let clock: ReturnType<typeof createFakeClock>;
  let options: WorkbenchOptions;

  async function cycles(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock.advance((2 * hour) / 3600);
      wb.sandbox?.advance();
      await wb.sync?.runCycle();
    }
  }

  beforeAll(async () => {
    temp = makeTempDir();
    clock = createFakeClock(0);
    const random = createRng(seed).fork('engine');
    options = {
      dataDir: join(temp.dir, 'data'),
      migrationsDir: sourceMigrationsDir,
      clock,
      random: { next: () => random.float() },
      ids: { uuid: () => 'id' },
      log: silentLogger,
      secrets: createMemorySecretStore(),
      actor: 'tester',
      appVersion: '0.0.0-test',
      sandbox: {
        seed,
        faults: 'none',
        tickMs: 0,
        webhooks: false,
        // Two sandbox hours per cycle (2 s of fake real time at 3600x).
        speed: 3600,
        warmupSeconds: 0,
        // The world these figures are drawn for starts at the opening: no caught-up past.
        caughtUpDays: 0,
        scenario: { ordersPerDay: 120, historyDays: 4, returnAfterDays: [1, 4] },
      },
      autoStart: false,
    };
    wb = await startWorkbench(options);
    // A world under way: returns being accepted, created in ReBound, received, refunded, restocked.
    await cycles(12);
  }, 240_000);
  afterAll(async () => {
    await wb.close();
    temp.remove();
  });

  it('is off at first: the engine writes', async () => {
    expect((await call(wb, 'writes.status', {})).frozen).toBeNull();
    expect(writesOf(calls(wb))).toBeGreaterThan(0);
  });

  it('frozen, cycles read both systems and write to neither; what they would send stays planned', async () => {
    const status = await call(wb, 'writes.freeze', { reason: 'month-end close' });
    expect(status.frozen).toMatchObject({ by: 'tester', reason: 'month-end close' });
    expect(status.frozen?.at).toBe(new Date(wb.core.clock.now()).toISOString());
    const before = calls(wb);
    // A person's refund goes through the same path: planned, and held like the engine's own.
    const personal = await refundSomething(wb);
    await cycles(15);
    const after = calls(wb);
    expect(writesOf(after)).toBe(writesOf(before));
    expect(wb.core.store.db.prepare('SELECT state FROM intents WHERE id = ?').get(personal)).toEqual({ state: 'planned' });
    for (const op of miraklReads) expect(after[`mirakl:${op}`] ?? 0, op).toBeGreaterThan(before[`mirakl:${op}`] ?? 0);
    expect(sum(after, ['rebound:returnOrders.changes', 'rebound:returnOrders.get'])).toBeGreaterThan(sum(before, ['rebound:returnOrders.changes', 'rebound:returnOrders.get']));
    // Nothing is lost: the calls the cycles planned wait (planned, or failed and due again), and none was marked sent.
    const db = wb.core.store.db;
    const waiting = db.prepare(`SELECT count(*) AS n FROM intents WHERE (state = 'planned' OR (state = 'failed' AND next_attempt_at IS NOT NULL)) AND kind IN (SELECT value FROM json_each(?))`).get(JSON.stringify(writeKinds)) as { n: number };
    expect(waiting.n).toBeGreaterThan(0);
    expect((await call(wb, 'writes.status', {})).waiting).toBe(waiting.n);
    const sending = db.prepare(`SELECT count(*) AS n FROM intents WHERE state = 'sending'`).get() as { n: number };
    expect(sending.n).toBe(0);
  }, 120_000);

  it('the freeze is audited: who, when, why', async () => {
    const audit = await call(wb, 'audit.list', { action: 'writes.freeze' });
    expect(audit.rows[0]).toMatchObject({ actor: 'tester', action: 'writes.freeze', reason: 'month-end close' });
  });

  it('survives a restart', async () => {
    await wb.close();
    wb = await startWorkbench(options);
    const status = await call(wb, 'writes.status', {});
    expect(status.frozen).toMatchObject({ by: 'tester', reason: 'month-end close' });
    const before = calls(wb);
    await cycles(8);
    const after = calls(wb);
    expect(writesOf(after)).toBe(writesOf(before));
    expect(after['mirakl:RT11'] ?? 0).toBeGreaterThan(before['mirakl:RT11'] ?? 0);
  }, 120_000);

  it('unfrozen, the waiting calls go out', async () => {
    const waiting = (await call(wb, 'writes.status', {})).waiting;
    expect(waiting).toBeGreaterThan(0);
    const status = await call(wb, 'writes.unfreeze', { reason: 'close done' });
    expect(status.frozen).toBeNull();
    const before = calls(wb);
    await cycles(4);
    const after = calls(wb);
    expect(writesOf(after)).toBeGreaterThan(writesOf(before));
    const audit = await call(wb, 'audit.list', { action: 'writes.unfreeze' });
    expect(audit.rows[0]).toMatchObject({ actor: 'tester', reason: 'close done' });
  }, 120_000);

  it('a freeze needs a reason', async () => {
    const result = await wb.dispatch('writes.freeze', { reason: ' ' });
    expect(result.ok).toBe(false);
  });
});
