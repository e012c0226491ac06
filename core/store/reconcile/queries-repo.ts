import type { Database, Statement } from 'better-sqlite3';
import type { z } from 'zod';
import type {
  ExceptionRow,
  Kpis,
  ReturnRow,
  exceptionsListInput,
  returnsListInput,
} from '../../contract/queries';
import { ageBuckets, driftFields, ownerTeams } from '../../contract/queries';
import { exceptionTypes, type ExceptionTypeName } from '../../exceptions/catalogue';
import type { Clock } from '../../ports';

// The grids' and dashboard's reads. Pages are sorted, filtered and cut by SQLite from whitelisted columns, with
// the return id (or exception id) as the tie-break so paging is stable; totals stop counting at `totalCap`, so a
// page never costs a count of a million rows.

export const totalCap = 10_000;

const returnSort: Record<z.output<typeof returnsListInput>['sort']['field'], string> = {
  dateCreated: 'date_created',
  returnId: 'return_id',
  commercialId: 'commercial_id',
  miraklState: 'mirakl_state',
  reboundStatus: 'rebound_status',
  refundStatus: 'refund_status',
  refundedMinor: 'refunded_minor',
  expectedRefundMinor: 'expected_refund_minor',
};

const exceptionSort: Record<z.output<typeof exceptionsListInput>['sort']['field'], string> = {
  detectedAt: 'detected_at',
  severity: 'severity_rank',
  type: 'type',
  owner: 'owner_team',
  slaDueAt: 'sla_due_at',
  updatedAt: 'updated_at',
};

const day = 86_400_000;
/** [from, to) ages in ms of each bucket. */
const bucketAges: Record<(typeof ageBuckets)[number], [number, number]> = {
  under_1d: [0, day],
  '1_3d': [day, 3 * day],
  '3_7d': [3 * day, 7 * day],
  over_7d: [7 * day, Number.POSITIVE_INFINITY],
};

export function ageBucketOf(ageMs: number): (typeof ageBuckets)[number] {
  return ageBuckets.find((b) => ageMs < bucketAges[b][1]) ?? 'over_7d';
}

interface ReturnDbRow {
  return_id: string;
  order_id: string;
  commercial_id: string;
  rma: string | null;
  date_created: string;
  currency: string | null;
  mirakl_state: string;
  mirakl_tracking: string | null;
  requested_units: number;
  rebound_order_id: string | null;
  rebound_status: string | null;
  rebound_tracking: string | null;
  units_arrived: number;
  units_missing: number;
  units_sellable: number;
  units_restocked: number;
  expected_refund_minor: number;
  refunded_minor: number;
  refund_status: ReturnRow['refundStatus'];
  drift: number;
  drift_fields: string;
  open_exceptions: number;
}

interface ExceptionDbRow {
  id: number;
  type: string;
  subject_key: string;
  severity: ExceptionRow['severity'];
  owner_team: ExceptionRow['owner'];
  assignee: string | null;
  state: ExceptionRow['state'];
  return_id: string | null;
  order_line_id: string | null;
  offer_sku: string | null;
  cause: string;
  next_action: string;
  detected_at: string;
  sla_due_at: string | null;
  snoozed_until: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
  notes: number;
}

function clauses() {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const add = (clause: string, name: string, value: unknown) => {
    where.push(clause);
    params[name] = value;
  };
  return { where, params, add };
}

