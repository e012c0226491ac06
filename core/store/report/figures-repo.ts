import type { Database } from 'better-sqlite3';

// The figures of one period's report, summed and counted in SQL over the facts in the temp tables
// (core/store/report/facts.ts, built for the period in the same transaction); money per currency on integer minor
// units. core/report/build.ts assembles them into the report.

export function createReportFigures(db: Database) {
  const q = <T>(sql: string) => {
    const s = db.prepare(sql);
    return { all: (params: Record<string, unknown> = {}) => s.all(params) as T[], get: (params: Record<string, unknown> = {}) => s.get(params) as T };
  };
  const returns = q<{ opened: number; received: number; refunded: number; closed: number }>(
    `SELECT COALESCE(sum(opened), 0) AS opened, count(received_at) AS received, COALESCE(sum(refunded), 0) AS refunded, count(closed_at) AS closed FROM temp.rp_returns`,
  );
  const units = q<{ verified: number; restocked: number; awaiting: number }>(`SELECT
      (SELECT COALESCE(sum(verified_in_period), 0) FROM temp.rp_lines) AS verified,
      (SELECT count(*) FROM temp.rp_stock WHERE category = 'restored') AS restocked,
      (SELECT count(*) FROM temp.rp_stock WHERE category = 'awaiting') AS awaiting`);
  const refundMoney = q<{ currency: string; n: number; amount: number; shipping: number; backed_n: number; backed: number }>(`SELECT currency, count(*) AS n,
      sum(amount_minor) AS amount, sum(shipping_minor) AS shipping, count(*) FILTER (WHERE verified_units > 0) AS backed_n,
      COALESCE(sum(amount_minor) FILTER (WHERE verified_units > 0), 0) AS backed
    FROM temp.rp_refunds GROUP BY currency`);
  const expectedMoney = q<{ currency: string; expected: number; refunded: number }>(`SELECT currency, sum(expected_minor) AS expected, sum(refunded_minor) AS refunded
    FROM temp.rp_lines WHERE refunds_in_period > 0 GROUP BY currency`);
  const accrualMoney = q<{ currency: string; n: number; amount: number }>(`SELECT currency, count(*) AS n, sum(expected_minor - refunded_minor) AS amount
    FROM temp.rp_lines WHERE expected_minor > refunded_minor GROUP BY currency`);
  const byMiraklReason = q<{ reason: string; refund_reason: string; currency: string; n: number; amount: number }>(`SELECT
      COALESCE(return_reason, '(no return line)') AS reason, reason_code AS refund_reason, currency, count(*) AS n, sum(amount_minor) AS amount
    FROM temp.rp_refunds GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
  const byReboundReason = q<{ reason: string; currency: string; n: number; amount: number }>(`SELECT
      COALESCE(rebound_reason, CASE WHEN return_id IS NULL THEN '(no return)' ELSE '(not in ReBound)' END) AS reason, currency, count(*) AS n,
      sum(amount_minor) AS amount
    FROM temp.rp_refunds GROUP BY 1, 2 ORDER BY 1, 2`);
  const unbacked = q<{
    id: string;
    order_id: string | null;
    order_line_id: string;
    return_id: string | null;
    link: string;
    date_created: string;
    currency: string;
    amount_minor: number;
    refund_state: string;
    reason_code: string;
    made_by_app: number;
    override: string | null;
    exception_id: number | null;
  }>(`SELECT r.*, (SELECT max(e.id) FROM exceptions e WHERE e.type = 'REFUND_WITHOUT_RECEIPT' AND e.subject_key = 'refund:' || r.id) AS exception_id
    FROM temp.rp_refunds r WHERE verified_units = 0 ORDER BY date_created, id`);
  const accrual = q<{
    order_line_id: string;
    order_id: string | null;
    return_id: string | null;
    offer_sku: string | null;
    first_verified_at: string | null;
    verified: number;
    currency: string;
    expected_minor: number;
    refunded_minor: number;
  }>(`SELECT * FROM temp.rp_lines WHERE expected_minor > refunded_minor ORDER BY first_verified_at, order_line_id`);
  const stock = q<{ offer_sku: string; restored: number; awaiting: number; rejected: number; skipped: number }>(`SELECT offer_sku,
      count(*) FILTER (WHERE category = 'restored') AS restored, count(*) FILTER (WHERE category = 'awaiting') AS awaiting,
      count(*) FILTER (WHERE category = 'rejected') AS rejected, count(*) FILTER (WHERE category = 'skipped') AS skipped
    FROM temp.rp_stock GROUP BY offer_sku ORDER BY offer_sku`);
  const exceptions = q<{
    id: number;
    type: string;
    severity: string;
    owner_team: string;
    assignee: string | null;
    state: string;
    return_id: string | null;
    subject_key: string;
    detected_at: string;
    sla_due_at: string | null;
    cause: string;
  }>(`SELECT * FROM temp.rp_exceptions
    ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, detected_at, id`);
  const variances = q<{
    order_line_id: string;
    order_id: string | null;
    return_id: string | null;
    currency: string;
    verified: number;
    expected_minor: number;
    refunded_minor: number;
  }>(`SELECT * FROM temp.rp_lines WHERE refunds_in_period > 0 AND abs(refunded_minor - expected_minor) > @tolerance ORDER BY order_line_id`);
  const unlinked = q<{ n: number }>(`SELECT count(*) AS n FROM temp.rp_refunds WHERE link NOT IN ('exact', 'confirmed')`);
  const feeds = q<{ feeds: number; oldest: string | null }>(`SELECT count(*) AS feeds, min(COALESCE(last_success_at, '')) AS oldest FROM feeds`);

  return { returns, units, refundMoney, expectedMoney, accrualMoney, byMiraklReason, byReboundReason, unbacked, accrual, stock, exceptions, variances, unlinked, feeds };
}
