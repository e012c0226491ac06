import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { silentLogger } from '../../core/adapters/logger';
import { startWorkbench, type Workbench } from '../../core/app/workbench';
import type { Command, Input, Output } from '../../core/contract';
import { createRng } from '../../core/sandbox/rng';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../support/temp-dir';

// The intent ledger and the matcher in the UI (issue 24): every outgoing call with its state, attempts, last error,
// probe and return, filterable to "outcome unknown"; and the matcher's suggestions, confirmed or rejected with a
// reason (audited). On a seeded Sandbox world where answers to refunds and return orders are lost at the end (their
// outcome unknown), and an operator refunds a few return lines in Mirakl's back office (suggested matches).

const hour = 3_600_000;
const seed = 7;

async function call<K extends Command>(wb: Workbench, command: K, input: Input<K>): Promise<Output<K>> {
  const result = await wb.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  return result.data as Output<K>;
}

describe('outgoing calls and suggestions', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let wb: Workbench;
  let clock: ReturnType<typeof createFakeClock>;

  beforeAll(async () => {
    temp = makeTempDir();
    clock = createFakeClock(0);
    const random = createRng(seed).fork('engine');
    wb = await startWorkbench({
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
        faults: 'default',
        tickMs: 0,
        webhooks: false,
        speed: 3600,
        warmupSeconds: 0,
        // The world these figures are drawn for starts at the opening: no caught-up past.
        caughtUpDays: 0,
        scenario: { ordersPerDay: 150, historyDays: 5, returnAfterDays: [1, 5] },
      },
      autoStart: false,
    });
    const cycle = async () => {
      clock.advance((2 * hour) / 3600);
      wb.sandbox?.advance();
      await wb.sync?.runCycle();
    };
    for (let i = 0; i < 30; i++) await cycle();
    // Goodwill refunds an operator made in Mirakl's back office, on lines of returns still open: nothing we sent explains
    // them, so the matcher suggests the return line each belongs to.
    const lines = wb.core.store.db
      .prepare(`SELECT l.order_line_id AS id FROM mirakl_return_lines l JOIN mirakl_returns r ON r.id = l.return_id
        WHERE r.state NOT IN ('CLOSED', 'REFUNDED', 'CANCELLED') AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.kind = 'mirakl.refund' AND i.subject = r.id)
        ORDER BY r.date_created DESC LIMIT 6`)
      .all() as { id: string }[];
    let made = 0;
    for (const { id } of lines) {
      const answer = await fetch(`${wb.sandbox?.mirakl.baseUrl}/_sim/order-lines/${encodeURIComponent(id)}/refund`, { method: 'POST', body: JSON.stringify({ amount: 1 }) });
      if (answer.status === 201) made++;
      if (made === 3) break;
    }
    expect(made).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 3; i++) await cycle();
    // The last cycles lose every refund's and return order's answer: their outcome is unknown until probed.
    wb.sandbox?.setFaults('mirakl', { OR28: { lostResponseRate: 1 } });
    wb.sandbox?.setFaults('rebound', { 'returnOrders.create': { lostResponseRate: 1 } });
    for (let i = 0; i < 2; i++) await cycle();
    wb.core.reconcile();
  }, 240_000);
  afterAll(async () => {
    await wb.close();
    temp.remove();
  });

  const db = () => wb.core.store.db;

  it('lists every call, newest first, a page at a time', async () => {
    const all = db().prepare('SELECT count(*) AS n FROM intents').get() as { n: number };
    const first = await call(wb, 'outgoing.list', { page: { offset: 0, limit: 50 } });
    const second = await call(wb, 'outgoing.list', { page: { offset: 50, limit: 50 } });
    expect(first.total).toBe(Math.min(all.n, 10_000));
    expect(first.rows).toHaveLength(50);
    const ids = [...first.rows, ...second.rows].map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    const kinds = new Set(first.rows.concat(second.rows).map((r) => r.kind));
    expect(kinds.size).toBeGreaterThan(1);
    for (const r of first.rows) expect(r.label).not.toBe(r.kind);
  });

  it('filters to outcome unknown: each with what its probe will read, and the return it is for', async () => {
    const uncertain = db().prepare(`SELECT count(*) AS n FROM intents WHERE state = 'uncertain'`).get() as { n: number };
    expect(uncertain.n).toBeGreaterThan(0);
    const page = await call(wb, 'outgoing.list', { filter: { states: ['uncertain'] } });
    expect(page.total).toBe(uncertain.n);
    expect(page.uncertain).toBe(uncertain.n);
    for (const r of page.rows) {
      expect(r.state).toBe('uncertain');
      expect(r.probe).toMatch(/^Not probed yet/);
    }
  });

  it('says what a probe proved, and shows a refund with its amount and return', async () => {
    const refunds = await call(wb, 'outgoing.list', { filter: { kind: 'mirakl.refund' }, page: { offset: 0, limit: 500 } });
    expect(refunds.rows.length).toBeGreaterThan(0);
    for (const r of refunds.rows) {
      expect(r.system).toBe('mirakl');
      expect(r.amountMinor).toBeGreaterThan(0);
      expect(r.currency).toMatch(/^[A-Z]{3}$/);
      expect(r.returnId).not.toBeNull();
    }
    const byReturn = await call(wb, 'outgoing.list', { filter: { returnId: refunds.rows[0]?.returnId as string } });
    expect(byReturn.rows.every((r) => r.returnId === refunds.rows[0]?.returnId)).toBe(true);
    const rebound = await call(wb, 'outgoing.list', { filter: { system: 'rebound' } });
    expect(rebound.rows.every((r) => r.kind.startsWith('rebound.'))).toBe(true);
    const failed = await call(wb, 'outgoing.list', { filter: { states: ['failed', 'planned'] } });
    expect(failed.rows.every((r) => r.state === 'failed' || r.state === 'planned')).toBe(true);
  });

  it("lists the matcher's open suggestions with what they match", async () => {
    const open = db().prepare(`SELECT count(*) AS n FROM recon_matches WHERE status IN ('suggested', 'ambiguous')`).get() as { n: number };
    expect(open.n).toBeGreaterThan(0);
    const page = await call(wb, 'matches.suggestions', {});
    expect(page.total).toBe(open.n);
    for (const r of page.rows) {
      expect(['suggested', 'ambiguous']).toContain(r.status);
      expect(r.basis.length).toBeGreaterThan(0);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('a suggestion confirmed with a reason leaves the queue and is audited; one rejected too', async () => {
    const page = await call(wb, 'matches.suggestions', {});
    const [first] = page.rows;
    if (!first) throw new Error('no suggestion');
    await call(wb, 'matches.decide', { kind: first.kind, subject: first.subject, candidate: first.candidate, decision: 'confirm', reason: 'same SKU, checked on the parcel photo' });
    const after = await call(wb, 'matches.suggestions', {});
    expect(after.rows.some((r) => r.subject === first.subject && r.candidate === first.candidate)).toBe(false);
    const audit = await call(wb, 'audit.list', { action: 'match.confirm' });
    expect(audit.rows[0]).toMatchObject({ actor: 'tester', reason: 'same SKU, checked on the parcel photo', subject: `match:${first.kind}:${first.subject}` });
    const next = after.rows[0];
    if (!next) return;
    await call(wb, 'matches.decide', { kind: next.kind, subject: next.subject, candidate: next.candidate, decision: 'reject', reason: 'different colour' });
    expect((await call(wb, 'audit.list', { action: 'match.reject' })).rows[0]).toMatchObject({ reason: 'different colour' });
  });
});
