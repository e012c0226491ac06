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
  // Receipts not refunded, per order line: verified units (registered at the hub with the SKU sold, before the moment) at
  // the line's unit price, less everything Mirakl refunded on that line (any refund state, ours or not) dated before the
  // moment. This is the definition; `money_lines` (migration 0019) keeps the same three quantities per line as units and
  // refunds are written, so the figure at any moment after the latest of those facts is read from the lines that still
  // owe money alone (test/integration/money-lines.test.ts holds the two equal).
  const receiptsAt = `
    SELECT currency, 'receipts' AS figure, count(*) AS n, sum(expected - refunded) AS amount FROM (
      SELECT COALESCE(o.currency, '?') AS currency, v.verified * COALESCE(ol.price_unit_minor, 0) AS expected,
        COALESCE((SELECT sum(f.amount_minor) FROM mirakl_refunds f WHERE f.order_line_id = v.order_line_id AND f.date_created < @asOf), 0) AS refunded
      FROM (SELECT u.order_line_id, count(*) AS verified FROM units u WHERE ${arrived} AND u.registered_at < @asOf GROUP BY u.order_line_id) v
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = v.order_line_id
      LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    ) WHERE expected > refunded GROUP BY currency`;
  // The same figure from the kept lines; the condition is spelled as the partial index money_lines_owed is.
  const receiptsKept = `
    SELECT COALESCE(o.currency, '?') AS currency, 'receipts' AS figure, count(*) AS n, sum(m.verified * m.price_unit_minor - m.refunded_minor) AS amount
    FROM money_lines m
    LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = m.order_line_id
    LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    WHERE m.verified > 0 AND m.verified * m.price_unit_minor - m.refunded_minor > 0 GROUP BY 1`;
  // The other figures read what they sum through an index range: refunds awaiting payment through the partial index of
  // refunds not paid yet (`+` keeps SQLite from walking every refund by date instead).
  const others = `
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
      WHERE f.refund_state != 'REFUNDED' AND +f.date_created < @asOf GROUP BY 1
    UNION ALL
    SELECT COALESCE(o.currency, '?'), 'unbacked', count(*), sum(f.amount_minor) FROM exceptions e
      JOIN mirakl_refunds f ON f.id = substr(e.subject_key, 8)
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
      WHERE e.type = 'REFUND_WITHOUT_RECEIPT' AND e.detected_at < @asOf AND (e.resolved_at IS NULL OR e.resolved_at >= @asOf) GROUP BY 1`;
  const scanning = db.prepare(`${receiptsAt} UNION ALL ${others}`);
  const kept = db.prepare(`${receiptsKept} UNION ALL ${others}`);
  const latestFact = db.prepare('SELECT latest_at FROM money_facts WHERE id = 1').pluck();

  function figures(rows: Row[]): MoneyFigures[] {
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
  }
  // Compared as text without the zone suffix, as the report's facts are: '…T00:00:00' sorts before both '…T00:00:00Z'
  // and '…T00:00:00.000Z' (stored timestamps come with and without milliseconds).
  const paramsOf = (asOf: string, paidFrom: string) => ({ asOf: asOf.slice(0, 19), from: paidFrom.slice(0, 19) });

  return {
    /**
     * The money figures per currency as at `asOf` (ISO). `paidFrom` starts the window in which paid refunds are
     * summed (a report's period start; the dashboard's month so far): every other figure is a balance at `asOf`.
     */
    at(asOf: string, paidFrom: string): MoneyFigures[] {
      const params = paramsOf(asOf, paidFrom);
      // Every receipt and refund is dated before the moment (the dashboard's now, an open month's report) unless one is
      // dated at or after it: only then are the kept lines not the figure as at that moment.
      return figures(((latestFact.get() as string) < params.asOf ? kept : scanning).all(params) as Row[]);
    },
    /** How SQLite reads the receipts not refunded now (the bench prints it; a test holds it to the partial index). */
    planNow(): string[] {
      return (db.prepare(`EXPLAIN QUERY PLAN ${receiptsKept}`).all() as { detail: string }[]).map((r) => r.detail);
    },
    /** The same figures counted from the base tables whatever the moment: what the kept lines are checked (and timed) against. */
    atFromBaseTables(asOf: string, paidFrom: string): MoneyFigures[] {
      return figures(scanning.all(paramsOf(asOf, paidFrom)) as Row[]);
    },
  };
}

export type MoneyFiguresRepo = ReturnType<typeof createMoneyFigures>;
