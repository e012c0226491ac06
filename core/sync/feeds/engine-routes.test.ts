import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stubEngineContext } from '../../../test/support/engine-context';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import type { MiraklClient } from '../../mirakl/client';
import type { MiraklReturnDto } from '../../mirakl/schemas';
import { openStore, type Store } from '../../store/db';
import { sourceMigrationsDir } from '../../store/paths';
import { makeTempDir } from '../../../test/support/temp-dir';
import type { EngineContext } from '../context';
import type { ReboundApi } from '../rebound-api';
import { runIntake } from './intake';
import { pollReturns, refreshOrders } from './mirakl-reads';
import { refundFor } from '../../ledger/refunds';
import { sendRefunds } from './refunds';
import { flushStock, planStockIncrements } from './stock';

// Engine routes no test walked (issue 20), each against a real SQLite file with the API clients stubbed: the exact
// answers and the exact moment something happens are what matter here.

const iso = (ms: number) => new Date(ms).toISOString();

describe('engine routes', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let mirakl: Partial<MiraklClient>;
  let rebound: Partial<ReboundApi>;
  let ctx: EngineContext;
  const sql = (text: string, ...params: unknown[]) => store.db.prepare(text).run(...params);
  const all = <T>(text: string, ...params: unknown[]) => store.db.prepare(text).all(...params) as T[];

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 2, 9));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    mirakl = {};
    rebound = {};
    ctx = stubEngineContext(store.db, clock, { mirakl, rebound });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  const order = (orderId: string) => {
    const t = iso(clock.now());
    sql(`INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
      VALUES (?, ?, 'SHIPPED', 'GBP', 'CU', 'Ann', '{}', ?, ?, ?) ON CONFLICT DO NOTHING`, orderId, `C-${orderId}`, t, t, t);
    sql(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor, price_minor,
      shipping_minor, tax_minor, shipping_tax_minor, state, can_refund) VALUES (?, ?, 1, 'SKU-1', 'P', 'Shirt', 1, 2500, 2500, 0, 0, 0, 'SHIPPED', 1)
      ON CONFLICT DO NOTHING`, `${orderId}-1`, orderId);
  };
  const returnOf = (id: string, orderId: string, stage: string, state = 'IN_PROGRESS') => {
    const t = iso(clock.now());
    sql(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
      VALUES (?, ?, ?, ?, 'BY_MAIL', ?, ?, ?, ?)`, id, orderId, `C-${orderId}`, state, t, t, t, t);
    sql(`INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES (?, ?, 1, 'RETURN_PDNT_TOO_SMALL')`, id, `${orderId}-1`);
    sql(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES (?, ?, ?)`, id, stage, t);
  };
  const stageOf = (id: string) => (store.db.prepare('SELECT stage FROM return_intake WHERE return_id = ?').get(id) as { stage: string } | undefined)?.stage;
  const openExceptions = (type: string) => all<{ subject_key: string; cause: string }>(`SELECT subject_key, cause FROM exceptions WHERE type = ? AND state != 'resolved'`, type);
  // The refund routes below: order O-1's one line O-1-1, `quantity` units at 25.00, returned on R-1 (and R-2).
  const lineOf = (quantity: number, ...returnIds: string[]) => {
    order('O-1');
    sql(`UPDATE mirakl_order_lines SET quantity = ?, price_minor = ? WHERE order_line_id = 'O-1-1'`, quantity, 2500 * quantity);
    for (const id of returnIds.length ? returnIds : ['R-1']) returnOf(id, 'O-1', 'in_flight', 'RECEIVED');
  };
  /** Units of O-1-1 on a return, registered by ReBound (or at another stage), by their number. */
  const unitsOf = (returnId: string, numbers: number[], stage: 'registered' | 'lost' = 'registered') => {
    const t = iso(clock.now());
    for (const n of numbers) {
      sql(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, registered_at, updated_at) VALUES (?, ?, 'O-1-1', 'SKU-1', ?, ?, ?, ?)`,
        `${returnId}:O-1-1:${n}`, returnId, stage, stage === 'lost' ? 5 : 4, stage === 'lost' ? null : t, t);
    }
  };
  /** A refund intent of units of O-1-1 at 25.00 each, in a state (and with an outcome, or more payload). */
  const refundIntent = (key: string, units: string[], fields: { state?: string; attempts?: number; outcome?: string; override?: { by: string; reason: string } } = {}) => {
    const t = iso(clock.now());
    const payload = { returnId: units[0]?.split(':')[0] ?? 'R-1', order_line_id: 'O-1-1', units, amountMinor: 2500 * units.length, shippingMinor: 0, taxMinor: 0, shippingTaxMinor: 0, currency: 'GBP', reason_code: '11', knownRefundIds: [], ...(fields.override ? { override: fields.override } : {}) };
    sql(`INSERT INTO intents (kind, key, subject, payload, state, attempts, outcome, created_at, updated_at) VALUES ('mirakl.refund', ?, ?, ?, ?, ?, ?, ?, ?)`,
      key, payload.returnId, JSON.stringify(payload), fields.state ?? 'planned', fields.attempts ?? 0, fields.outcome ?? null, t, t);
  };
  /** A refund of O-1-1 in Mirakl's ledger, as OR11 showed it now. */
  const ledgerRefund = (id: string, amountMinor: number, quantity: number) => {
    const t = iso(clock.now());
    sql(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
      VALUES (?, 'O-1-1', ?, ?, 0, ?, '11', 'REFUNDED', ?, ?, ?)`, id, `OR-${id}`, amountMinor, quantity, t, t, t);
  };
  /** OR28 answering each refund made (F-10, F-11, …), and what was sent. */
  const refundsSent = () => {
    const sent: { order_line_id: string; amount: number }[] = [];
    mirakl.refund = async (refunds) => {
      sent.push(...refunds);
      return { refunds: refunds.map((r, i) => ({ order_line_id: r.order_line_id, refund_id: `F-${10 + sent.length - refunds.length + i}` })) } as never;
    };
    return sent;
  };

  it('does not let 1,000 stuck returns stop the 1,001st', async () => {
    // 1,000 returns whose label push Mirakl refused for good: they wait on a person, forever if nobody acts.
    const t = iso(clock.now());
    store.db.transaction(() => {
      for (let i = 0; i < 1000; i++) {
        const id = `R-${String(i).padStart(4, '0')}`;
        order(`O-${id}`);
        returnOf(id, `O-${id}`, 'push_label');
        sql(`INSERT INTO intents (kind, key, subject, payload, state, attempts, last_error, created_at, updated_at)
          VALUES ('mirakl.patch', ?, ?, ?, 'failed', 1, 'The return does not exist.', ?, ?)`, `rt04:${id}`, id, JSON.stringify({ id, rma: 'X' }), t, t);
      }
    })();
    order('O-NEW');
    returnOf('R-9999', 'O-NEW', 'awaiting_order');
    rebound.createSalesOrder = async () => ({ created: true as const, salesOrder: {} as never });
    for (let cycle = 0; cycle < 3; cycle++) {
      clock.advance(60_000);
      await runIntake(ctx);
    }
    expect(stageOf('R-9999')).not.toBe('awaiting_order');
  });

  it('raises STATUS_PUSH_REJECTED when Mirakl refuses a label push, and the return goes on', async () => {
    order('O-1');
    returnOf('R-1', 'O-1', 'push_label');
    const t = iso(clock.now());
    sql(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, tracking_number, carrier, created_at, updated_at, synced_at, is_open)
      VALUES ('RO-1', 'O-1', 'R-1', 'LABEL_ISSUED', 1, 'ZZ1', 'ROYAL_MAIL', ?, ?, ?, 1)`, t, t, t);
    mirakl.patch = async () => ({ return_success: [], return_errors: [{ id: 'R-1', message: 'Tracking number already used by another return' }] });
    await runIntake(ctx);
    expect(openExceptions('STATUS_PUSH_REJECTED').map((e) => e.subject_key)).toEqual(['rt04:R-1']);
    expect(openExceptions('STATUS_PUSH_REJECTED')[0]?.cause).toMatch(/Tracking number already used/);
    // Receiving, grading and refunding do not depend on Mirakl having the tracking number.
    expect(stageOf('R-1')).toBe('in_flight');
  });

  it('never loses a return whose intake row could not be written', async () => {
    const ret: MiraklReturnDto = {
      id: 'R-7',
      state: 'WAITING_ACCEPTANCE',
      order_id: 'O-7',
      order_commercial_id: 'C-7',
      method_code: 'BY_MAIL',
      reason_code: undefined,
      date_created: '2026-11-02T08:00:00Z',
      last_updated: '2026-11-02T08:00:00Z',
      rma: undefined,
      label_url: undefined,
      customer_id: undefined,
      tracking: undefined,
      return_lines: [{ order_line_id: 'O-7-1', quantity: 1, reason_code: 'RETURN_PDNT_TOO_SMALL' }],
    };
    mirakl.listReturns = async () => ({ data: [ret], quarantined: [], next_page_token: undefined });
    // The disk fails on the second of the two writes.
    store.db.exec(`CREATE TEMP TRIGGER fail_intake BEFORE INSERT ON return_intake BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    await expect(pollReturns(ctx)).rejects.toThrow(/disk I\/O error/);
    store.db.exec('DROP TRIGGER temp.fail_intake');
    clock.advance(10 * 60_000);
    await pollReturns(ctx);
    expect(stageOf('R-7')).toBe('awaiting_order');
  });

  it('counts as read only the orders OR11 returned', async () => {
    order('O-1');
    returnOf('R-1', 'O-1', 'in_flight');
    // R-2's order is not in Mirakl (yet): asked for, not returned.
    returnOf('R-2', 'O-2', 'awaiting_order');
    const asked: string[][] = [];
    mirakl.ordersById = async (ids: string[]) => {
      asked.push(ids);
      return { orders: [], quarantined: [] };
    };
    await refreshOrders(ctx);
    expect(asked.flat()).toContain('O-2');
    expect(all(`SELECT feed FROM sync_cursors WHERE feed LIKE 'or11:%'`)).toEqual([]);
  });

  it('never sends STO01 for units a person skipped while the flush was reading stock', async () => {
    const t = iso(clock.now());
    for (const [unit, sku] of [['U-1', 'SKU-A'], ['U-2', 'SKU-B']]) {
      sql(`INSERT INTO stock_increments (unit_id, offer_sku, state, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?)`, unit, sku, t, t);
    }
    const sent: { sku: string; quantity: number }[][] = [];
    const offer = (sku: string) => ({ shop_sku: sku, offer_id: sku, quantity: 5, active: true, deleted: false });
    mirakl.requestOfferExport = async () => ({ trackingId: 'T-1', serverTime: clock.now() });
    mirakl.offerExportStatus = async () => ({ status: 'COMPLETED', lastUpdated: iso(clock.now() - 10_000), urls: ['https://mirakl.test/f/0'], error: null, serverTime: clock.now() });
    mirakl.offerExportFile = async () => ({ offers: [offer('SKU-A'), offer('SKU-B')], quarantined: [] });
    mirakl.ordersCreatedSince = async () => {
      // While the flush waits for Mirakl, a person skips the restock of SKU-A (the mapping editor, or "skip restock").
      sql(`UPDATE stock_increments SET state = 'skipped', note = 'skipped by ann' WHERE offer_sku = 'SKU-A'`);
      return { sales: [], unreadable: [], serverTime: clock.now() };
    };
    mirakl.importStock = async (lines) => {
      sent.push(lines);
      return 'IMP-1';
    };
    // The first pass asks for the offers; the next reads them, then the sales, then sends.
    await flushStock(ctx);
    clock.advance(60_000);
    await flushStock(ctx);
    expect(sent.flat().map((l) => l.sku)).toEqual(['SKU-B']);
    expect(all(`SELECT unit_id, state FROM stock_increments ORDER BY unit_id`)).toEqual([
      { unit_id: 'U-1', state: 'skipped' },
      { unit_id: 'U-2', state: 'importing' },
    ]);
  });

  it('checks the refund guard again when the refund is sent, not only when it was planned', async () => {
    lineOf(2);
    unitsOf('R-1', [1]);
    refundIntent('refund:R-1:O-1-1', ['R-1:O-1-1:1']);
    // Before it goes out, the whole line is refunded in Mirakl's back office.
    ledgerRefund('F-9', 5000, 2);
    const sent = refundsSent();
    await sendRefunds(ctx);
    expect(sent).toEqual([]);
    expect(all(`SELECT state FROM intents WHERE kind = 'mirakl.refund'`)).toEqual([{ state: 'failed' }]);
    expect(openExceptions('REFUND_STALLED')[0]?.cause).toMatch(/already refunded/);
  });

  it("holds a late unit's refund only while an earlier refund's outcome is unknown, and sends it once that one is found in the ledger", async () => {
    lineOf(3);
    unitsOf('R-1', [1, 2, 3]);
    // The first two units' refund went out and its answer was lost: Mirakl made it, we do not know yet.
    refundIntent('refund:R-1:O-1-1', ['R-1:O-1-1:1', 'R-1:O-1-1:2'], { state: 'uncertain', attempts: 1 });
    ledgerRefund('F-1', 5000, 2);
    // The third unit came late: its own refund is planned.
    refundIntent('refund:R-1:O-1-1:R-1:O-1-1:3', ['R-1:O-1-1:3']);
    const sent = refundsSent();
    await sendRefunds(ctx);
    // 50.00 refunded and 50.00 on its way (the same money, until the probe says so): not sent, but not given up on.
    expect(sent).toEqual([]);
    const late = () => store.db.prepare(`SELECT state, next_attempt_at FROM intents WHERE key = 'refund:R-1:O-1-1:R-1:O-1-1:3'`).get() as { state: string; next_attempt_at: string | null };
    expect(late().state).toBe('failed');
    expect(late().next_attempt_at).not.toBeNull();
    expect(openExceptions('REFUND_STALLED')).toEqual([]);
    // The probe finds the first refund in the ledger; once the late one is due again, it goes out.
    sql(`UPDATE intents SET state = 'confirmed', outcome = '{"refundId":"F-1"}' WHERE key = 'refund:R-1:O-1-1'`);
    clock.advance(Date.parse(late().next_attempt_at ?? '') - clock.now());
    await sendRefunds(ctx);
    expect(sent.map((r) => [r.order_line_id, r.amount])).toEqual([['O-1-1', 25]]);
    expect(late().state).toBe('confirmed');
  });
  it('records as made, never sends, a planned refund another installation made for the same units before it could go out', async () => {
    // Found by the chaos harness (secondEngineOwnDb, seed 40): planned before this engine had read the other's refund,
    // held by the FOREIGN_WRITE that refund raised, and sent once a person acknowledged it — the unit paid twice.
    lineOf(2);
    unitsOf('R-1', [1]);
    refundIntent('refund:R-1:O-1-1', ['R-1:O-1-1:1']);
    // Then the ledger read shows the other installation's refund of that unit, after the return opened.
    clock.advance(60 * 60_000);
    ledgerRefund('F-9', 2500, 1);
    const sent = refundsSent();
    await sendRefunds(ctx);
    expect(sent).toEqual([]);
    const intent = store.db.prepare(`SELECT state, outcome FROM intents WHERE key = 'refund:R-1:O-1-1'`).get() as { state: string; outcome: string };
    expect(intent.state).toBe('confirmed');
    expect(JSON.parse(intent.outcome)).toMatchObject({ refundId: 'F-9', via: 'ledger' });
  });
  it("never sends a refund that would take the line's refunds, anyone's, beyond the units ReBound verified", async () => {
    // Found by the chaos harness (seed 195): a second installation refunded both verified units of a three-unit line in
    // one refund while this engine's refund of the first unit waited (a restore, then a pause). The line still had a
    // unit's worth left, so the engine sent it: three units paid for two received.
    lineOf(3);
    unitsOf('R-1', [1, 2]);
    refundIntent('refund:R-1:O-1-1', ['R-1:O-1-1:1']);
    clock.advance(60 * 60_000);
    ledgerRefund('F-9', 5000, 2);
    const sent = refundsSent();
    await sendRefunds(ctx);
    expect(sent).toEqual([]);
    expect(all(`SELECT state, next_attempt_at FROM intents WHERE kind = 'mirakl.refund'`)).toEqual([{ state: 'failed', next_attempt_at: null }]);
    expect(openExceptions('REFUND_STALLED')[0]?.cause).toMatch(/2 verified unit/);
  });
  it("plans a line's refund only up to its verified units' worth, less what anyone refunded on the line", async () => {
    // Three units at 25.00, two verified; someone refunded 40.00 of the line in the back office (not these units' refund:
    // no match). Two units' worth is 50.00: 10.00 is left to refund, not the line's 35.00.
    lineOf(3);
    unitsOf('R-1', [1, 2]);
    ledgerRefund('F-9', 4000, 1);
    const refund = refundFor(ctx, 'R-1', 'O-1-1', ['R-1:O-1-1:1', 'R-1:O-1-1:2']);
    expect(refund.payload?.amountMinor).toBe(1000);
    expect(refund.capped).toMatch(/2 verified unit/);
  });
  it("counts the units a person refunded by override as received, so a unit verified later on another return is still refunded", async () => {
    // Found in review: a person refunded R-1's unit by override while it was in transit (it was then lost); R-2's unit
    // of the same line was verified since. Against verified units alone, the override's refund took all the room there was.
    lineOf(2, 'R-1', 'R-2');
    unitsOf('R-1', [1], 'lost');
    unitsOf('R-2', [1]);
    refundIntent('refund:R-1:O-1-1', ['R-1:O-1-1:1'], { state: 'confirmed', outcome: '{"refundId":"F-1"}', override: { by: 'ann', reason: 'parcel lost in transit: refunded' } });
    ledgerRefund('F-1', 2500, 1);
    expect(refundFor(ctx, 'R-2', 'O-1-1', ['R-2:O-1-1:1']).payload?.amountMinor).toBe(2500);
  });
  describe('a return order found in ReBound after the database was put back', () => {
    // Chaos seed 104: the database put back held a return not yet in ReBound. After the backup an earlier copy created
    // its return order, ReBound graded the unit, and that copy put it on sale. Put back, this database found the return
    // order already there (adopted, never created twice) after its stock settlement had run, and imported the unit again
    // from a quantity that already held it.
    const roOf = (createdAt: number, graded: boolean) => ({
      reboundOrderId: 'RO-1',
      clientOrderId: 'O-1',
      status: graded ? 'PROCESSED' : 'IN_CARRIER_NETWORK',
      createdAt: iso(createdAt),
      updatedAt: iso(clock.now()),
      parcels: [],
      items: [{ reboundItemId: 'I-1', clientItemId: 'O-1-1', sku: 'SKU-1', quantity: '1', reasonCode: 'TOO_SMALL', received: graded ? '1' : '0', grade: graded ? 'A_SELLABLE' : null, disposition: null }],
    });
    const createPayload = { returnId: 'R-1', clientOrderId: 'O-1', items: [{ clientItemId: 'O-1-1', sku: 'SKU-1', quantity: '1', reasonCode: 'TOO_SMALL', wish: 'REFUND' as const }] };
    const aReturn = (stage: string) => {
      order('O-1');
      returnOf('R-1', 'O-1', stage, 'RECEIVED');
      sql(`UPDATE return_intake SET next_attempt_at = ? WHERE return_id = 'R-1'`, iso(clock.now() + 60 * 60_000));
      sql(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, updated_at) VALUES ('R-1:O-1-1:1', 'R-1', 'O-1-1', 'SKU-1', 'requested', 0, ?)`, iso(clock.now()));
    };
    const putBack = (options: { settled: boolean }) => {
      ctx.restore.start('this database was put back from a backup', { afterExport: 0, offers: {} });
      if (options.settled) ctx.restore.stockSettled('nothing to settle');
    };
    const increments = () => all<{ unit_id: string; state: string }>(`SELECT unit_id, state FROM stock_increments`);
    beforeEach(() => {
      rebound.createReturnOrder = async () => {
        throw new Error('created a second return order');
      };
    });

    it('holds for a person, never imports, its units graded when found', async () => {
      aReturn('create_return');
      rebound.listReturnOrders = async () => [roOf(clock.now() - 3 * 60 * 60_000, true)];
      putBack({ settled: true });
      clock.advance(10 * 60_000);
      ctx.intents.plan({ kind: 'rebound.createReturn', key: 'rebound-return:R-1', subject: 'R-1', payload: createPayload });
      await runIntake(ctx);
      expect(all(`SELECT state FROM intents WHERE kind = 'rebound.createReturn'`)).toEqual([{ state: 'confirmed' }]);
      planStockIncrements(ctx);
      expect(increments()).toEqual([{ unit_id: 'R-1:O-1-1:1', state: 'rejected' }]);
      expect(all<{ offer_sku: string }>(`SELECT offer_sku FROM exceptions WHERE type = 'RESTOCK_UNCERTAIN' AND state != 'resolved'`)).toEqual([{ offer_sku: 'SKU-1' }]);
    });

    it("keeps the restore settlement's own question about the offer as it was, and asks its own beside it", async () => {
      aReturn('create_return');
      rebound.listReturnOrders = async () => [roOf(clock.now() - 3 * 60 * 60_000, true)];
      putBack({ settled: true });
      ctx.exceptions.raise({ type: 'RESTOCK_UNCERTAIN', subjectKey: 'SKU-1', offerSku: 'SKU-1', cause: 'the settlement could not tell 2 unit(s)' });
      clock.advance(10 * 60_000);
      ctx.intents.plan({ kind: 'rebound.createReturn', key: 'rebound-return:R-1', subject: 'R-1', payload: createPayload });
      await runIntake(ctx);
      planStockIncrements(ctx);
      const open = openExceptions('RESTOCK_UNCERTAIN');
      expect(open.find((e) => e.subject_key === 'SKU-1')?.cause).toBe('the settlement could not tell 2 unit(s)');
      expect(open.filter((e) => e.subject_key !== 'SKU-1').map((e) => e.cause)).toEqual([expect.stringMatching(/earlier copy/)]);
    });

    it('holds them when found by the look-up for a return Mirakl already had received (find_return)', async () => {
      aReturn('find_return');
      sql(`UPDATE return_intake SET next_attempt_at = NULL WHERE return_id = 'R-1'`);
      rebound.listReturnOrders = async () => [roOf(clock.now() - 3 * 60 * 60_000, true)];
      putBack({ settled: true });
      clock.advance(10 * 60_000);
      await runIntake(ctx);
      expect(stageOf('R-1')).not.toBe('find_return');
      planStockIncrements(ctx);
      expect(increments()).toEqual([{ unit_id: 'R-1:O-1-1:1', state: 'rejected' }]);
    });

    it('restocks as usual a unit graded after it was found: the earlier copy had stopped by then', async () => {
      aReturn('create_return');
      rebound.listReturnOrders = async () => [roOf(clock.now() - 3 * 60 * 60_000, false)];
      putBack({ settled: true });
      clock.advance(10 * 60_000);
      ctx.intents.plan({ kind: 'rebound.createReturn', key: 'rebound-return:R-1', subject: 'R-1', payload: createPayload });
      await runIntake(ctx);
      clock.advance(14 * 24 * 60 * 60_000);
      ctx.physical.applySnapshot('R-1', roOf(clock.now() - 15 * 24 * 60 * 60_000, true), ['A_SELLABLE']);
      planStockIncrements(ctx);
      expect(increments()).toEqual([{ unit_id: 'R-1:O-1-1:1', state: 'pending' }]);
    });

    it("leaves to the restore's stock settlement a return found before it ran: it judges those units by the quantities", async () => {
      aReturn('create_return');
      rebound.listReturnOrders = async () => [roOf(clock.now() - 3 * 60 * 60_000, true)];
      putBack({ settled: false });
      clock.advance(10 * 60_000);
      ctx.intents.plan({ kind: 'rebound.createReturn', key: 'rebound-return:R-1', subject: 'R-1', payload: createPayload });
      await runIntake(ctx);
      planStockIncrements(ctx);
      expect(increments()).toEqual([{ unit_id: 'R-1:O-1-1:1', state: 'pending' }]);
    });

    it('restocks as usual the units of a return order this database made itself after it was put back, its answer lost', async () => {
      aReturn('create_return');
      putBack({ settled: true });
      clock.advance(60_000);
      const intent = ctx.intents.plan({ kind: 'rebound.createReturn', key: 'rebound-return:R-1', subject: 'R-1', payload: createPayload });
      ctx.intents.markSending([intent.id]);
      ctx.intents.markUncertain(intent.id, 'the answer was lost');
      rebound.listReturnOrders = async () => [roOf(clock.now(), true)];
      clock.advance(6 * 60_000);
      await runIntake(ctx);
      expect(all(`SELECT state FROM intents WHERE kind = 'rebound.createReturn'`)).toEqual([{ state: 'confirmed' }]);
      planStockIncrements(ctx);
      expect(increments()).toEqual([{ unit_id: 'R-1:O-1-1:1', state: 'pending' }]);
    });
  });
});
