import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { silentLogger } from '../../core/adapters/logger';
import { startWorkbench, type Workbench } from '../../core/app/workbench';
import type { Command, ExceptionAction, Input, LineAction, Output } from '../../core/contract';
import { shippedMappingsDir } from '../../core/mappings/load';
import { createRng } from '../../core/sandbox/rng';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../support/temp-dir';

// No dead ends (issue 24): on a seeded Sandbox world, with faults, every action the server offers — on exceptions and
// on return lines — is run, each from the same state (a savepoint rolled back after it), and none is refused. And
// the other way round: what it does not offer, the action itself refuses, with the same words.
//
// Faults are harsh and time limits short, so a week of the world raises most exception types (outcome unknown, stalled
// parcels and refunds, refused status updates, …). The shipped mapping is changed so that "Too small" returns are
// refunded with reason 19, which Mirakl keeps for the operator: those refunds are refused (REFUND_STALLED). Once the
// mapping is fixed, their retry is re-planned with the reason in force.

const hour = 3_600_000;
// A world whose week raises eight exception types. (Seed 11 raised seven until closes waited for a fresh read of
// ReBound's order (issue 20): its calls then fell differently and no refund's answer was lost, so no OUTCOME_UNKNOWN.)
const seed = 14;
const steps = 40;
/** At most this many exceptions of each type are walked (every type, every action, without a long run). */
const perType = 4;

async function call<K extends Command>(wb: Workbench, command: K, input: Input<K>): Promise<Output<K>> {
  const result = await wb.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  return result.data as Output<K>;
}

