import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { createAuditLog } from '../audit/log';
import { refundGuardSchema, returnTimelineSchema } from '../contract/explain';
import { AppError } from '../errors';
import { exceptionTypes } from '../exceptions/catalogue';
import { loadMappings } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { createDomainContext, type DomainContext } from '../sync/context';
import type { RefundPayload } from '../ledger/refunds';
import { makeTempDir } from '../../test/support/temp-dir';
import { explainRefundGuard, explainReturn } from './explain';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const t0 = Date.UTC(2026, 10, 1, 9);
const mappings = loadMappings();
const shortReceipt = exceptionTypes.SHORT_RECEIPT.title;

describe('explainer', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let ctx: DomainContext;
  const iso = (ms: number) => new Date(ms).toISOString();
  const at = (ms: number) => clock.set(t0 + ms);

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(t0);
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    ctx = createDomainContext({ db: store.db, clock, log: silentLogger, events: null, mappings: () => mappings });
    const t = iso(t0);
    store.db
      .prepare(
        `INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
         VALUES ('O-1', 'C-100', 'RECEIVED', 'GBP', 'CU-1', 'Ada Lovelace', 'null', ?, ?, ?)`,
      )
      .run(t, t, t);
    const line = store.db.prepare(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity,
        price_unit_minor, price_minor, shipping_minor, tax_minor, shipping_tax_minor, state, can_refund)
      VALUES (?, 'O-1', 1, ?, ?, ?, ?, ?, ?, 0, 0, 0, 'RECEIVED', 1)`);
    line.run('L-1', 'SKU-BLUE', 'P-BLUE', 'Blue shirt', 2, 2500, 5000);
    line.run('L-2', 'SKU-RED', 'P-RED', 'Red scarf', 1, 1500, 1500);
    // Mirakl sends whole seconds; the timeline must still order them against our millisecond stamps.
    store.db
      .prepare(
        `INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
         VALUES ('R-1', 'O-1', 'C-100', 'WAITING_ACCEPTANCE', 'RETURN_METHOD_BY_MAIL', '2026-11-01T08:00:00Z', '2026-11-01T08:00:00Z', ?, ?)`,
      )
      .run(t, t);
    const returnLine = store.db.prepare('INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES (?, ?, ?, ?)');
    returnLine.run('R-1', 'L-1', 2, 'RETURN_PDNT_TOO_SMALL');
    returnLine.run('R-1', 'L-2', 1, 'RETURN_CM_DONT_LIKE');
    store.db.prepare(`INSERT INTO return_intake (return_id, stage, updated_at) VALUES ('R-1', 'in_flight', ?)`).run(t);
    ctx.physical.createUnits('R-1', [
      { orderLineId: 'L-1', quantity: 2, offerSku: 'SKU-BLUE' },
      { orderLineId: 'L-2', quantity: 1, offerSku: 'SKU-RED' },
    ]);
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  /** A state Mirakl reported in RT11: its own last_updated moves. */
  const miraklState = (state: string, lastUpdatedMs: number) =>
    store.db.prepare('UPDATE mirakl_returns SET state = ?, last_updated = ?, synced_at = ? WHERE id = ?').run(state, iso(lastUpdatedMs), iso(clock.now()), 'R-1');

  const runIntent = (kind: string, key: string, payload: unknown, outcome: unknown) => {
    const intent = ctx.intents.plan({ kind, key, subject: 'R-1', payload });
    clock.advance(minute);
    ctx.intents.markSending([intent.id]);
    ctx.intents.confirm(intent.id, outcome);
    return intent;
  };

  const register = (unitIds: string[]) => {
    const now = iso(clock.now());
    for (const id of unitIds) {
      store.db
        .prepare(`UPDATE units SET stage = 'registered', stage_rank = 4, registered_at = ?, received_sku = offer_sku, updated_at = ? WHERE id = ?`)
        .run(now, now, id);
    }
  };

  const refundPayload = (amountMinor: number): RefundPayload => ({
    returnId: 'R-1',
    order_line_id: 'L-1',
    units: ['R-1:L-1:1', 'R-1:L-1:2'],
    amountMinor,
    shippingMinor: 0,
    taxMinor: 0,
    shippingTaxMinor: 0,
    currency: 'GBP',
    reason_code: '11',
  });

  const insertRefund = (id: string, amountMinor: number, state: string, createdMs: number) =>
    store.db
      .prepare(
        `INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
         VALUES (?, 'L-1', ?, ?, 0, 2, '11', ?, ?, ?, ?)`,
      )
      .run(id, `OR-${id}`, amountMinor, state, iso(createdMs), iso(clock.now()), iso(clock.now()));

  /** The return's journey up to ReBound registering both blue shirts and Mirakl being told (RT25). */
  function receiveBlueShirts() {
    at(5 * minute);
    miraklState('IN_PROGRESS', t0 - hour + 5 * minute);
    at(10 * minute);
    runIntent('rebound.createReturn', 'rebound-return:R-1', { returnId: 'R-1' }, { reboundOrderId: 'RO-1' });
    store.db
      .prepare(
        `INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, tracking_number, carrier, created_at, updated_at, synced_at)
         VALUES ('RO-1', 'O-1', 'R-1', 'ITEMS_REGISTERED', 4, 'ZZ1GB', 'ROYAL_MAIL', ?, ?, ?)`,
      )
      .run(iso(t0 + 11 * minute), iso(t0 + 2 * day), iso(t0 + 2 * day));
    const event = store.db.prepare(`INSERT INTO rebound_events (key, source, type, rebound_order_id, status, occurred_at, received_at, payload, outcome)
      VALUES (?, ?, ?, 'RO-1', ?, ?, ?, '{}', ?)`);
    event.run('d-1', 'webhook', 'trackingUpdate', 'postalIncoming', iso(t0 + day), iso(t0 + day + minute), 'applied');
    event.run('poll:RO-1:AT_HUB:1', 'poll', 'snapshot', 'AT_HUB', iso(t0 + 2 * day), iso(t0 + 2 * day + 5 * minute), 'applied');
    event.run('poll:RO-1:AT_HUB:2', 'poll', 'snapshot', 'AT_HUB', iso(t0 + 2 * day + hour), iso(t0 + 2 * day + hour), 'no_change');
    at(2 * day + 2 * hour);
    register(['R-1:L-1:1', 'R-1:L-1:2']);
    at(2 * day + 3 * hour);
    runIntent('mirakl.receive', 'rt25:R-1', { id: 'R-1' }, { ok: true });
    // Mirakl confirmed RT25: the bridge records RECEIVED without Mirakl's last_updated moving.
    ctx.store.setReturnState('R-1', 'RECEIVED');
  }

  it('merges Mirakl, ReBound, the bridge, exceptions and people into one timeline, oldest first', () => {
    receiveBlueShirts();
    at(2 * day + 3 * hour + 2 * minute);
    const refund = ctx.intents.plan({ kind: 'mirakl.refund', key: 'refund:R-1:L-1', subject: 'R-1', payload: refundPayload(5000) });
    at(2 * day + 3 * hour + 3 * minute);
    ctx.intents.markSending([refund.id]);
    ctx.intents.confirm(refund.id, { refundId: 'F-1', amountMinor: 5000, via: 'OR28' });
    insertRefund('F-1', 5000, 'WAITING_REFUND', t0 + 2 * day + 4 * hour);

    at(2 * day + 5 * hour);
    ctx.exceptions.raise({ type: 'SHORT_RECEIPT', subjectKey: 'R-1', returnId: 'R-1', cause: '1 of 3 returned unit(s) did not arrive at ReBound (L-2 #1).' });
    const exceptionId = (store.db.prepare(`SELECT id FROM exceptions WHERE return_id = 'R-1'`).get() as { id: number }).id;
    const audit = createAuditLog(store.db, clock);
    at(2 * day + 6 * hour);
    audit.append({ actor: 'alice', action: 'exception.assign', subject: `exception:${exceptionId}`, before: { assignee: null }, after: { assignee: 'alice' }, reason: 'chasing the hub' });
    audit.append({ actor: 'bob', action: 'exception.assign', subject: 'exception:999', before: null, after: null });
    audit.append({ actor: 'bob', action: 'return.retry', subject: 'return:R-2' });
    at(2 * day + 7 * hour);
    store.db.prepare('INSERT INTO exception_notes (exception_id, at, author, body) VALUES (?, ?, ?, ?)').run(exceptionId, iso(clock.now()), 'alice', 'Hub says the scarf is not in the parcel.');
    at(2 * day + 8 * hour);
    store.db
      .prepare(`UPDATE exceptions SET state = 'resolved', resolved_at = ?, resolution = 'accepted partial return', resolved_by = 'alice', updated_at = ? WHERE id = ?`)
      .run(iso(clock.now()), iso(clock.now()), exceptionId);
    audit.append({ actor: 'alice', action: 'return.acceptPartial', subject: 'return:R-1', reason: 'customer kept the scarf' });

    const timeline = explainReturn(ctx, 'R-1');
    expect(returnTimelineSchema.parse(timeline)).toEqual(timeline);
    expect(timeline.entries.map((e) => [e.at, e.source, e.kind, e.title])).toEqual([
      ['2026-11-01T08:00:00.000Z', 'mirakl', 'mirakl.requested', 'Customer asked to return 3 items (order C-100)'],
      ['2026-11-01T08:00:00.000Z', 'mirakl', 'mirakl.state', 'Return waiting for acceptance on Mirakl'],
      ['2026-11-01T08:05:00.000Z', 'mirakl', 'mirakl.state', 'Return accepted on Mirakl'],
      ['2026-11-01T09:10:00.000Z', 'bridge', 'intent.planned', 'Planned to create the return in ReBound'],
      ['2026-11-01T09:11:00.000Z', 'rebound', 'rebound.order', 'ReBound return order RO-1 created'],
      ['2026-11-01T09:11:00.000Z', 'bridge', 'intent.confirmed', 'Return created in ReBound'],
      ['2026-11-02T09:00:00.000Z', 'rebound', 'rebound.trackingUpdate', 'Parcel entered the carrier network'],
      ['2026-11-03T09:00:00.000Z', 'rebound', 'rebound.snapshot', "Parcel arrived at ReBound's hub"],
      ['2026-11-03T11:00:00.000Z', 'rebound', 'unit.registered', "2 units of Blue shirt registered at ReBound's hub"],
      ['2026-11-03T12:00:00.000Z', 'bridge', 'intent.planned', 'Planned to tell Mirakl the return arrived at the hub'],
      ['2026-11-03T12:01:00.000Z', 'bridge', 'intent.confirmed', 'Told Mirakl the return arrived at the hub'],
      ['2026-11-03T12:01:00.000Z', 'mirakl', 'mirakl.state', 'Mirakl shows the return received'],
      ['2026-11-03T12:02:00.000Z', 'bridge', 'intent.planned', 'Planned to refund £50.00 for Blue shirt'],
      ['2026-11-03T12:03:00.000Z', 'bridge', 'intent.confirmed', 'Refund of £50.00 for Blue shirt sent to Mirakl'],
      ['2026-11-03T13:00:00.000Z', 'mirakl', 'mirakl.refund', 'Refund of £50.00 for Blue shirt accepted by Mirakl, awaiting payment'],
      ['2026-11-03T14:00:00.000Z', 'exception', 'exception.raised', `Exception raised: ${shortReceipt}`],
      ['2026-11-03T15:00:00.000Z', 'user', 'audit.exception.assign', `alice assigned “${shortReceipt}”`],
      ['2026-11-03T16:00:00.000Z', 'user', 'exception.note', `alice added a note to “${shortReceipt}”`],
      ['2026-11-03T17:00:00.000Z', 'exception', 'exception.resolved', `Exception resolved: ${shortReceipt}`],
      ['2026-11-03T17:00:00.000Z', 'user', 'audit.return.acceptPartial', 'alice accepted a partial return'],
    ]);
    const find = (kind: string) => timeline.entries.find((e) => e.kind === kind);
    expect(find('mirakl.requested')?.detail).toBe('2 × Blue shirt (RETURN_PDNT_TOO_SMALL); 1 × Red scarf (RETURN_CM_DONT_LIKE)');
    expect(find('rebound.trackingUpdate')?.detail).toBe('Notified by ReBound (trackingUpdate); applied');
    expect(find('unit.registered')?.ref).toBe('R-1:L-1:1, R-1:L-1:2');
    expect(timeline.entries.find((e) => e.kind === 'intent.confirmed' && e.ref === 'refund:R-1:L-1')?.detail).toBe('Mirakl refund F-1');
    expect(find('mirakl.refund')).toMatchObject({ ref: 'F-1', detail: 'Refund F-1' });
    expect(find('exception.raised')).toMatchObject({ ref: `exception:${exceptionId}`, detail: expect.stringContaining('Owner: warehouse') });
    expect(find('exception.resolved')?.detail).toBe('accepted partial return (by alice)');
    expect(find('audit.exception.assign')?.detail).toBe('Reason: chasing the hub. assignee: none → alice');
    expect(find('exception.note')?.detail).toBe('Hub says the scarf is not in the parcel.');
    expect(timeline.entries.filter((e) => e.source === 'mirakl' && e.kind === 'mirakl.state').at(-1)?.detail).toMatch(/confirmed the bridge/);
    expect(timeline.summary).toEqual({
      orderId: 'O-1',
      commercialId: 'C-100',
      rma: null,
      miraklState: 'RECEIVED',
      reboundOrderId: 'RO-1',
      reboundStatus: 'ITEMS_REGISTERED',
      trackingNumber: 'ZZ1GB',
      unitsExpected: 3,
      unitsArrived: 2,
      unitsMissing: 0,
      currency: 'GBP',
      refundedMinor: 0,
      refundPendingMinor: 5000,
      openExceptions: 0,
    });
    // Same store, same answer: the order does not depend on anything but the data.
    expect(explainReturn(ctx, 'R-1')).toEqual(timeline);
  });

  it('reads as plain language for a CS lead: codes only in the technical tooltip, people in words (issue 24)', () => {
    receiveBlueShirts();
    const refund = ctx.intents.plan({ kind: 'mirakl.refund', key: 'refund:R-1:L-1', subject: 'R-1', payload: refundPayload(5000) });
    ctx.intents.markSending([refund.id]);
    ctx.intents.confirm(refund.id, { refundId: 'F-1', amountMinor: 5000, via: 'OR28' });
    insertRefund('F-1', 5000, 'WAITING_REFUND', clock.now());
    ctx.exceptions.raise({ type: 'SHORT_RECEIPT', subjectKey: 'R-1', returnId: 'R-1', cause: '1 of 3 returned unit(s) did not arrive at ReBound (L-2 #1).' });
    const exceptionId = (store.db.prepare(`SELECT id FROM exceptions WHERE return_id = 'R-1'`).get() as { id: number }).id;
    const audit = createAuditLog(store.db, clock);
    audit.append({ actor: 'alice', action: 'exception.resolve', subject: `exception:${exceptionId}`, before: { state: 'open' }, after: { resolution: 'accepted partial return' }, reason: 'customer kept the scarf' });

    const timeline = explainReturn(ctx, 'R-1');
    const technical = (e: (typeof timeline.entries)[number]) => (e as { technical?: string | null }).technical ?? '';
    for (const e of timeline.entries) {
      expect(e.title, e.kind).not.toMatch(/\b(RT\d\d|OR\d\d)\b|\b[A-Z]{3,}_[A-Z_]+\b/);
    }
    const receive = timeline.entries.find((e) => e.kind === 'intent.confirmed' && e.ref === 'rt25:R-1');
    expect(receive?.title).toBe('Told Mirakl the return arrived at the hub');
    expect(technical(receive!)).toMatch(/RT25/);
    const money = timeline.entries.find((e) => e.kind === 'mirakl.refund');
    expect(money?.title).toBe('Refund of £50.00 for Blue shirt accepted by Mirakl, awaiting payment');
    expect(technical(money!)).toMatch(/WAITING_REFUND/);
    const person = timeline.entries.find((e) => e.kind === 'audit.exception.resolve');
    expect(person?.title).toBe(`alice resolved “${shortReceipt}”`);
    expect(person?.detail).toBe('Reason: customer kept the scarf. resolution: accepted partial return');
    // The reply a CS lead copies to the customer.
    expect(timeline.reply).toBe(
      'Your return arrived at our returns centre on 3 November 2026. A refund of £50.00 was approved on 3 November 2026 and is being paid; banks usually take 3–5 working days once it is sent.',
    );
    store.db.prepare(`UPDATE mirakl_refunds SET refund_state = 'REFUNDED' WHERE id = 'F-1'`).run();
    expect(explainReturn(ctx, 'R-1').reply).toBe(
      'Your return arrived at our returns centre on 3 November 2026. The refund of £50.00 was sent on 3 November 2026; banks usually take 3–5 working days to show it.',
    );
  });

  it("places 'received' when Mirakl was told, not when the label was pushed (issue 24)", () => {
    at(5 * minute);
    miraklState('IN_PROGRESS', t0 - hour + 5 * minute);
    at(hour);
    runIntent('mirakl.patch', 'rt04:R-1', { id: 'R-1' }, { ok: true });
    // RT04 moved Mirakl's last_updated (as Mirakl does) without a state change.
    store.db.prepare('UPDATE mirakl_returns SET last_updated = ? WHERE id = ?').run(iso(t0 + hour + minute), 'R-1');
    at(2 * day);
    runIntent('mirakl.receive', 'rt25:R-1', { id: 'R-1' }, { ok: true });
    ctx.store.setReturnState('R-1', 'RECEIVED');
    const received = explainReturn(ctx, 'R-1').entries.find((e) => e.kind === 'mirakl.state' && e.title === 'Mirakl shows the return received');
    expect(received?.at).toBe(iso(t0 + 2 * day + minute));
  });

  it('shows grading, a wrong SKU, a missing unit, restocking and a failed call, and keeps other returns out', () => {
    receiveBlueShirts();
    at(3 * day);
    const now = iso(clock.now());
    store.db
      .prepare(`UPDATE units SET stage = 'graded', stage_rank = 5, grade = 'A_SELLABLE', is_sellable = 1, graded_at = ?, updated_at = ? WHERE id = 'R-1:L-1:1'`)
      .run(now, now);
    store.db
      .prepare(`UPDATE units SET stage = 'graded', stage_rank = 5, grade = 'D_DAMAGED', is_sellable = 0, graded_at = ?, updated_at = ? WHERE id = 'R-1:L-1:2'`)
      .run(now, now);
    store.db.prepare(`UPDATE units SET stage = 'missing', stage_rank = 3, updated_at = ? WHERE id = 'R-1:L-2:1'`).run(now);
    store.db
      .prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, created_at, updated_at) VALUES ('R-1:L-1:1', 'SKU-BLUE', 'applied', ?, ?)`)
      .run(iso(t0 + 3 * day + minute), iso(t0 + 3 * day + 3 * minute));
    at(3 * day + 10 * minute);
    const compliance = ctx.intents.plan({ kind: 'mirakl.compliance', key: 'rt26:R-1', subject: 'R-1', payload: { id: 'R-1', return_lines: [] } });
    ctx.intents.markSending([compliance.id]);
    ctx.intents.fail(compliance.id, 'Mirakl refused: return is not RECEIVED', null);
    // Another return on another order: nothing of it may leak in.
    store.db
      .prepare(
        `INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
         VALUES ('R-2', 'O-2', 'C-200', 'IN_PROGRESS', 'RETURN_METHOD_BY_MAIL', ?, ?, ?, ?)`,
      )
      .run(now, now, now, now);
    ctx.intents.plan({ kind: 'mirakl.receive', key: 'rt25:R-2', subject: 'R-2', payload: { id: 'R-2' } });
    ctx.exceptions.raise({ type: 'STATUS_NOT_PUSHED', subjectKey: 'R-2', returnId: 'R-2', cause: 'not pushed' });

    const timeline = explainReturn(ctx, 'R-1');
    const after = timeline.entries.filter((e) => e.at >= iso(t0 + 3 * day)).map((e) => [e.source, e.kind, e.title, e.detail]);
    expect(after).toEqual([
      ['rebound', 'unit.graded', '1 unit of Blue shirt graded A_SELLABLE', 'Sellable: goes back on sale'],
      ['rebound', 'unit.graded', '1 unit of Blue shirt graded D_DAMAGED', 'Not sellable'],
      ['rebound', 'unit.missing', '1 unit of Red scarf did not arrive at ReBound', null],
      ['bridge', 'stock.queued', '1 unit queued to go back on sale (offer SKU-BLUE)', null],
      ['bridge', 'stock.applied', 'Stock +1 on Mirakl offer SKU-BLUE', null],
      ['bridge', 'intent.planned', 'Planned to tell Mirakl the inspection result', null],
      [
        'bridge',
        'intent.failed',
        'Could not tell Mirakl the inspection result',
        'Mirakl refused: return is not RECEIVED; it will not be retried by itself: a person must act',
      ],
    ]);
    expect(timeline.entries.some((e) => e.ref === 'rt25:R-2' || e.title.includes('Receipt not pushed'))).toBe(false);
    expect(timeline.summary).toMatchObject({ unitsExpected: 3, unitsArrived: 2, unitsMissing: 1, openExceptions: 0 });

    // A unit ReBound registered under another SKU is shown as such, not as a verified receipt.
    store.db.prepare(`UPDATE units SET received_sku = 'SKU-GREEN' WHERE id = 'R-1:L-1:2'`).run();
    const registered = explainReturn(ctx, 'R-1').entries.filter((e) => e.kind === 'unit.registered');
    expect(registered.map((e) => [e.title, e.ref])).toEqual([
      ["1 unit of Blue shirt registered at ReBound's hub", 'R-1:L-1:1'],
      ['1 unit of Blue shirt registered under the wrong SKU', 'R-1:L-1:2'],
    ]);
    expect(registered[1]?.detail).toBe('ReBound registered SKU SKU-GREEN; the order line sold SKU-BLUE. Not a verified receipt.');
  });

  it('names every line of the return, before ReBound has registered a unit of any (the drawer asks their refund checks)', () => {
    const timeline = explainReturn(ctx, 'R-1');
    expect(timeline.entries.some((e) => e.kind.startsWith('unit.'))).toBe(false);
    expect(timeline.lines).toEqual([
      { orderLineId: 'L-1', product: 'Blue shirt', quantity: 2, reasonCode: 'RETURN_PDNT_TOO_SMALL' },
      { orderLineId: 'L-2', product: 'Red scarf', quantity: 1, reasonCode: 'RETURN_CM_DONT_LIKE' },
    ]);
    expect(returnTimelineSchema.parse(timeline)).toEqual(timeline);
  });

  it('says what a refund is waiting for before ReBound has registered anything', () => {
    const guard = explainRefundGuard(ctx, 'R-1', 'L-1');
    expect(refundGuardSchema.parse(guard)).toEqual(guard);
    expect(guard.allowed).toBe(false);
    expect(guard.intent).toBeNull();
    expect(guard.conditions.find((c) => c.name === 'verified receipt')).toEqual({
      name: 'verified receipt',
      holds: false,
      detail: '0 of 2 unit(s) registered by ReBound with the right SKU',
    });
    expect(guard.conditions.find((c) => c.name === 'order line known')?.holds).toBe(true);
    expect(guard.verdict).toBe(
      'Waiting for: verified receipt (0 of 2 unit(s) registered by ReBound with the right SKU); Mirakl told of the receipt (waiting for RT25).',
    );
  });

  it('follows an allowed refund from ready to planned, sent and refunded', () => {
    receiveBlueShirts();
    const ready = explainRefundGuard(ctx, 'R-1', 'L-1');
    expect(ready.allowed).toBe(true);
    expect(ready.conditions.every((c) => c.holds)).toBe(true);
    expect(ready.verdict).toBe('Ready: every condition holds; the refund is planned in the next sync cycle.');

    const intent = ctx.intents.plan({ kind: 'mirakl.refund', key: 'refund:R-1:L-1', subject: 'R-1', payload: refundPayload(5000) });
    const planned = explainRefundGuard(ctx, 'R-1', 'L-1');
    expect(planned.intent).toEqual({ state: 'planned', attempts: 0, lastError: null, nextAttemptAt: null, amountMinor: 5000, refundId: null });
    expect(planned.verdict).toBe('Planned: the refund of £50.00 goes out with the next refund call to Mirakl (OR28).');

    ctx.intents.markSending([intent.id]);
    expect(explainRefundGuard(ctx, 'R-1', 'L-1').verdict).toBe('Being sent: the refund of £50.00 is in flight to Mirakl (attempt 1).');

    ctx.intents.confirm(intent.id, { refundId: 'F-1', amountMinor: 5000, via: 'OR28' });
    const sent = explainRefundGuard(ctx, 'R-1', 'L-1');
    expect(sent.intent).toMatchObject({ state: 'confirmed', attempts: 1, refundId: 'F-1' });
    expect(sent.verdict).toBe('Requested: Mirakl took the refund of £50.00 (refund F-1); it is not in the Mirakl ledger we read yet.');

    insertRefund('F-1', 5000, 'REFUNDED', clock.now());
    expect(explainRefundGuard(ctx, 'R-1', 'L-1').verdict).toBe('Paid: Mirakl shows refund F-1 of £50.00 as paid (REFUNDED).');
    expect(explainReturn(ctx, 'R-1').summary).toMatchObject({ refundedMinor: 5000, refundPendingMinor: 0 });
  });

  it('says an uncertain refund is being probed, not re-sent', () => {
    receiveBlueShirts();
    clock.advance(minute);
    const intent = ctx.intents.plan({ kind: 'mirakl.refund', key: 'refund:R-1:L-1', subject: 'R-1', payload: refundPayload(5000) });
    ctx.intents.markSending([intent.id]);
    ctx.intents.markUncertain(intent.id, 'OR28 answered without this refund');
    const guard = explainRefundGuard(ctx, 'R-1', 'L-1');
    expect(guard.intent).toMatchObject({ state: 'uncertain', attempts: 1, lastError: 'OR28 answered without this refund', refundId: null });
    expect(guard.verdict).toBe(
      "Outcome unknown: the refund of £50.00 may have reached Mirakl (OR28 answered without this refund); it is being probed in Mirakl's refunds (OR11) and will not be sent again until that settles it.",
    );
    const entry = explainReturn(ctx, 'R-1').entries.at(-1);
    expect(entry).toMatchObject({ source: 'bridge', kind: 'intent.uncertain', title: 'Outcome unknown: refund £50.00 for Blue shirt', ref: 'refund:R-1:L-1' });
  });

  it('answers NOT_FOUND, naming the id, for an unknown return or return line', () => {
    const error = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      throw new Error('expected an error');
    };
    const unknownReturn = error(() => explainReturn(ctx, 'R-404'));
    expect(unknownReturn).toBeInstanceOf(AppError);
    expect(unknownReturn).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('R-404') });
    expect(error(() => explainRefundGuard(ctx, 'R-404', 'L-1'))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('R-404') });
    expect(error(() => explainRefundGuard(ctx, 'R-1', 'L-404'))).toMatchObject({ code: 'NOT_FOUND', message: 'Return R-1 has no line L-404' });
  });
});
