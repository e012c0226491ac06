import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import type { Core } from '../app/create-core';
import { loadMappings } from '../mappings/load';
import { createDomainContext, type EngineContext } from '../sync/context';
import { planCloses } from '../sync/feeds/mirakl-push';
import { refundFor, type RefundPayload } from '../ledger/refunds';
import { planRefunds, probeUncertainRefunds } from '../sync/feeds/refunds';
import { makeTestCore } from '../../test/support/core';
import { createReconFixture, type ReconFixture } from '../../test/support/recon-fixture';
import { makeTempDir } from '../../test/support/temp-dir';

// Routes to a second refund, or to a wrong one, that no test walked (issue 20): people's actions on refunds whose
// outcome is unknown, amounts capped against what Mirakl already refunded, units verified after their line's refund
// was planned, refunds made in the back office on top of ours, and a refund Mirakl rejected for good.

const iso = (ms: number) => new Date(ms).toISOString();

describe('refund routes', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let clock: FakeClock;
  let fixture: ReconFixture;
  const db = () => core.store.db;
  const call = async (command: string, input: unknown) => core.dispatch(command, input);
  const domain = () => createDomainContext({ db: db(), clock, log: silentLogger, events: null, mappings: () => loadMappings() }) as EngineContext;
  const openOf = (type: string) => db().prepare(`SELECT id, subject_key, cause FROM exceptions WHERE type = ? AND state != 'resolved'`).all(type) as { id: number; subject_key: string; cause: string }[];
  const refundIntents = () =>
    (db().prepare(`SELECT key, state, next_attempt_at, payload FROM intents WHERE kind = 'mirakl.refund' ORDER BY id`).all() as { key: string; state: string; next_attempt_at: string | null; payload: string }[]).map(
      (r) => ({ ...r, payload: JSON.parse(r.payload) as RefundPayload }),
    );
  const intent = (key: string, state: string, payload: Partial<RefundPayload>, extra: { nextAttemptAt?: string | null; outcome?: unknown } = {}) => {
    const t = iso(clock.now());
    db()
      .prepare(`INSERT INTO intents (kind, key, subject, payload, state, attempts, next_attempt_at, outcome, created_at, updated_at)
        VALUES ('mirakl.refund', ?, 'R-1', ?, ?, 1, ?, ?, ?, ?)`)
      .run(key, JSON.stringify({ returnId: 'R-1', order_line_id: 'L-1', currency: 'GBP', taxMinor: 0, shippingMinor: 0, shippingTaxMinor: 0, reason_code: '11', knownRefundIds: [], ...payload }), state, extra.nextAttemptAt ?? null, extra.outcome === undefined ? null : JSON.stringify(extra.outcome), t, t);
  };
  const readLedger = () => db().prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES ('or11:O-1', ?, ?) ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run(iso(clock.now()), iso(clock.now()));
  /** A line with shipping and VAT in two tax codes: 3 × 20.00, shipping 5.00; VAT 10.01 (tax1 5.01 + tax2 5.00), shipping VAT 0.83. */
  const taxedLine = () =>
    db()
      .prepare(`UPDATE mirakl_order_lines SET quantity = 3, price_unit_minor = 2000, price_minor = 6000, shipping_minor = 500, tax_minor = 1001,
        shipping_tax_minor = 83, taxes = '[{"code":"tax1","amountMinor":501},{"code":"tax2","amountMinor":500}]', shipping_taxes = '[{"code":"tax1","amountMinor":83}]'
        WHERE order_line_id = 'L-1'`)
      .run();
  const ledgerRefund = (id: string, fields: { amount: number; shipping?: number; tax?: number; quantity?: number; state?: string }) => {
    const t = iso(clock.now());
    db()
      .prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, tax_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
        VALUES (?, 'L-1', ?, ?, ?, ?, ?, '11', ?, ?, ?, ?)`)
      .run(id, `OR-${id}`, fields.amount, fields.shipping ?? 0, fields.tax ?? 0, fields.quantity ?? 1, fields.state ?? 'REFUNDED', t, t, t);
  };

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core, clock } = await makeTestCore(temp.dir));
    fixture = createReconFixture(db(), clock);
    fixture.returnOf('R-1', 'RECEIVED');
    db().prepare(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES ('R-1', 'in_flight', ?)`).run(iso(clock.now()));
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  describe('a person on an uncertain refund', () => {
    beforeEach(() => {
      fixture.unit('R-1', 1);
      intent('refund:R-1:L-1', 'uncertain', { units: ['R-1:L-1:1'], amountMinor: 2500 });
      clock.advance(61 * 60_000);
      core.reconcile();
    });

    it('cannot mark it failed before Mirakl\'s refunds were read after the call', async () => {
      const id = openOf('OUTCOME_UNKNOWN')[0]?.id as number;
      const result = await call('exceptions.act', { ids: [id], action: 'mark_failed', reason: 'Back office shows nothing' });
      const answer = result.ok ? (result.data as { results: { ok: boolean; error?: { code: string } }[] }).results[0] : null;
      expect(answer).toMatchObject({ ok: false, error: { code: 'GUARD_BLOCKED' } });
      expect(refundIntents()[0]?.state).toBe('uncertain');
    });
  });

  it('retries a failed refund only after the ledger read since shows it did not go through', async () => {
    fixture.unit('R-1', 1);
    // Failed for good (marked not applied by a person on an earlier version, or refused), waiting for a person.
    intent('refund:R-1:L-1', 'failed', { units: ['R-1:L-1:1'], amountMinor: 2500 }, { nextAttemptAt: null });
    clock.advance(10 * 60_000);
    // ...but Mirakl's ledger, read since, shows it: the call went through after all.
    ledgerRefund('F-1', { amount: 2500, quantity: 1, state: 'WAITING_REFUND' });
    readLedger();
    db().prepare(`INSERT INTO exceptions (type, subject_key, severity, severity_rank, owner_team, state, return_id, order_line_id, cause, next_action, detected_at, updated_at)
      VALUES ('REFUND_STALLED', 'R-1:L-1', 'high', 3, 'cs', 'open', 'R-1', 'L-1', 'stalled', 'retry', ?, ?)`).run(iso(clock.now()), iso(clock.now()));
    const id = openOf('REFUND_STALLED')[0]?.id as number;
    await call('exceptions.act', { ids: [id], action: 'retry' });
    // Not made due: checked against the ledger first, with a read that begins after the retry.
    expect(refundIntents()[0]).toMatchObject({ state: 'uncertain', next_attempt_at: null });
    clock.advance(6 * 60_000);
    readLedger();
    probeUncertainRefunds(domain());
    expect(refundIntents()[0]?.state).toBe('confirmed');
    const again = await call('refunds.refundNow', { returnId: 'R-1', orderLineId: 'L-1' });
    expect(again.ok).toBe(false);
    expect(refundIntents()).toHaveLength(1);
  });

  describe('amounts', () => {
    beforeEach(() => taxedLine());

    it('never refunds shipping that the back office already refunded on the line', () => {
      for (const n of [1, 2, 3]) fixture.unit('R-1', n);
      ledgerRefund('F-ship', { amount: 0, shipping: 500, quantity: 0 });
      const refund = refundFor(domain(), 'R-1', 'L-1', ['R-1:L-1:1', 'R-1:L-1:2', 'R-1:L-1:3']);
      expect(refund.payload?.shippingMinor).toBe(0);
      expect(refund.payload?.shippingTaxMinor).toBe(0);
    });

    it('scales the tax with a capped amount, within what the line still has', () => {
      for (const n of [1, 2, 3]) fixture.unit('R-1', n);
      // 35.00 of the line's 60.00 (with 5.84 of its 10.01 VAT) was refunded in the back office.
      ledgerRefund('F-part', { amount: 3500, tax: 584, quantity: 0 });
      const refund = refundFor(domain(), 'R-1', 'L-1', ['R-1:L-1:1', 'R-1:L-1:2', 'R-1:L-1:3']);
      expect(refund.payload?.amountMinor).toBe(2500);
      expect(refund.payload?.taxMinor).toBe(1001 - 584);
      expect(refund.payload?.taxes?.map((t) => t.code)).toEqual(['tax1', 'tax2']);
      expect(refund.payload?.taxes?.reduce((s, t) => s + t.amountMinor, 0)).toBe(1001 - 584);
    });

    it('never refunds more tax than the line has when units come back one at a time', () => {
      for (const n of [1, 2, 3]) fixture.unit('R-1', n);
      let taxes = 0;
      for (const unit of ['R-1:L-1:1', 'R-1:L-1:2', 'R-1:L-1:3']) {
        const refund = refundFor(domain(), 'R-1', 'L-1', [unit]);
        const payload = refund.payload as RefundPayload;
        taxes += payload.taxMinor;
        intent(`refund:R-1:L-1:${unit}`, 'planned', payload);
      }
      expect(taxes).toBe(1001);
    });
  });

  it('raises REFUND_EXCEEDS_RECEIPT when the back office refunds on top of ours beyond the verified units', async () => {
    fixture.unit('R-1', 1);
    fixture.ourRefund('R-1', 'F-ours', 2500);
    clock.advance(60_000);
    ledgerRefund('F-backoffice', { amount: 2500, quantity: 1 });
    core.reconcile();
    const raised = openOf('REFUND_EXCEEDS_RECEIPT');
    expect(raised).toHaveLength(1);
    expect(raised[0]?.cause).toMatch(/50\.00/);
  });

  it('refunds a unit verified after its line was refunded, and closes the return only once that is refunded too', () => {
    fixture.unit('R-1', 1);
    const t = iso(clock.now());
    db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at) VALUES ('mirakl.compliance', 'rt26:R-1', 'R-1', '{}', 'confirmed', '{}', ?, ?)`).run(t, t);
    db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at) VALUES ('mirakl.receive', 'rt25:R-1', 'R-1', '{}', 'confirmed', '{}', ?, ?)`).run(t, t);
    planRefunds(domain());
    const [first] = refundIntents();
    expect(first?.payload.units).toEqual(['R-1:L-1:1']);
    db().prepare(`UPDATE intents SET state = 'confirmed', outcome = '{"refundId":"F-1"}' WHERE key = ?`).run(first?.key);
    ledgerRefund('F-1', { amount: 2500, quantity: 1, state: 'REFUNDED' });
    // The second unit is registered late.
    fixture.unit('R-1', 2);
    planRefunds(domain());
    expect(refundIntents().map((i) => i.payload.units)).toEqual([['R-1:L-1:1'], ['R-1:L-1:2']]);
    planCloses(domain());
    expect(db().prepare(`SELECT count(*) AS n FROM intents WHERE key = 'rt27:R-1'`).get()).toEqual({ n: 0 });
    const second = refundIntents()[1];
    db().prepare(`UPDATE intents SET state = 'confirmed', outcome = '{"refundId":"F-2"}' WHERE key = ?`).run(second?.key);
    ledgerRefund('F-2', { amount: 2500, quantity: 1, state: 'REFUNDED' });
    planCloses(domain());
    expect(db().prepare(`SELECT count(*) AS n FROM intents WHERE key = 'rt27:R-1'`).get()).toEqual({ n: 1 });
  });

  it('does not close a return whose refund Mirakl rejected for good, and says so', () => {
    fixture.unit('R-1', 1);
    const t = iso(clock.now());
    db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at) VALUES ('mirakl.compliance', 'rt26:R-1', 'R-1', '{}', 'confirmed', '{}', ?, ?)`).run(t, t);
    intent('refund:R-1:L-1', 'failed', { units: ['R-1:L-1:1'], amountMinor: 2500 }, { nextAttemptAt: null });
    planCloses(domain());
    expect(db().prepare(`SELECT count(*) AS n FROM intents WHERE key = 'rt27:R-1'`).get()).toEqual({ n: 0 });
    expect(openOf('REFUND_STALLED').map((e) => e.subject_key)).toEqual(['R-1:L-1']);
  });

  it('marks the units of an uncertain stock import applied when a person marks it done', async () => {
    const t = iso(clock.now());
    db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, attempts, last_error, created_at, updated_at)
      VALUES ('stock.import', 'stock-import:x', 'stock', ?, 'uncertain', 1, 'connection reset', ?, ?)`)
      .run(JSON.stringify({ lines: [{ sku: 'SKU', from: 4, to: 5, units: ['R-1:L-1:1'] }] }), t, t);
    const intentId = (db().prepare(`SELECT id FROM intents WHERE kind = 'stock.import'`).get() as { id: number }).id;
    db().prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, import_intent_id, created_at, updated_at) VALUES ('R-1:L-1:1', 'SKU', 'importing', ?, ?, ?)`).run(intentId, t, t);
    clock.advance(61 * 60_000);
    core.reconcile();
    const id = openOf('OUTCOME_UNKNOWN')[0]?.id as number;
    const result = await call('exceptions.act', { ids: [id], action: 'mark_confirmed', reason: 'Back office shows 5 in stock' });
    expect(result.ok && (result.data as { results: { ok: boolean }[] }).results[0]?.ok).toBe(true);
    expect(db().prepare('SELECT state FROM stock_increments').all()).toEqual([{ state: 'applied' }]);
  });

  it('recognises its lost refund when the ledger reports no quantity (quantity 0, as in Mirakl\'s own OR11 example)', () => {
    fixture.unit('R-1', 1);
    intent('refund:R-1:L-1', 'uncertain', { units: ['R-1:L-1:1'], amountMinor: 2500 });
    clock.advance(6 * 60_000);
    ledgerRefund('F-ours', { amount: 2500, quantity: 0, state: 'WAITING_REFUND' });
    readLedger();
    probeUncertainRefunds(domain());
    expect(refundIntents()[0]?.state).toBe('confirmed');
  });

  it('raises no amount mismatch, cycle after cycle, for a line the back office already refunded in full', () => {
    fixture.unit('R-1', 1);
    const t = iso(clock.now());
    db().prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at) VALUES ('mirakl.receive', 'rt25:R-1', 'R-1', '{}', 'confirmed', '{}', ?, ?)`).run(t, t);
    // The whole line (2 × 25.00) was refunded in Mirakl's back office before ReBound verified the first unit.
    ledgerRefund('F-bo', { amount: 5000, quantity: 0 });
    for (let cycle = 0; cycle < 2; cycle++) planRefunds(domain());
    expect(refundIntents()).toEqual([]);
    expect(db().prepare(`SELECT count(*) AS n FROM exceptions WHERE type = 'REFUND_AMOUNT_MISMATCH'`).get()).toEqual({ n: 0 });
  });
});
