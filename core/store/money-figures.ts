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
  // moment. This is the definition; `money_lines` (migration 0020) keeps the same three quantities per line as units and
  // refunds are written, so the figure at a moment is read from the lines that still owe money, corrected by the few
  // facts dated after it (test/integration/money-lines.test.ts holds the two equal).
  const receiptsAt = `
    SELECT currency, 'receipts' AS figure, count(*) AS n, sum(expected - refunded) AS amount FROM (
      SELECT COALESCE(o.currency, '?') AS currency, v.verified * COALESCE(ol.price_unit_minor, 0) AS expected,
        COALESCE((SELECT sum(f.amount_minor) FROM mirakl_refunds f WHERE f.order_line_id = v.order_line_id AND f.date_created < @asOf), 0) AS refunded
      FROM (SELECT u.order_line_id, count(*) AS verified FROM units u WHERE ${arrived} AND u.registered_at < @asOf GROUP BY u.order_line_id) v
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = v.order_line_id
      LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    ) WHERE expected > refunded GROUP BY currency`;
  // The same figure from the kept lines, which hold every fact whatever its date: the lines no fact dated at or after
  // the moment touched are read as kept, through the partial index (its condition spelled as the index spells it); the
  // few such facts (a refund Mirakl's clock dated seconds ahead of ours; a month of them for a closed month's report)
  // are counted from the base tables and taken off their lines, which are then judged again.
  const later = `later AS MATERIALIZED (
      SELECT order_line_id, sum(verified) AS verified, sum(refunded) AS refunded FROM (
        SELECT u.order_line_id, 1 AS verified, 0 AS refunded FROM units u WHERE ${arrived} AND u.registered_at >= @asOf
        UNION ALL
        SELECT f.order_line_id, 0, f.amount_minor FROM mirakl_refunds f WHERE f.date_created >= @asOf
      ) GROUP BY order_line_id)`;
  const receiptsKept = `
    SELECT COALESCE(o.currency, '?') AS currency, 'receipts' AS figure, count(*) AS n, sum(m.verified * m.price_unit_minor - m.refunded_minor) AS amount
    FROM money_lines m
    LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = m.order_line_id
    LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    WHERE m.verified > 0 AND m.verified * m.price_unit_minor - m.refunded_minor > 0 AND m.order_line_id NOT IN (SELECT order_line_id FROM later) GROUP BY 1
    UNION ALL
    SELECT COALESCE(o.currency, '?'), 'receipts', count(*), sum((m.verified - l.verified) * m.price_unit_minor - (m.refunded_minor - l.refunded))
    FROM later l JOIN money_lines m ON m.order_line_id = l.order_line_id
    LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = m.order_line_id
    LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
    WHERE m.verified - l.verified > 0 AND (m.verified - l.verified) * m.price_unit_minor - (m.refunded_minor - l.refunded) > 0 GROUP BY 1`;
  // Paid, by definition: the refunds Mirakl shows REFUNDED dated in [from, asOf), per currency (paidAt). Kept: every UTC
  // day strictly between the two ends' days from money_paid_days, the first and last day from the refunds themselves
  // through their index by date. A day is the first ten characters of a
  // date, so a refund whose day lies strictly between those of the two ends lies between the two ends, whatever
  // follows; @fromNext (the day after @from's) bounds the first day's range, every date of that day sorting before it.
  const paidOfRefunds = (range: string, state = 'f.refund_state') => `
    SELECT COALESCE(o.currency, '?'), 'paid', count(*), sum(f.amount_minor)
      FROM mirakl_refunds f
      LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
      WHERE ${state} = 'REFUNDED' AND ${range} AND f.date_created >= @from AND f.date_created < @asOf GROUP BY 1`;
  // `+`: else SQLite walks every paid refund through the index on refund_state (an equality looks cheaper to it than
  // a day's range of dates) rather than the day through mirakl_refunds_paid.
  const byDate = '+f.refund_state';
  const paidKept = `
    SELECT currency, 'paid', sum(refunds), sum(amount_minor) FROM money_paid_days
      WHERE day > @fromDay AND day < @asOfDay GROUP BY 1 HAVING sum(refunds) > 0
    UNION ALL ${paidOfRefunds('f.date_created < @fromNext AND substr(f.date_created, 1, 10) <= @fromDay', byDate)}
    UNION ALL ${paidOfRefunds('f.date_created >= @asOfDay AND f.date_created >= @fromNext AND substr(f.date_created, 1, 10) >= @asOfDay', byDate)}`;
  const paidAt = paidOfRefunds('true');
  // The other figures read what they sum through an index range: refunds awaiting payment through the partial index of
  // refunds not paid yet (`+` keeps SQLite from walking every refund by date instead).
  const others = `
    SELECT COALESCE(json_extract(i.payload, '$.currency'), '?'), 'requested', count(*), COALESCE(sum(json_extract(i.payload, '$.amountMinor')), 0)
      FROM intents i WHERE i.kind = 'mirakl.refund' AND i.state IN ('planned', 'sending', 'uncertain') AND i.created_at < @asOf GROUP BY 1
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
  const scanning = db.prepare(`${receiptsAt} UNION ALL ${paidAt} UNION ALL ${others}`);
  const keptSql = `WITH ${later} ${receiptsKept} UNION ALL ${paidKept} UNION ALL ${others}`;
  const kept = db.prepare(keptSql);

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
  // The kept path also needs the two ends' days and the day after the first.
  function keptParamsOf(asOf: string, paidFrom: string) {
    const fromDayMs = Date.parse(`${paidFrom.slice(0, 10)}T00:00:00Z`);
    if (Number.isNaN(fromDayMs) || Number.isNaN(Date.parse(asOf))) {
      throw new Error(`money figures: the moment (${JSON.stringify(asOf)}) and the start of the paid period (${JSON.stringify(paidFrom)}) must be ISO dates`);
    }
    return { ...paramsOf(asOf, paidFrom), fromDay: paidFrom.slice(0, 10), asOfDay: asOf.slice(0, 10), fromNext: new Date(fromDayMs + 86_400_000).toISOString().slice(0, 10) };
  }

  return {
    /**
     * The money figures per currency as at `asOf` (ISO). `paidFrom` starts the window in which paid refunds are
     * summed (a report's period start; the dashboard's month so far): every other figure is a balance at `asOf`.
     */
    at(asOf: string, paidFrom: string): MoneyFigures[] {
      return figures(kept.all(keptParamsOf(asOf, paidFrom)) as Row[]);
    },
    /** How SQLite reads the figures as at a moment (the bench prints it; a test holds it to the indexes). */
    planAt(asOf: string, paidFrom: string): string[] {
      return (db.prepare(`EXPLAIN QUERY PLAN ${keptSql}`).all(keptParamsOf(asOf, paidFrom)) as { detail: string }[]).map((r) => r.detail);
    },
    /** The same figures counted from the base tables whatever the moment: what the kept lines are checked (and timed) against. */
    atFromBaseTables(asOf: string, paidFrom: string): MoneyFigures[] {
      return figures(scanning.all(paramsOf(asOf, paidFrom)) as Row[]);
    },
  };
}

/**
 * Fills the kept money (money_lines, money_paid_days) of database `schema` from its own units, refunds and orders: the
 * evidence bundle's snapshot copies the period's rows but not what the triggers kept from every row, and its figures
 * are read the same way as the app's. The same sums migration 0020 backfilled with; the triggers keep them from then.
 */
export function refillKeptMoney(db: Database, schema: string): Record<'money_lines' | 'money_paid_days', number> {
  const refill = keptMoneyRefill(schema);
  db.exec(refill.clear);
  return { money_lines: db.prepare(refill.lines).run().changes, money_paid_days: db.prepare(refill.days).run().changes };
}

/**
 * The statements of refillKeptMoney. The snapshot has its tables' keys but none of their other indexes (they are
 * built on the viewer's copy), so each table is read once and grouped, never looked up per order line: a look-up by
 * order line there would read the whole table for every line (a 100,000-return month never finished its bundle).
 */
export function keptMoneyRefill(schema: string): { clear: string; lines: string; days: string } {
  if (!/^[a-z_]+$/.test(schema)) throw new Error(`refillKeptMoney: schema must be a plain name, got ${JSON.stringify(schema)}`);
  const s = schema;
  return {
    clear: `DELETE FROM ${s}.money_lines; DELETE FROM ${s}.money_paid_days;`,
    // Every order line with a unit registered at the hub or a refund: its verified units, its price, everything
    // refunded on it (any state).
    lines: `INSERT INTO ${s}.money_lines (order_line_id, verified, price_unit_minor, refunded_minor)
      SELECT k.order_line_id, sum(k.verified), COALESCE(ol.price_unit_minor, 0), sum(k.refunded)
      FROM (
        SELECT u.order_line_id, count(*) FILTER (WHERE ${arrived}) AS verified, 0 AS refunded
        FROM ${s}.units u WHERE u.registered_at IS NOT NULL GROUP BY u.order_line_id
        UNION ALL
        SELECT f.order_line_id, 0, sum(f.amount_minor) FROM ${s}.mirakl_refunds f GROUP BY f.order_line_id
      ) k
      LEFT JOIN ${s}.mirakl_order_lines ol ON ol.order_line_id = k.order_line_id
      GROUP BY k.order_line_id`,
    days: `INSERT INTO ${s}.money_paid_days (currency, day, refunds, amount_minor)
      SELECT COALESCE(o.currency, '?'), substr(f.date_created, 1, 10), count(*), sum(f.amount_minor)
      FROM ${s}.mirakl_refunds f
      LEFT JOIN ${s}.mirakl_order_lines ol ON ol.order_line_id = f.order_line_id
      LEFT JOIN ${s}.mirakl_orders o ON o.order_id = ol.order_id
      WHERE f.refund_state = 'REFUNDED' GROUP BY 1, 2`,
  };
}

export type MoneyFiguresRepo = ReturnType<typeof createMoneyFigures>;
