import type { Database } from 'better-sqlite3';
import type { MiraklOrderDto, MiraklReturnDto, MiraklTaxDto, OrderTaxMode } from '../mirakl/schemas';
import type { Clock } from '../ports';

// Mirakl's returns, orders and refund ledger as last read. Mirakl owns these facts: this module only records
// what the API said, converting money to integer minor units once, here.

/** The return states the spec documents (NOTES §4). Mirakl may add more; an unknown one never replaces a known one
 * for the same update, and such returns are read again by id until they show a state we understand. */
export const knownReturnStates = ['WAITING_ACCEPTANCE', 'IN_PROGRESS', 'REFUSED', 'RECEIVED', 'NO_RECEPTION', 'CLOSED', 'CANCELED'] as const;

export const toMinor = (major: number | undefined): number => Math.round((major ?? 0) * 100);

/** One tax line as Mirakl names it (tax1, VAT…), in minor units. */
export interface TaxLine {
  code: string;
  amountMinor: number;
}

/** Mirakl's tax lines in minor units, each kept under its own code (a missing code reads as "TAX"). */
export const taxLines = (taxes: readonly MiraklTaxDto[]): TaxLine[] => taxes.map((t) => ({ code: t.code ?? 'TAX', amountMinor: toMinor(t.amount) }));
const sumTaxes = (lines: readonly TaxLine[]) => lines.reduce((s, t) => s + t.amountMinor, 0);

export interface StoredReturnLine {
  returnId: string;
  orderLineId: string;
  quantity: number;
  reasonCode: string;
}

export interface StoredOrderLine {
  orderLineId: string;
  orderId: string;
  offerId: number;
  offerSku: string;
  productSku: string;
  productTitle: string;
  quantity: number;
  priceUnitMinor: number;
  priceMinor: number;
  shippingMinor: number;
  taxMinor: number;
  shippingTaxMinor: number;
  taxes: TaxLine[];
  shippingTaxes: TaxLine[];
  /** The order tax mode these amounts were read in: TAX_EXCLUDED prices and amounts leave the taxes out. */
  taxMode: OrderTaxMode;
  state: string;
  canRefund: boolean;
}

export interface StoredReturn {
  id: string;
  orderId: string;
  commercialId: string;
  state: string;
  methodCode: string;
  rma: string | null;
  trackingNumber: string | null;
  dateCreated: string;
  lastUpdated: string;
  /** When this app first read the return from Mirakl (our clock). */
  firstSeenAt: string;
}