describe('no dead ends: every offered action runs', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let wb: Workbench;
  let clock: ReturnType<typeof createFakeClock>;

  beforeAll(async () => {
    temp = makeTempDir();
    const shipped = join(temp.dir, 'shipped-mappings');
    cpSync(shippedMappingsDir, shipped, { recursive: true });
    const reasons = join(shipped, 'reason-codes.yaml');
    writeFileSync(reasons, readFileSync(reasons, 'utf8').replace(/(mirakl: RETURN_PDNT_TOO_SMALL\n\s+rebound: Too small\n\s+refund: )"11"/, '$1"19"'));
    // Short time limits, so a week of the world raises the slower exceptions too (stalled parcels and refunds, drift).
    const policy = join(shipped, 'policy.yaml');
    writeFileSync(
      policy,
      readFileSync(policy, 'utf8')
        .replace(/parcelStalledDays: \d+/, 'parcelStalledDays: 1')
        .replace(/refundStalledHours: \d+/, 'refundStalledHours: 6')
        .replace(/statusDriftHours: \d+/, 'statusDriftHours: 2'),
    );
    clock = createFakeClock(0);
    const random = createRng(seed).fork('engine');
    wb = await startWorkbench({
      dataDir: join(temp.dir, 'data'),
      migrationsDir: sourceMigrationsDir,
      mappingsDir: shipped,
      clock,
      random: { next: () => random.float() },
      ids: { uuid: () => 'id' },
      log: silentLogger,
      secrets: createMemorySecretStore(),
      actor: 'tester',
      appVersion: '0.0.0-test',
      sandbox: {
        seed,
        faults: 'harsh',
        tickMs: 0,
        webhooks: false,
        speed: 3600,
        warmupSeconds: 0,
        // The world these figures are drawn for starts at the opening: no caught-up past.
        caughtUpDays: 0,
        scenario: { ordersPerDay: 150, historyDays: 6, returnAfterDays: [1, 6], unmappedReasonRate: 0.05 },
      },
      autoStart: false,
    });
    for (let i = 0; i < steps; i++) {
      clock.advance((5 * hour) / 3600);
      wb.sandbox?.advance();
      await wb.sync?.runCycle();
    }
  }, 240_000);
  afterAll(async () => {
    await wb.close();
    temp.remove();
  });

  /** Runs `body` and undoes everything it wrote, so each action is tried from the same state. */
  async function tried<T>(body: () => Promise<T>): Promise<T> {
    const db = wb.core.store.db;
    db.exec('SAVEPOINT walk');
    try {
      return await body();
    } finally {
      db.exec('ROLLBACK TO walk');
      db.exec('RELEASE walk');
    }
  }

  const reason = 'Walked by the no-dead-ends test';

  async function runExceptionAction(id: number, a: ExceptionAction) {
    const now = new Date(wb.core.clock.now());
    switch (a.id) {
      case 'resolve':
        return wb.dispatch('exceptions.resolve', { ids: [id], reason });
      case 'assign':
        return wb.dispatch('exceptions.assign', { ids: [id], assignee: 'walker' });
      case 'snooze':
        return wb.dispatch('exceptions.snooze', { ids: [id], until: new Date(now.getTime() + 86_400_000).toISOString() });
      case 'comment':
        return wb.dispatch('exceptions.comment', { id, body: reason });
      case 'reopen':
        return wb.dispatch('exceptions.reopen', { id, reason });
      default:
        return wb.dispatch('exceptions.act', { ids: [id], action: a.id, ...(a.needsReason ? { reason } : {}), ...(a.needsOfferSku ? { offerSku: 'WALK-OFFER' } : {}) });
    }
  }

  /** The refusal of a dispatch, or of its one per-exception result; null when it was done. */
  function refusalOf(result: Awaited<ReturnType<Workbench['dispatch']>>): string | null {
    if (!result.ok) return `${result.error.code} ${result.error.message}`;
    const results = (result.data as { results?: { ok: boolean; message: string; error?: { code: string } }[] }).results;
    const refused = results?.find((r) => !r.ok);
    return refused ? `${refused.error?.code ?? ''} ${refused.message}` : null;
  }

  it('every action offered on an exception is done when asked; every one not offered is refused, for the reason given', async () => {
    const sample: number[] = [];
    const kpis = await call(wb, 'dashboard.kpis', {});
    for (const { type } of kpis.openByType) {
      const rows = await call(wb, 'exceptions.list', { filter: { type }, page: { offset: 0, limit: perType } });
      sample.push(...rows.rows.map((r) => r.id));
    }
    const resolved = await call(wb, 'exceptions.list', { filter: { states: ['resolved'] }, page: { offset: 0, limit: perType } });
    sample.push(...resolved.rows.map((r) => r.id));
    const types = new Set((await Promise.all(sample.map((id) => call(wb, 'exceptions.get', { id })))).map((e) => e.type));

    const answer = await call(wb, 'exceptions.actions', { ids: sample });
    expect(answer.readOnly).toBeNull();
    expect(answer.exceptions.map((e) => e.id)).toEqual(sample);
    const done: string[] = [];
    const refusedAsSaid: string[] = [];
    const problems: string[] = [];
    for (const { id, actions } of answer.exceptions) {
      for (const a of actions) {
        const refusal = await tried(async () => refusalOf(await runExceptionAction(id, a)));
        const what = `exception ${id} ${a.id}`;
        if (a.isAllowed) {
          if (refusal) problems.push(`${what} was offered but refused: ${refusal}`);
          else done.push(what);
        } else if (a.kind === 'resolution') {
          // Not offered: the action itself refuses, and for the reason the offer gave.
          if (!refusal) problems.push(`${what} was not offered (${a.whyNot}) but was done`);
          else if (!refusal.includes(a.whyNot ?? '')) problems.push(`${what}: offered "${a.whyNot}", refused "${refusal}"`);
          else refusedAsSaid.push(what);
        }
      }
    }
    expect(problems).toEqual([]);
    // The walk saw a varied world: several types, actions done and actions rightly not offered.
    expect(types.size).toBeGreaterThanOrEqual(7);
    expect(done.length).toBeGreaterThan(20);
    expect(refusedAsSaid.length).toBeGreaterThan(0);
  }, 240_000);

  it('every refund action offered on a return line is done when asked', async () => {
    const db = wb.core.store.db;
    const lines = db
      .prepare(`SELECT l.return_id AS returnId, l.order_line_id AS orderLineId FROM mirakl_return_lines l
        WHERE EXISTS (SELECT 1 FROM units u WHERE u.return_id = l.return_id) ORDER BY l.return_id LIMIT 120`)
      .all() as { returnId: string; orderLineId: string }[];
    expect(lines.length).toBeGreaterThan(10);
    const offered: string[] = [];
    const problems: string[] = [];
    for (const { returnId, orderLineId } of lines) {
      const guard = await call(wb, 'refunds.explainGuard', { returnId, orderLineId });
      for (const a of guard.actions.filter((x: LineAction) => x.isAllowed)) {
        const result = await tried(() =>
          wb.dispatch('refunds.refundNow', { returnId, orderLineId, ...(a.id === 'refund_override' ? { override: { reason } } : {}) }),
        );
        if (result.ok) offered.push(`${returnId}/${orderLineId} ${a.id}`);
        else problems.push(`${returnId}/${orderLineId} ${a.id} was offered but refused: ${result.error.code} ${result.error.message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(offered.length).toBeGreaterThan(0);
  }, 240_000);

  it('a refund Mirakl refused for its reason is retried with the reason fixed in the mappings', async () => {
    const stalled = await call(wb, 'exceptions.list', { filter: { type: 'REFUND_STALLED' }, page: { offset: 0, limit: 50 } });
    const refused = stalled.rows.find((r) => r.cause.includes('cannot be used by the shop'));
    expect(refused, 'a refund Mirakl refused for reason 19').toBeDefined();
    const current = await call(wb, 'mappings.get', {});
    const fixed = current.files.reasonCodes.text.replace('refund: "19"', 'refund: "11"');
    await call(wb, 'mappings.save', { file: 'reasonCodes', text: fixed, reason: 'reason 19 is the operator’s', baseVersion: current.files.reasonCodes.version });
    const [offer] = (await call(wb, 'exceptions.actions', { ids: [refused?.id as number] })).exceptions;
    expect(offer?.actions.find((a) => a.id === 'retry')).toMatchObject({ isAllowed: true });
    const done = await call(wb, 'exceptions.act', { ids: [refused?.id as number], action: 'retry' });
    expect(done.results[0]).toMatchObject({ ok: true, message: expect.stringContaining('with refund reason 11 (it was 19)') as string });
    const intent = wb.core.store.db
      .prepare(`SELECT state, json_extract(payload, '$.reason_code') AS reason FROM intents WHERE key = ?`)
      .get(`refund:${refused?.returnId}:${refused?.orderLineId}`) as { state: string; reason: string };
    expect(intent).toEqual({ state: 'uncertain', reason: '11' });
  }, 120_000);
});