export function createQueries(db: Database, clock: Clock) {
  const statements = new Map<string, Statement>();
  const q = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  function returnsWhere(filter: z.output<typeof returnsListInput>['filter']) {
    const { where, params, add } = clauses();
    if (filter.search !== undefined) {
      where.push(`return_id IN (SELECT id FROM mirakl_returns WHERE id = @search OR commercial_id = @search OR order_id = @search OR rma = @search
          OR tracking_number = @search
        UNION SELECT return_id FROM rebound_return_orders WHERE rebound_order_id = @search OR tracking_number = @search
        UNION SELECT rl.return_id FROM mirakl_order_lines ol JOIN mirakl_return_lines rl ON rl.order_line_id = ol.order_line_id
          WHERE ol.offer_sku = @search)`);
      params.search = filter.search;
    }
    if (filter.miraklState !== undefined) add('mirakl_state = @miraklState', 'miraklState', filter.miraklState);
    if (filter.reboundStatus !== undefined) add('rebound_status = @reboundStatus', 'reboundStatus', filter.reboundStatus);
    if (filter.refundStatus !== undefined) add('refund_status = @refundStatus', 'refundStatus', filter.refundStatus);
    if (filter.drift !== undefined) add('drift = @drift', 'drift', filter.drift ? 1 : 0);
    if (filter.createdFrom !== undefined) add('date_created >= @createdFrom', 'createdFrom', filter.createdFrom);
    if (filter.createdTo !== undefined) add('date_created < @createdTo', 'createdTo', filter.createdTo);
    return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  }

  function exceptionsWhere(filter: z.output<typeof exceptionsListInput>['filter']) {
    const now = clock.now();
    const { where, params, add } = clauses();
    const states = filter.states ?? ['open', 'in_review', 'snoozed'];
    where.push(`state IN (${states.map((_, i) => `@state${i}`).join(', ')})`);
    states.forEach((s, i) => (params[`state${i}`] = s));
    if (filter.type !== undefined) add('type = @type', 'type', filter.type);
    if (filter.owner !== undefined) add('owner_team = @owner', 'owner', filter.owner);
    if (filter.severity !== undefined) add('severity = @severity', 'severity', filter.severity);
    if (filter.assignee !== undefined) add('assignee = @assignee', 'assignee', filter.assignee);
    if (filter.unassigned) where.push('assignee IS NULL');
    if (filter.returnId !== undefined) add('return_id = @returnId', 'returnId', filter.returnId);
    if (filter.ageBucket !== undefined) {
      const [from, to] = bucketAges[filter.ageBucket];
      add('detected_at <= @detectedBefore', 'detectedBefore', iso(now - from));
      if (Number.isFinite(to)) add('detected_at > @detectedAfter', 'detectedAfter', iso(now - to));
    }
    return { sql: `WHERE ${where.join(' AND ')}`, params };
  }

  const countOf = (from: string, where: { sql: string; params: Record<string, unknown> }) => {
    const total = (q(`SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${where.sql} LIMIT ${totalCap + 1})`).get(where.params) as { n: number }).n;
    return { total: Math.min(total, totalCap), totalIsCapped: total > totalCap };
  };

  function returnsPage(input: z.output<typeof returnsListInput>) {
    const where = returnsWhere(input.filter);
    const dir = input.sort.direction === 'asc' ? 'ASC' : 'DESC';
    const sql = `SELECT r.*, (SELECT count(*) FROM exceptions e WHERE e.return_id = r.return_id AND e.state != 'resolved') AS open_exceptions
      FROM recon_returns r ${where.sql} ORDER BY ${returnSort[input.sort.field]} ${dir}, return_id ${dir} LIMIT @limit OFFSET @offset`;
    return { sql, params: { ...where.params, limit: input.page.limit, offset: input.page.offset }, where };
  }

  function exceptionsPage(input: z.output<typeof exceptionsListInput>) {
    const where = exceptionsWhere(input.filter);
    const dir = input.sort.direction === 'asc' ? 'ASC' : 'DESC';
    const sql = `SELECT e.*, (SELECT count(*) FROM exception_notes n WHERE n.exception_id = e.id) AS notes
      FROM exceptions e ${where.sql} ORDER BY ${exceptionSort[input.sort.field]} ${dir}, id ${dir} LIMIT @limit OFFSET @offset`;
    return { sql, params: { ...where.params, limit: input.page.limit, offset: input.page.offset }, where };
  }

  const planOf = (page: { sql: string; params: Record<string, unknown> }) =>
    (q(`EXPLAIN QUERY PLAN ${page.sql}`).all(page.params) as { detail: string }[]).map((r) => r.detail);

  return {
    listReturns(input: z.output<typeof returnsListInput>) {
      const page = returnsPage(input);
      const rows = q(page.sql).all(page.params) as ReturnDbRow[];
      return { rows: rows.map(toReturnRow), offset: input.page.offset, ...countOf('recon_returns', page.where) };
    },

    listExceptions(input: z.output<typeof exceptionsListInput>) {
      const now = clock.now();
      const page = exceptionsPage(input);
      const rows = q(page.sql).all(page.params) as ExceptionDbRow[];
      return { rows: rows.map((r) => toExceptionRow(r, now)), offset: input.page.offset, ...countOf('exceptions', page.where) };
    },

    /** SQLite's plan for a page (tests and the benchmark check that it uses indexes). */
    plan: {
      returns: (input: z.output<typeof returnsListInput>) => planOf(returnsPage(input)),
      exceptions: (input: z.output<typeof exceptionsListInput>) => planOf(exceptionsPage(input)),
    },

    getException(id: number): ExceptionRow | null {
      const row = q(`SELECT e.*, (SELECT count(*) FROM exception_notes n WHERE n.exception_id = e.id) AS notes FROM exceptions e WHERE id = ?`).get(id) as
        | ExceptionDbRow
        | undefined;
      if (!row) return null;
      const exceptionRow = toExceptionRow(row, clock.now());
      if (row.type !== 'MALFORMED_RECORD') return exceptionRow;
      // The record as it was sent: what a person needs to see to report it.
      const cut = row.subject_key.indexOf(':');
      const raw = q('SELECT raw FROM quarantined_records WHERE operation = ? AND record_key = ?').get(row.subject_key.slice(0, cut), row.subject_key.slice(cut + 1)) as
        | { raw: string }
        | undefined;
      return raw ? { ...exceptionRow, rawRecord: raw.raw } : exceptionRow;
    },

    kpis(): Kpis {
      const now = clock.now();
      const open = `state IN ('open', 'in_review', 'snoozed')`;
      const byType = q(`SELECT type, owner_team, count(*) AS n FROM exceptions WHERE ${open} GROUP BY type ORDER BY n DESC, type`).all() as {
        type: string;
        owner_team: string;
        n: number;
      }[];
      const byOwner = q(`SELECT owner_team, count(*) AS n, count(*) FILTER (WHERE severity = 'critical') AS critical FROM exceptions WHERE ${open} GROUP BY owner_team`).all() as {
        owner_team: string;
        n: number;
        critical: number;
      }[];
      const ageing = ageBuckets.map((bucket) => {
        const [from, to] = bucketAges[bucket];
        const n = (q(`SELECT count(*) AS n FROM exceptions WHERE ${open} AND detected_at <= @before AND detected_at > @after`).get({
          before: iso(now - from),
          after: Number.isFinite(to) ? iso(now - to) : '',
        }) as { n: number }).n;
        return { bucket, count: n };
      });
      const refundsPending = q(`SELECT json_extract(payload, '$.currency') AS currency, count(*) AS n, sum(json_extract(payload, '$.amountMinor')) AS amount
          FROM intents WHERE kind = 'mirakl.refund' AND state IN ('planned', 'sending', 'failed', 'uncertain') GROUP BY 1
        UNION ALL
        SELECT o.currency, count(*), sum(f.amount_minor) FROM mirakl_refunds f
          JOIN mirakl_order_lines l ON l.order_line_id = f.order_line_id JOIN mirakl_orders o ON o.order_id = l.order_id
          WHERE f.refund_state != 'REFUNDED' GROUP BY 1`).all() as { currency: string | null; n: number; amount: number }[];
      const pending = new Map<string, { currency: string; count: number; amountMinor: number }>();
      for (const r of refundsPending) {
        const key = r.currency ?? '?';
        const p = pending.get(key) ?? { currency: key, count: 0, amountMinor: 0 };
        p.count += r.n;
        p.amountMinor += r.amount ?? 0;
        pending.set(key, p);
      }
      const receipts = q(`SELECT COALESCE(currency, '?') AS currency, sum(max(expected_refund_minor - refunded_minor, 0)) AS amount
        FROM recon_returns WHERE refund_status IN ('pending', 'partial') GROUP BY 1`).all() as { currency: string; amount: number }[];
      const unexplained = q(`SELECT COALESCE(o.currency, '?') AS currency, sum(f.amount_minor) AS amount FROM exceptions e
        JOIN mirakl_refunds f ON f.id = substr(e.subject_key, 8)
        LEFT JOIN mirakl_order_lines l ON l.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = l.order_id
        WHERE e.type = 'REFUND_WITHOUT_RECEIPT' AND e.${open} GROUP BY 1`).all() as { currency: string; amount: number }[];
      const currencies = [...new Set([...receipts, ...unexplained].map((r) => r.currency))].sort();
      const returns = q(`SELECT (SELECT count(*) FROM recon_returns) AS total, (SELECT count(*) FROM recon_returns WHERE drift = 1) AS drifting,
        (SELECT count(*) FROM recon_returns WHERE refund_status IN ('pending', 'partial')) AS awaiting`).get() as { total: number; drifting: number; awaiting: number };
      const feeds = q('SELECT feed, label, cadence_seconds, last_success_at, last_error FROM feeds ORDER BY feed').all() as {
        feed: string;
        label: string;
        cadence_seconds: number;
        last_success_at: string | null;
        last_error: string | null;
      }[];
      return {
        at: iso(now),
        openByType: byType.map((r) => ({
          type: r.type,
          title: titleOf(r.type),
          owner: asOwner(r.owner_team),
          count: r.n,
        })),
        openByOwner: ownerTeams.map((owner) => {
          const r = byOwner.find((o) => o.owner_team === owner);
          return { owner, count: r?.n ?? 0, critical: r?.critical ?? 0 };
        }),
        ageing,
        refundsPending: [...pending.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
        moneyAtRisk: currencies.map((currency) => ({
          currency,
          receiptsNotRefundedMinor: receipts.find((r) => r.currency === currency)?.amount ?? 0,
          refundsWithoutReceiptMinor: unexplained.find((r) => r.currency === currency)?.amount ?? 0,
        })),
        returns: { total: returns.total, drifting: returns.drifting, awaitingRefund: returns.awaiting },
        freshness: feeds.map((f) => {
          const age = f.last_success_at ? Math.max(0, Math.round((now - Date.parse(f.last_success_at)) / 1000)) : null;
          return {
            feed: f.feed,
            label: f.label,
            lastSuccessAt: f.last_success_at,
            ageSeconds: age,
            lastError: f.last_error,
            // A feed is stale once it has missed three of its runs (or has never succeeded).
            isStale: age === null || age > 3 * Math.max(f.cadence_seconds, 60),
          };
        }),
      };
    },
  };
}

export type Queries = ReturnType<typeof createQueries>;

function toReturnRow(r: ReturnDbRow): ReturnRow {
  return {
    returnId: r.return_id,
    orderId: r.order_id,
    commercialId: r.commercial_id,
    rma: r.rma,
    dateCreated: r.date_created,
    currency: r.currency,
    mirakl: { state: r.mirakl_state, trackingNumber: r.mirakl_tracking, requestedUnits: r.requested_units },
    rebound: {
      orderId: r.rebound_order_id,
      status: r.rebound_status,
      trackingNumber: r.rebound_tracking,
      unitsArrived: r.units_arrived,
      unitsMissing: r.units_missing,
      unitsSellable: r.units_sellable,
    },
    unitsRestocked: r.units_restocked,
    expectedRefundMinor: r.expected_refund_minor,
    refundedMinor: r.refunded_minor,
    refundStatus: r.refund_status,
    drift: r.drift === 1,
    driftFields: r.drift_fields ? r.drift_fields.split(',').filter((f): f is (typeof driftFields)[number] => (driftFields as readonly string[]).includes(f)) : [],
    openExceptions: r.open_exceptions,
  };
}

function toExceptionRow(r: ExceptionDbRow, now: number): ExceptionRow {
  return {
    id: r.id,
    type: r.type,
    title: titleOf(r.type),
    subjectKey: r.subject_key,
    severity: r.severity,
    owner: r.owner_team,
    assignee: r.assignee,
    state: r.state,
    returnId: r.return_id,
    orderLineId: r.order_line_id,
    offerSku: r.offer_sku,
    cause: r.cause,
    nextAction: r.next_action,
    detectedAt: r.detected_at,
    slaDueAt: r.sla_due_at,
    ageBucket: ageBucketOf(now - Date.parse(r.detected_at)),
    snoozedUntil: r.snoozed_until,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    notes: r.notes,
  };
}

function titleOf(type: string): string {
  return Object.prototype.hasOwnProperty.call(exceptionTypes, type) ? exceptionTypes[type as ExceptionTypeName].title : type;
}

function asOwner(owner: string): (typeof ownerTeams)[number] {
  return (ownerTeams as readonly string[]).includes(owner) ? (owner as (typeof ownerTeams)[number]) : 'ops';
}