export function createMiraklStore(db: Database, clock: Clock) {
  const iso = () => new Date(clock.now()).toISOString();
  const upsertReturn = db.prepare(`INSERT INTO mirakl_returns (id, order_id, commercial_id, customer_id, state, method_code, rma,
      tracking_number, carrier_code, label_url, date_created, last_updated, first_seen_at, synced_at)
    VALUES (@id, @orderId, @commercialId, @customerId, @state, @methodCode, @rma, @trackingNumber, @carrierCode, @labelUrl,
      @dateCreated, @lastUpdated, @now, @now)
    ON CONFLICT (id) DO UPDATE SET
      state = CASE WHEN excluded.state IN (${knownReturnStates.map((s) => `'${s}'`).join(', ')}) OR excluded.last_updated > mirakl_returns.last_updated
        THEN excluded.state ELSE mirakl_returns.state END,
      method_code = excluded.method_code, rma = excluded.rma,
      tracking_number = excluded.tracking_number, carrier_code = excluded.carrier_code, label_url = excluded.label_url,
      last_updated = excluded.last_updated, synced_at = excluded.synced_at
    WHERE excluded.last_updated >= mirakl_returns.last_updated`);
  const existsReturn = db.prepare('SELECT 1 FROM mirakl_returns WHERE id = ?');
  const storedAsOf = db.prepare(`SELECT 1 FROM mirakl_returns r JOIN return_intake i ON i.return_id = r.id
    WHERE r.id = ? AND r.last_updated = ? AND r.state = ?`);
  const deleteLines = db.prepare('DELETE FROM mirakl_return_lines WHERE return_id = ?');
  const insertLine = db.prepare(`INSERT INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code)
    VALUES (@returnId, @orderLineId, @quantity, @reasonCode)`);
  const setState = db.prepare('UPDATE mirakl_returns SET state = @state, synced_at = @now WHERE id = @id');
  const getReturn = db.prepare('SELECT * FROM mirakl_returns WHERE id = ?');
  const linesOf = db.prepare('SELECT * FROM mirakl_return_lines WHERE return_id = ? ORDER BY order_line_id');

  const upsertOrder = db.prepare(`INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name,
      customer_email, customer_address, date_created, last_updated, synced_at)
    VALUES (@orderId, @commercialId, @state, @currency, @customerId, @customerName, @customerEmail, @customerAddress, @dateCreated,
      @lastUpdated, @now)
    ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, last_updated = excluded.last_updated, synced_at = excluded.synced_at,
      customer_name = excluded.customer_name, customer_email = excluded.customer_email, customer_address = excluded.customer_address`);
  // Amounts are refreshed with every read: they only change when the tax mode they are read in changes.
  const upsertOrderLine = db.prepare(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku,
      product_title, quantity, price_unit_minor, price_minor, shipping_minor, tax_minor, shipping_tax_minor, state, can_refund,
      tax_mode, taxes, shipping_taxes)
    VALUES (@orderLineId, @orderId, @offerId, @offerSku, @productSku, @productTitle, @quantity, @priceUnitMinor, @priceMinor,
      @shippingMinor, @taxMinor, @shippingTaxMinor, @state, @canRefund, @taxMode, @taxes, @shippingTaxes)
    ON CONFLICT (order_line_id) DO UPDATE SET state = excluded.state, can_refund = excluded.can_refund,
      price_unit_minor = excluded.price_unit_minor, price_minor = excluded.price_minor, shipping_minor = excluded.shipping_minor,
      tax_minor = excluded.tax_minor, shipping_tax_minor = excluded.shipping_tax_minor, tax_mode = excluded.tax_mode,
      taxes = excluded.taxes, shipping_taxes = excluded.shipping_taxes`);
  const upsertRefund = db.prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor,
      quantity, reason_code, refund_state, date_created, first_seen_at, synced_at, tax_minor, shipping_tax_minor, tax_mode)
    VALUES (@id, @orderLineId, @orderRefundId, @amountMinor, @shippingMinor, @quantity, @reasonCode, @refundState, @dateCreated, @now, @now,
      @taxMinor, @shippingTaxMinor, @taxMode)
    ON CONFLICT (id) DO UPDATE SET refund_state = excluded.refund_state, synced_at = excluded.synced_at,
      amount_minor = excluded.amount_minor, shipping_minor = excluded.shipping_minor, tax_minor = excluded.tax_minor,
      shipping_tax_minor = excluded.shipping_tax_minor, tax_mode = excluded.tax_mode`);
  const getOrderLine = db.prepare('SELECT * FROM mirakl_order_lines WHERE order_line_id = ?');
  const hasOrder = db.prepare('SELECT 1 FROM mirakl_orders WHERE order_id = ?');
  const refundsOfLine = db.prepare('SELECT * FROM mirakl_refunds WHERE order_line_id = ? ORDER BY date_created, id');

  return {
    /** Records a return as RT11 reported it. Returns true when it is new to us. Older snapshots never overwrite newer. */
    saveReturn(r: MiraklReturnDto): boolean {
      const isNew = !existsReturn.get(r.id);
      db.transaction(() => {
        const changed = upsertReturn.run({
          id: r.id,
          orderId: r.order_id,
          commercialId: r.order_commercial_id,
          customerId: r.customer_id ?? null,
          state: r.state,
          methodCode: r.method_code ?? '',
          rma: r.rma ?? null,
          trackingNumber: r.tracking?.tracking_number ?? null,
          carrierCode: r.tracking?.carrier_code ?? null,
          labelUrl: r.label_url ?? null,
          dateCreated: r.date_created,
          lastUpdated: r.last_updated,
          now: iso(),
        }).changes;
        if (changed === 0 && !isNew) return;
        deleteLines.run(r.id);
        for (const line of r.return_lines) {
          insertLine.run({ returnId: r.id, orderLineId: line.order_line_id, quantity: line.quantity, reasonCode: line.reason_code });
        }
      })();
      return isNew;
    },

    /**
     * Whether this return is stored (and queued for intake) exactly as an RT11 record of this last update and state
     * shows it: read again through a poll's overlap, there is nothing to save or plan.
     */
    isStoredAsOf: (id: string, lastUpdated: string, state: string): boolean => Boolean(storedAsOf.get(id, lastUpdated, state)),

    /** Mirakl confirmed a transition we asked for (a batch call's return_success). */
    setReturnState: (id: string, state: string) => void setState.run({ id, state, now: iso() }),

    getReturn(id: string): StoredReturn | undefined {
      const row = getReturn.get(id) as Record<string, string | null> | undefined;
      if (!row) return undefined;
      return {
        id: String(row.id),
        orderId: String(row.order_id),
        commercialId: String(row.commercial_id),
        state: String(row.state),
        methodCode: String(row.method_code),
        rma: row.rma ?? null,
        trackingNumber: row.tracking_number ?? null,
        dateCreated: String(row.date_created),
        lastUpdated: String(row.last_updated),
        firstSeenAt: String(row.first_seen_at),
      };
    },

    returnLines(returnId: string): StoredReturnLine[] {
      return (linesOf.all(returnId) as { return_id: string; order_line_id: string; quantity: number; reason_code: string }[]).map((l) => ({
        returnId: l.return_id,
        orderLineId: l.order_line_id,
        quantity: l.quantity,
        reasonCode: l.reason_code,
      }));
    },

    /** Records an order as OR11 reported it, its amounts in the tax mode it was asked in. */
    saveOrder(o: MiraklOrderDto, taxMode: OrderTaxMode): void {
      db.transaction(() => {
        upsertOrder.run({
          orderId: o.order_id,
          commercialId: o.commercial_id,
          state: o.order_state,
          currency: o.currency_iso_code,
          customerId: o.customer.customer_id ?? '',
          customerName: [o.customer.firstname, o.customer.lastname].filter(Boolean).join(' '),
          customerEmail: o.customer_notification_email ?? null,
          customerAddress: JSON.stringify(o.customer.shipping_address ?? null),
          dateCreated: o.created_date,
          lastUpdated: o.last_updated_date,
          now: iso(),
        });
        for (const l of o.order_lines) {
          const taxes = taxLines(l.taxes);
          const shippingTaxes = taxLines(l.shipping_taxes);
          upsertOrderLine.run({
            orderLineId: l.order_line_id,
            orderId: o.order_id,
            offerId: l.offer_id,
            offerSku: l.offer_sku,
            productSku: l.product_sku ?? '',
            productTitle: l.product_title ?? l.offer_sku,
            quantity: l.quantity,
            priceUnitMinor: toMinor(l.price_unit),
            priceMinor: toMinor(l.price),
            shippingMinor: toMinor(l.shipping_price),
            taxMinor: sumTaxes(taxes),
            shippingTaxMinor: sumTaxes(shippingTaxes),
            state: l.order_line_state,
            canRefund: l.can_refund ? 1 : 0,
            taxMode,
            taxes: JSON.stringify(taxes),
            shippingTaxes: JSON.stringify(shippingTaxes),
          });
          for (const r of l.refunds) {
            upsertRefund.run({
              id: r.id,
              orderLineId: l.order_line_id,
              orderRefundId: r.order_refund_id,
              amountMinor: toMinor(r.amount),
              shippingMinor: toMinor(r.shipping_amount),
              taxMinor: sumTaxes(taxLines(r.taxes)),
              shippingTaxMinor: sumTaxes(taxLines(r.shipping_taxes)),
              taxMode,
              quantity: r.quantity,
              reasonCode: r.reason_code,
              refundState: r.refund_state,
              // Mirakl's creation date when it gives one; otherwise when we first saw the refund.
              dateCreated: r.created_date ?? iso(),
              now: iso(),
            });
          }
        }
      })();
    },

    hasOrder: (orderId: string): boolean => Boolean(hasOrder.get(orderId)),

    orderLine(orderLineId: string): StoredOrderLine | undefined {
      const r = getOrderLine.get(orderLineId) as Record<string, string | number> | undefined;
      if (!r) return undefined;
      return {
        orderLineId: String(r.order_line_id),
        orderId: String(r.order_id),
        offerId: Number(r.offer_id),
        offerSku: String(r.offer_sku),
        productSku: String(r.product_sku),
        productTitle: String(r.product_title),
        quantity: Number(r.quantity),
        priceUnitMinor: Number(r.price_unit_minor),
        priceMinor: Number(r.price_minor),
        shippingMinor: Number(r.shipping_minor),
        taxMinor: Number(r.tax_minor),
        shippingTaxMinor: Number(r.shipping_tax_minor),
        taxes: JSON.parse(String(r.taxes)) as TaxLine[],
        shippingTaxes: JSON.parse(String(r.shipping_taxes)) as TaxLine[],
        taxMode: String(r.tax_mode) as OrderTaxMode,
        state: String(r.state),
        canRefund: Number(r.can_refund) === 1,
      };
    },

    refundsOfLine(orderLineId: string) {
      return refundsOfLine.all(orderLineId) as {
        id: string;
        order_line_id: string;
        amount_minor: number;
        shipping_minor: number;
        tax_minor: number;
        shipping_tax_minor: number;
        tax_mode: OrderTaxMode;
        quantity: number;
        reason_code: string;
        refund_state: string;
        date_created: string;
      }[];
    },
  };
}

export type MiraklStore = ReturnType<typeof createMiraklStore>;
