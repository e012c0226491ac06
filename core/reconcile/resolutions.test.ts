import { beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import { loadMappings } from '../mappings/load';
import { createDomainContext, type EngineContext } from '../sync/context';
import { planRefunds } from '../sync/feeds/refunds';
import { corePerTest } from '../../test/support/core';

// People's actions go through the contract, as the UI sends them: the guards answer with error codes, every
// change lands in the audit log, and nothing is ever planned twice.

describe('resolutions', () => {
  const app = corePerTest();
  const { db, ok } = app;
  const call = async (command: string, input: unknown) => app.core.dispatch(command, input);
  const audit = () => db().prepare('SELECT actor, action, subject, reason, after FROM audit_log ORDER BY seq').all() as { actor: string; action: string; subject: string; reason: string | null; after: string }[];
  const refundIntents = () => db().prepare(`SELECT key, state, payload FROM intents WHERE kind = 'mirakl.refund' ORDER BY id`).all() as { key: string; state: string; payload: string }[];
  const openOf = (type: string) => db().prepare(`SELECT id, state, assignee FROM exceptions WHERE type = ? AND state != 'resolved'`).all(type) as { id: number; state: string; assignee: string | null }[];

  describe('refund now', () => {
    beforeEach(() => {
      app.fixture.returnOf('R-1');
      app.fixture.reboundOrder('R-1', 'IN_CARRIER_NETWORK', 2);
    });

    it('is GUARD_BLOCKED without a verified receipt, naming what is missing, and plans nothing', async () => {
      const result = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('GUARD_BLOCKED');
      expect(result.error.message).toMatch(/verified receipt — 0 of 0 unit/);
      expect(refundIntents()).toEqual([]);
      // The refused attempt is in the audit log: who asked, for what, and why it was refused (issue 24).
      expect(audit()).toEqual([
        { actor: 'tester', action: 'refund.now.refused', subject: 'return:R-1', reason: null, after: expect.stringContaining('GUARD_BLOCKED') as string },
      ]);
    });

    it('offers neither a refund nor an override where no unit waits, and says why (the dead end of issue 24)', async () => {
      const guard = await ok<{ actions: { id: string; isAllowed: boolean; whyNot: string | null }[] }>('refunds.explainGuard', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(guard.actions).toEqual([
        expect.objectContaining({ id: 'refund_now', isAllowed: false, whyNot: expect.stringContaining('No refund without a verified receipt') as string }),
        expect.objectContaining({ id: 'refund_override', isAllowed: false, whyNot: 'No unit of line L-1 is waiting to be refunded.' }),
      ]);
      // Once a unit is on its way, the override is offered, and then it is done.
      app.fixture.unit('R-1', 1, 'in_transit');
      const again = await ok<{ actions: { id: string; isAllowed: boolean }[] }>('refunds.explainGuard', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(again.actions.map((a) => [a.id, a.isAllowed])).toEqual([['refund_now', false], ['refund_override', true]]);
      expect((await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1', override: { reason: 'carrier confirmed' } })).ok).toBe(true);
    });

    it('asks for a reason before an override is accepted', async () => {
      const result = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1', override: { reason: '' } });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ code: 'VALIDATION' });
      expect(refundIntents()).toEqual([]);
    });

    it('with an override and a reason plans the refund once, through the same intent key, and audits it', async () => {
      app.fixture.unit('R-1', 1, 'in_transit');
      app.fixture.unit('R-1', 2, 'in_transit');
      const done = await ok<{ amountMinor: number; overridden: boolean; currency: string }>('refunds.refundNow', {
        returnId: 'R-1',
        orderLineId: 'L-1',
        override: { reason: 'Customer is a VIP; carrier confirmed the drop-off' },
      });
      expect(done).toMatchObject({ amountMinor: 5000, overridden: true, currency: 'GBP' });
      const [intent] = refundIntents();
      expect(intent?.key).toBe('refund:R-1:L-1');
      expect(JSON.parse(intent?.payload ?? '{}')).toMatchObject({ amountMinor: 5000, override: { by: 'tester', reason: 'Customer is a VIP; carrier confirmed the drop-off' } });
      const [entry] = audit();
      expect(entry).toMatchObject({ actor: 'tester', action: 'refund.override', subject: 'return:R-1', reason: 'Customer is a VIP; carrier confirmed the drop-off' });
      expect(createAuditLog(db(), app.clock).verify().ok).toBe(true);

      // A second press can never plan a second refund.
      const again = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1', override: { reason: 'pressed twice' } });
      expect(again.ok ? null : again.error.code).toBe('CONFLICT');
      expect(refundIntents()).toHaveLength(1);
    });

    it('needs no override once the receipt is verified and Mirakl knows it', async () => {
      app.fixture.unit('R-1', 1);
      db().prepare(`UPDATE mirakl_returns SET state = 'RECEIVED'`).run();
      const done = await ok<{ amountMinor: number; overridden: boolean }>('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(done).toMatchObject({ amountMinor: 2500, overridden: false });
      expect(audit()[0]).toMatchObject({ action: 'refund.now', reason: null });
    });
  });

  describe('exception actions', () => {
    beforeEach(() => {
      app.fixture.returnOf('R-1');
      app.fixture.refund('F-9', 2500);
      app.clock.advance(60_000);
    });
    // The sync engine reconciles every few minutes (and after each person's change); here it is asked directly.
    const raise = async () => app.core.reconcile();

    it('acknowledges with a reason, keeps it resolved while the divergence holds, and reopens with a reason', async () => {
      await raise();
      const [open] = openOf('REFUND_WITHOUT_RECEIPT');
      expect(open).toBeDefined();
      const id = open?.id as number;
      const noReason = await ok<{ results: { ok: boolean; error?: { code: string } }[] }>('exceptions.act', { ids: [id], action: 'acknowledge' });
      expect(noReason.results[0]).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
      const acked = await ok<{ results: { ok: boolean }[] }>('exceptions.act', { ids: [id], action: 'acknowledge', reason: 'Goodwill refund agreed by CS lead' });
      expect(acked.results[0]?.ok).toBe(true);
      app.clock.advance(3_600_000);
      db().prepare(`UPDATE mirakl_refunds SET refund_state = 'REFUNDED'`).run();
      await ok('exceptions.comment', { id, body: 'checked again' });
      expect(openOf('REFUND_WITHOUT_RECEIPT')).toEqual([]);
      const reopened = await ok<{ state: string }>('exceptions.reopen', { id, reason: 'Goodwill was not approved after all' });
      expect(reopened.state).toBe('open');
      expect(audit().map((a) => a.action)).toEqual(['exception.acknowledge', 'exception.comment', 'exception.reopen']);
      expect(createAuditLog(db(), app.clock).verify()).toMatchObject({ ok: true, entries: 3 });
    });

    it('refuses an action the type does not offer', async () => {
      await raise();
      const id = openOf('REFUND_WITHOUT_RECEIPT')[0]?.id as number;
      const r = await ok<{ results: { ok: boolean; error?: { code: string } }[] }>('exceptions.act', { ids: [id], action: 'mark_lost', reason: 'whatever' });
      expect(r.results[0]).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    });

    it('assigns, snoozes and bulk-resolves, answering per exception', async () => {
      app.fixture.refund('F-10', 1000);
      await raise();
      const ids = openOf('REFUND_WITHOUT_RECEIPT').map((e) => e.id);
      expect(ids).toHaveLength(2);
      expect(await ok('exceptions.assign', { ids, assignee: 'ann' })).toEqual({ updated: 2 });
      const until = new Date(app.clock.now() + 86_400_000).toISOString();
      expect(await ok('exceptions.snooze', { ids: [ids[0]], until })).toEqual({ updated: 1 });
      const past = await call('exceptions.snooze', { ids: [ids[0]], until: '2020-01-01T00:00:00Z' });
      expect(past.ok ? null : past.error.code).toBe('VALIDATION');
      const bulk = await ok<{ results: { id: number; ok: boolean }[] }>('exceptions.resolve', { ids: [...ids, 424242], reason: 'Refunds explained by finance' });
      expect(bulk.results.map((r) => r.ok)).toEqual([true, true, false]);
      expect(openOf('REFUND_WITHOUT_RECEIPT')).toEqual([]);
      expect(audit().map((a) => a.action)).toEqual(['exception.assign', 'exception.assign', 'exception.snooze', 'exception.resolve', 'exception.resolve']);
    });
  });

  describe('an uncertain refund', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    beforeEach(() => {
      app.fixture.returnOf('R-1', 'RECEIVED');
      app.fixture.unit('R-1', 1);
      const t = iso(app.clock.now());
      db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, attempts, last_error, created_at, updated_at)
        VALUES ('mirakl.refund', 'refund:R-1:L-1', 'R-1', ?, 'uncertain', 1, 'connection reset', ?, ?)`)
        .run(JSON.stringify({ returnId: 'R-1', order_line_id: 'L-1', units: ['R-1:L-1:1'], amountMinor: 2500, currency: 'GBP' }), t, t);
      app.clock.advance(61 * 60_000);
      app.core.reconcile();
    });
    const markFailed = async () => {
      const id = openOf('OUTCOME_UNKNOWN')[0]?.id as number;
      return ok<{ results: { ok: boolean; message: string }[] }>('exceptions.act', { ids: [id], action: 'mark_failed', reason: 'Back office shows nothing' });
    };
    const intentState = () => (db().prepare(`SELECT state, next_attempt_at FROM intents WHERE key = 'refund:R-1:L-1'`).get() as { state: string; next_attempt_at: string | null });

    it('cannot be marked failed when the ledger read since the call shows it went through', async () => {
      app.fixture.refund('F-7', 2500);
      db().prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES ('or11:O-1', ?, ?)`).run(iso(app.clock.now()), iso(app.clock.now()));
      const done = await markFailed();
      expect(done.results[0]?.message).toMatch(/went through: recorded as made/);
      expect(intentState().state).toBe('confirmed');
      expect(openOf('OUTCOME_UNKNOWN')).toEqual([]);
      // And it can never be sent again.
      const again = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(again.ok ? null : again.error.code).toBe('CONFLICT');
    });

    it('cannot be marked failed while the ledger has not been read since the call (issue 20)', async () => {
      const done = await markFailed();
      expect(done.results[0]?.ok).toBe(false);
      expect(done.results[0]?.message).toMatch(/not been read since/);
      expect(intentState()).toEqual({ state: 'uncertain', next_attempt_at: null });
    });
  });

  describe('a refund Mirakl refused (issue 24)', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const payload = () => JSON.parse(refundIntents()[0]?.payload ?? '{}') as { reason_code: string; amountMinor: number; units: string[] };
    const intentRow = () => db().prepare(`SELECT state, mapping_version FROM intents WHERE key = 'refund:R-1:L-1'`).get() as { state: string; mapping_version: string };
    beforeEach(() => {
      app.fixture.returnOf('R-1', 'RECEIVED');
      app.fixture.unit('R-1', 1);
      const t = iso(app.clock.now());
      // Planned while the mapping sent refund reason "twelve", which Mirakl does not have: refused for good.
      db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, attempts, last_error, mapping_version, created_at, updated_at)
        VALUES ('mirakl.refund', 'refund:R-1:L-1', 'R-1', ?, 'failed', 1, 'Reason code twelve is not a refund reason', 'reasonCodes@v1:old', ?, ?)`)
        .run(JSON.stringify({ returnId: 'R-1', order_line_id: 'L-1', units: ['R-1:L-1:1'], amountMinor: 2500, shippingMinor: 0, taxMinor: 0, shippingTaxMinor: 0, currency: 'GBP', reason_code: 'twelve', knownRefundIds: [] }), t, t);
      db().prepare(`INSERT INTO exceptions (type, subject_key, severity, severity_rank, owner_team, state, return_id, order_line_id, cause, next_action,
          detected_at, updated_at) VALUES ('REFUND_STALLED', 'R-1:L-1', 'high', 3, 'cs', 'open', 'R-1', 'L-1', 'Mirakl refused the refund', 'act', ?, ?)`).run(t, t);
    });
    const stalled = () => openOf('REFUND_STALLED')[0]?.id as number;

    it('is retried with the refund reason the mappings give now, and Mirakl\'s ledger is still read before it goes out', async () => {
      // The shipped mapping sends RETURN_PDNT_TOO_SMALL with refund reason "11".
      const done = await ok<{ results: { ok: boolean; message: string }[] }>('exceptions.act', { ids: [stalled()], action: 'retry' });
      expect(done.results[0]).toMatchObject({ ok: true });
      expect(payload()).toMatchObject({ reason_code: '11', amountMinor: 2500, units: ['R-1:L-1:1'] });
      expect(intentRow().state).toBe('uncertain');
      expect(intentRow().mapping_version).toMatch(/^reasonCodes@v1:[0-9a-f]{12}$/);
      const entry = audit().find((a) => a.action === 'exception.retry');
      expect(entry?.after).toContain('twelve');
      expect(refundIntents()).toHaveLength(1);
    });

    it('"refund now" on its line re-plans it the same way (never a second refund)', async () => {
      const done = await ok<{ overridden: boolean }>('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(done.overridden).toBe(false);
      expect(payload().reason_code).toBe('11');
      expect(intentRow().state).toBe('uncertain');
      expect(refundIntents()).toHaveLength(1);
    });

    it('is never re-planned once its outcome is unknown: it is probed first', async () => {
      db().prepare(`UPDATE intents SET state = 'uncertain' WHERE key = 'refund:R-1:L-1'`).run();
      const retry = await ok<{ results: { ok: boolean; error?: { code: string } }[] }>('exceptions.act', { ids: [stalled()], action: 'retry' });
      expect(retry.results[0]).toMatchObject({ ok: false, error: { code: 'GUARD_BLOCKED' } });
      const now = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(now.ok ? null : now.error.code).toBe('GUARD_BLOCKED');
      expect(payload().reason_code).toBe('twelve');
      expect(intentRow().state).toBe('uncertain');
      // Both refused attempts are in the audit log.
      expect(audit().map((a) => a.action)).toEqual(['exception.retry.refused', 'refund.now.refused']);
    });
  });

  describe('refund the difference', () => {
    it('never covers again units of a refund that failed and will be retried', async () => {
      app.fixture.returnOf('R-1', 'RECEIVED');
      app.fixture.unit('R-1', 1);
      app.fixture.unit('R-1', 2);
      const t = new Date(app.clock.now()).toISOString();
      const retryAt = new Date(app.clock.now() + 60_000).toISOString();
      db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, attempts, next_attempt_at, last_error, created_at, updated_at)
        VALUES ('mirakl.refund', 'refund:R-1:L-1', 'R-1', ?, 'failed', 1, ?, '503 from Mirakl', ?, ?)`)
        .run(JSON.stringify({ returnId: 'R-1', order_line_id: 'L-1', units: ['R-1:L-1:1'], amountMinor: 2500, currency: 'GBP' }), retryAt, t, t);
      db().prepare(`INSERT INTO exceptions (type, subject_key, severity, severity_rank, owner_team, state, return_id, order_line_id, cause, next_action,
          detected_at, updated_at) VALUES ('REFUND_AMOUNT_MISMATCH', 'R-1:L-1', 'high', 3, 'finance', 'open', 'R-1', 'L-1', 'short', 'act', ?, ?)`).run(t, t);
      const id = openOf('REFUND_AMOUNT_MISMATCH')[0]?.id as number;
      const done = await ok<{ results: { ok: boolean; message: string }[] }>('exceptions.act', { ids: [id], action: 'refund_difference' });
      expect(done.results[0]).toMatchObject({ ok: true });
      const payloads = refundIntents().map((i) => JSON.parse(i.payload) as { units: string[] });
      expect(payloads.map((p) => p.units)).toEqual([['R-1:L-1:1'], ['R-1:L-1:2']]);
      // Pressed again, nothing more is planned.
      const again = await ok<{ results: { ok: boolean }[] }>('exceptions.act', { ids: [id], action: 'refund_difference' });
      expect(again.results[0]?.ok).toBe(false);
      expect(refundIntents()).toHaveLength(2);
    });

    it('leaves nothing for the engine or "refund now" to plan again once the difference is planned', async () => {
      app.fixture.returnOf('R-1', 'RECEIVED');
      app.fixture.unit('R-1', 1);
      app.fixture.unit('R-1', 2);
      const t = new Date(app.clock.now()).toISOString();
      db().prepare(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES ('R-1', 'in_flight', ?)`).run(t);
      // 10.00 refunded in Mirakl's back office, confirmed by a person as this line's refund.
      app.fixture.refund('F-9', 1000, 'REFUNDED');
      app.core.reconcile();
      expect((await call('matches.decide', { kind: 'refund_line', subject: 'F-9', candidate: 'R-1:L-1', decision: 'confirm', reason: 'CS refunded by hand' })).ok).toBe(true);
      const id = openOf('REFUND_AMOUNT_MISMATCH')[0]?.id as number;
      const done = await ok<{ results: { ok: boolean }[] }>('exceptions.act', { ids: [id], action: 'refund_difference' });
      expect(done.results[0]?.ok).toBe(true);
      expect(refundIntents().map((i) => (JSON.parse(i.payload) as { amountMinor: number }).amountMinor)).toEqual([4000]);

      const domain = createDomainContext({ db: db(), clock: app.clock, log: silentLogger, events: null, mappings: () => loadMappings() });
      planRefunds(domain as EngineContext);
      const now = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1', override: { reason: 'customer chasing' } });
      expect(now.ok).toBe(false);
      expect(refundIntents()).toHaveLength(1);
    });
  });
});
