import type { Database } from 'better-sqlite3';
import type { MoneyFigures } from '../contract/money';
import { arrived } from './reconcile/detectors';

// The one definition of each money figure the dashboard, the month-end report and an evidence bundle show (issue 24),
// as at a moment: the dashboard asks for now, a report and its bundle for the report's as-of (period end, or now for
// an open month). A refund is "refunded" once Mirakl has it in its ledger, whatever its state: accepted and waiting for
// payment (WAITING_REFUND…) or paid (REFUNDED). Our calls Mirakl has not answered yet are "requested", never refunded.
// The texts saying how each is counted are in core/contract/money.ts, beside the schema, so every view quotes the same.

interface Row {
  currency: string;
  figure: 'receipts' | 'requested' | 'awaiting' | 'paid' | 'unbacked';
  n: number;
  amount: number;
}

export function createMoneyFigures(db: Database) {
  // Per order line: verified units (registered at the hub with the SKU sold, before the moment) at the line's unit price,
  // less everything Mirakl refunded on that line (any refund state, ours or not) dated before the moment.
  const statement = db.prepare(`
    SELECT currency, 'receipts' AS figure, count(*) AS n, sum(expected - refunded) AS amount FROM (
      SELECT COALESCE(o.currency, '?') AS currency, v.verified * COALESCE(ol.price_unit_minor, 0) AS expected,
        COALESCE((SELECT sum(f.amount_minor) FROM mirakl_refunds f WHERE f.order_line_id = v.order_line_id AND f.date_created < @asOf), 0) AS refunded
      FROM (SELECT u.order_line_id, count(*) AS verified FROM units u WHERE ${arrived} AND u.registered_at < @asOf GROUP BY u.order_line_id) v
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = v.order_line_id
      LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    ) WHERE expected > refunded GROUP BY currency
    UNION ALL
    SELECT COALESCE(json_extract(i.payload, '$.currency'), '?'), 'requested', count(*), COALESCE(sum(json_extract(i.payload, '$.amountMinor')), 0)
      FROM intents i WHERE i.kind = 'mirakl.refund' AND i.state IN ('planned', 'sending', 'uncertain') AND i.created_at < @asOf GROUP BY 1
    UNION ALL
    SELECT COALESCE(o.currency, '?'), 'paid', count(*), sum(f.amount_minor)
      FROM mirakl_refunds f
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
      WHERE f.date_created >= @from AND f.date_created < @asOf AND f.refund_state = 'REFUNDED' GROUP BY 1
    UNION ALL
    SELECT COALESCE(o.currency, '?'), 'awaiting', count(*), sum(f.amount_minor)
      FROM mirakl_refunds f
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
      WHERE f.refund_state != 'REFUNDED' AND f.date_created < @asOf GROUP BY 1
    UNION ALL
    SELECT COALESCE(o.currency, '?'), 'unbacked', count(*), sum(f.amount_minor) FROM exceptions e
      JOIN mirakl_refunds f ON f.id = substr(e.subject_key, 8)
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
      WHERE e.type = 'REFUND_WITHOUT_RECEIPT' AND e.detected_at < @asOf AND (e.resolved_at IS NULL OR e.resolved_at >= @asOf) GROUP BY 1`);

  return {
    /**
     * The money figures per currency as at `asOf` (ISO). `paidFrom` starts the window in which paid refunds are
     * summed (a report's period start; the dashboard's month so far): every other figure is a balance at `asOf`.
     */
    at(asOf: string, paidFrom: string): MoneyFigures[] {
      // Compared as text without the zone suffix, as the report's facts are: '…T00:00:00' sorts before both '…T00:00:00Z'
      // and '…T00:00:00.000Z' (stored timestamps come with and without milliseconds).
      const rows = statement.all({ asOf: asOf.slice(0, 19), from: paidFrom.slice(0, 19) }) as Row[];
      const byCurrency = new Map<string, MoneyFigures>();
      for (const r of rows) {
        const m = byCurrency.get(r.currency) ?? {
          currency: r.currency,
          receiptsNotRefunded: { count: 0, minor: 0 },
          requested: { count: 0, minor: 0 },
          awaitingPayment: { count: 0, minor: 0 },
          paid: { count: 0, minor: 0 },
          refundsWithoutReceipt: { count: 0, minor: 0 },
        };
        const figure = { receipts: m.receiptsNotRefunded, requested: m.requested, awaiting: m.awaitingPayment, paid: m.paid, unbacked: m.refundsWithoutReceipt }[r.figure];
        figure.count += r.n;
        figure.minor += r.amount ?? 0;
        byCurrency.set(r.currency, m);
      }
      return [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
    },
  };
}

export type MoneyFiguresRepo = ReturnType<typeof createMoneyFigures>;
