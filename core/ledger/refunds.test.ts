import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { createDomainContext, type DomainContext } from './domain';
import { madeElsewhereSincePlanned, probeRefund, type RefundPayload } from './refunds';

// A refund in Mirakl's ledger is taken for someone else's (madeElsewhereSincePlanned) only when it cannot be one of
// ours. Chaos seed 149: a line of 2 units; the first unit's refund went out and Mirakl made it, but the disk failed on
// recording the answer, so it was uncertain. A late unit's refund, about to go out, found that refund in the ledger
// (same amount, one unit, new since it was planned), took it as made for its own unit and was never sent; the first
// refund's probe then found the ledger's refund claimed, judged its call not applied and sent it again: two refunds of
// the first unit's share (tax 522 + 522 of the line's 1,043), and the shipping the late unit's refund carried never paid.

const minute = 60_000;

describe('a refund found made since it was planned', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let ctx: DomainContext;
  const clock = createFakeClock(Date.UTC(2026, 9, 3, 5, 52));
  const mappings = loadMappings(shippedMappingsDir);
  const iso = (ms: number) => new Date(ms).toISOString();
  const sql = (text: string, ...params: unknown[]) => store.db.prepare(text).run(...params);
  const payload = (unit: string, fields: Partial<RefundPayload>): RefundPayload => ({
    returnId: 'R-1',
    order_line_id: 'O-1-1',
    units: [unit],
    amountMinor: 3130,
    shippingMinor: 0,
    taxMinor: 522,
    shippingTaxMinor: 0,
    currency: 'EUR',
    reason_code: '11',
    taxMode: 'TAX_INCLUDED',
    taxes: [{ code: 'VAT', amountMinor: fields.taxMinor ?? 522 }],
    knownRefundIds: [],
    ...fields,
  });
  /** Mirakl's ledger as OR11 showed it, read at the clock's time. */
  const ledgerShows = (id: string, fields: { shippingMinor?: number; taxMinor?: number } = {}) => {
    const t = iso(clock.now());
    sql(
      `INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created,
        first_seen_at, synced_at, tax_minor, shipping_tax_minor, tax_mode) VALUES (?, 'O-1-1', ?, 3130, ?, 1, '11', 'REFUNDED', ?, ?, ?, ?, 0, 'TAX_INCLUDED')`,
      id,
      `ORF-${id}`,
      fields.shippingMinor ?? 0,
      t.replace(/\.\d{3}Z$/, 'Z'),
      t,
      t,
      fields.taxMinor ?? 522,
    );
    ctx.repo.stampOrderRead('O-1', clock.now());
  };

  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    ctx = createDomainContext({ db: store.db, clock, log: silentLogger, events: null, mappings: () => mappings });
    const t = iso(clock.now() - 3 * 24 * 60 * minute);
    sql(`INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
      VALUES ('O-1', 'C-1', 'RECEIVED', 'EUR', 'CU', 'Ann', '{}', ?, ?, ?)`, t, t, t);
    sql(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor, price_minor,
      shipping_minor, tax_minor, shipping_tax_minor, state, can_refund, taxes, shipping_taxes)
      VALUES ('O-1-1', 'O-1', 1, 'SKT-RED-S', 'P', 'Skirt', 2, 3130, 6260, 395, 1043, 66, 'RECEIVED', 1, '[{"code":"VAT","amountMinor":1043}]', '[{"code":"VAT","amountMinor":66}]')`);
    sql(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
      VALUES ('R-1', 'O-1', 'C-1', 'RECEIVED', 'BY_MAIL', ?, ?, ?, ?)`, t, t, t, t);
    sql(`INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES ('R-1', 'O-1-1', 2, '11')`);
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('is never a refund of ours whose outcome is unknown: the late unit waits for its probe, which finds it ours', () => {
    // The line's first refund, for the unit that came first: sent, made by Mirakl, its answer lost (a failed write).
    const first = ctx.intents.plan<RefundPayload>({ kind: 'mirakl.refund', key: 'refund:R-1:O-1-1', subject: 'R-1', payload: payload('U-2', {}) });
    clock.advance(104 * minute);
    ctx.intents.markSending([first.id]);
    ctx.intents.markUncertain(first.id, 'I/O error recording the answer');
    // The late unit's refund, planned while the first was uncertain: the rest of the line's tax, and its shipping.
    const late = ctx.intents.plan<RefundPayload>({
      kind: 'mirakl.refund',
      key: 'refund:R-1:O-1-1:U-1',
      subject: 'R-1',
      payload: payload('U-1', { shippingMinor: 395, taxMinor: 521, shippingTaxMinor: 66, shippingTaxes: [{ code: 'VAT', amountMinor: 66 }] }),
    });
    clock.advance(67 * minute);
    // OR11 shows the first refund (Mirakl made it at the call, 07:36).
    ledgerShows('10001');

    expect(madeElsewhereSincePlanned(ctx, ctx.intents.get<RefundPayload>(late.id) ?? late)).toBeUndefined();

    // Read again past the settling time: the first refund's probe takes the ledger's refund as its own, not sent twice.
    clock.advance(47 * minute);
    ctx.repo.stampOrderRead('O-1', clock.now());
    expect(probeRefund(ctx, ctx.intents.get<RefundPayload>(first.id) ?? first)).toBe('ours');
    expect(ctx.intents.get(first.id)?.outcome).toMatchObject({ refundId: '10001' });

    // Settled, a refund new in the ledger for exactly the late unit's worth is someone else's, made for it: recorded as
    // its own, never sent again.
    clock.advance(10 * minute);
    ledgerShows('10002', { shippingMinor: 395, taxMinor: 521 });
    expect(madeElsewhereSincePlanned(ctx, ctx.intents.get<RefundPayload>(late.id) ?? late)).toBe('10002');
  });
});
