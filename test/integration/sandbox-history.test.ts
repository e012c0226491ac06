import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { silentLogger } from '../../core/adapters/logger';
import { startWorkbench, type Workbench } from '../../core/app/workbench';
import type { Command, Input, Output } from '../../core/contract';
import { defaultScenario } from '../../core/sandbox/index';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../support/temp-dir';

// Sandbox mode as a new user first sees it (issue 24): the month before the sandbox clock's opening is finished and
// has every stage in it — returns opened, units received and graded, refunds paid and awaiting payment, restocks,
// exceptions — and all of it reached our database the normal way: the simulated systems did it in their world and the
// engine synced it (our refunds are the simulated Mirakl's, each backed by a verified receipt).

const temp = makeTempDir('rw-sandbox-history-');
let workbench: Workbench;
let readyMs = 0;

async function call<K extends Command>(command: K, input: Input<K>): Promise<Output<K>> {
  const result = await workbench.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  return result.data as Output<K>;
}

beforeAll(async () => {
  const started = Date.now();
  // The app's own sandbox settings (seed, faults, caught-up days), with real time held still: sandbox time stays at
  // the opening, and no timer moves the world.
  workbench = await startWorkbench({
    dataDir: temp.dir,
    migrationsDir: sourceMigrationsDir,
    clock: createFakeClock(Date.UTC(2026, 11, 6)),
    random: { next: () => 0.5 },
    ids: { uuid: () => 'id' },
    log: silentLogger,
    secrets: createMemorySecretStore(),
    actor: 'tester',
    appVersion: '0.0.0-test',
    sandbox: { tickMs: 0, webhooks: false },
    autoStart: false,
  });
  readyMs = Date.now() - started;
}, 120_000);

afterAll(async () => {
  await workbench?.close();
  temp.remove();
});

describe('Sandbox mode on first start', () => {
  it('opens at its usual time, with the previous month finished', async () => {
    const now = workbench.core.clock.now();
    expect(now).toBe(defaultScenario.startMs + 60_000);
    const { periods } = await call('reports.list', {});
    const september = periods.find((p) => p.period === '2026-09');
    expect(september).toMatchObject({ isComplete: true, lock: null });
    expect(september?.returnsOpened).toBeGreaterThan(20);
    process.stdout.write(`sandbox ready in ${readyMs} ms\n`);
  });

  it("that month's report has receipts, refunds paid and awaiting payment, restocks and exceptions", async () => {
    const report = await call('reports.get', { period: '2026-09' });
    expect(report.isPeriodComplete).toBe(true);
    expect(report.returns.received).toBeGreaterThan(0);
    expect(report.returns.refunded).toBeGreaterThan(0);
    expect(report.units.verified).toBeGreaterThan(0);
    expect(report.units.restocked).toBeGreaterThan(0);
    const sum = (pick: (f: (typeof report.figures)[number]) => number) => report.figures.reduce((n, f) => n + pick(f), 0);
    expect(sum((f) => f.paid.count)).toBeGreaterThan(0);
    expect(sum((f) => f.awaitingPayment.count)).toBeGreaterThan(0);
    expect(report.money.reduce((n, m) => n + m.refunds, 0)).toBeGreaterThan(0);
    expect(report.tables.openExceptions.length).toBeGreaterThan(0);
    expect(report.tables.stockByOffer.some((r) => r.restored > 0)).toBe(true);
    // Synced, not planted: no refund without a verified receipt, and the checks hold.
    expect(report.tables.refundsWithoutReceipt).toEqual([]);
    expect(report.checks.find((c) => c.id === 'refunds-backed')?.status).toBe('pass');
  });

  it('every September refund we hold is one the simulated Mirakl made, and ReBound received parcels that month', () => {
    const truth = workbench.sandbox?.truth();
    if (!truth) throw new Error('no sandbox');
    const theirs = new Map(Object.values(truth.mirakl.refundsByLine).flatMap((refunds) => refunds.map((r) => [r.id, r] as const)));
    const ours = workbench.core.store.db.prepare(`SELECT id FROM mirakl_refunds WHERE date_created LIKE '2026-09%'`).pluck().all() as string[];
    expect(ours.length).toBeGreaterThan(0);
    for (const id of ours) expect(theirs.get(id)?.createdAt.startsWith('2026-09'), `refund ${id}`).toBe(true);
    const registeredInSeptember = truth.rebound.returnOrders.filter((ro) => ro.statusHistory.some((h) => h.status === 'ITEMS_REGISTERED' && h.at.startsWith('2026-09')));
    expect(registeredInSeptember.length).toBeGreaterThan(0);
  });
});
