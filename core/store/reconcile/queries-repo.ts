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
import { createMoneyFigures } from '../money-figures';

// The grids' and dashboard's reads. Pages are sorted, filtered and cut by SQLite from whitelisted columns, with
// the return id (or exception id) as the tie-break so paging is stable; totals stop counting at `totalCap`, so a
// page never costs a count of a million rows.
//
// A page of returns is read in two steps. Its keys come from the indexes that hold the filter and the order: the
// returns' own (date, state, order id) for most, the narrow recon_verdicts' partial indexes for refunds owed and
// drift — each keeps the return's date, so either can be read newest first without a sort. Then the hundred rows of
// the recon_returns view (the base tables side by side, plus the verdict) are read by key.

export const totalCap = 10_000;

type ReturnSortField = z.output<typeof returnsListInput>['sort']['field'];
type ReturnFilter = z.output<typeof returnsListInput>['filter'];

/** The refund statuses recon_verdicts_owed indexes (its WHERE, repeated verbatim so SQLite sees the index applies). */
const owedStatuses = `v.refund_status IN ('pending', 'partial', 'over')`;
const isOwed = (status: string | undefined) => status === 'pending' || status === 'partial' || status === 'over';

/**
 * The expression each sort field orders the keys by. `d` is the table whose index gives the date order (the verdict
 * when a filter reads its partial index, the return otherwise); verdict columns of a return not judged yet read as
 * the view shows them.
 */
const returnSort = (field: ReturnSortField, d: 'r' | 'v'): string =>
  ({
    dateCreated: `${d}.date_created`,
    returnId: 'r.id',
    commercialId: 'r.commercial_id',
    miraklState: 'r.state',
    reboundStatus: 'ro.status',
    refundStatus: `COALESCE(v.refund_status, 'none')`,
    refundedMinor: 'COALESCE(v.refunded_minor, 0)',
    expectedRefundMinor: 'COALESCE(v.expected_refund_minor, 0)',
  })[field];

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
  customer_name: string | null;
  customer_email: string | null;
}

interface ExceptionDbRow {
  id: number;
  type: string;
  subject_key: string;
  order_commercial_id?: string | null;
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

/** The order id a customer quotes (Mirakl's commercial id) of an exception's return: the CS queue shows it. */
const orderOfException = `(SELECT r.commercial_id FROM mirakl_returns r WHERE r.id = e.return_id) AS order_commercial_id`;

export function createQueries(db: Database, clock: Clock) {
  const moneyFigures = createMoneyFigures(db);
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

  /** FROM … WHERE … of a page's keys: `d` is the table whose date index orders them. */
  function returnsKeys(filter: ReturnFilter, sortField: ReturnSortField) {
    const { where, params, add } = clauses();
    // The verdict's partial indexes drive the page when it filters on what only they hold; otherwise the return does.
    const d = isOwed(filter.refundStatus) || filter.drift === true ? 'v' : 'r';
    const needsVerdict = d === 'v' || filter.refundStatus !== undefined || filter.drift !== undefined || ['refundStatus', 'refundedMinor', 'expectedRefundMinor'].includes(sortField);
    const needsRebound = filter.reboundStatus !== undefined || sortField === 'reboundStatus';
    if (filter.search !== undefined) {
      // Exact ids by their own indexes (any length), and — from three characters — any part of an id, SKU or customer
      // name, in any case, by the trigram index over return_search_terms (migration 0017).
      const exact = `SELECT id FROM mirakl_returns WHERE id = @search OR commercial_id = @search OR order_id = @search OR rma = @search
          OR tracking_number = @search
        UNION SELECT return_id FROM rebound_return_orders WHERE rebound_order_id = @search OR tracking_number = @search
        UNION SELECT rl.return_id FROM mirakl_order_lines ol JOIN mirakl_return_lines rl ON rl.order_line_id = ol.order_line_id
          WHERE ol.offer_sku = @search`;
      const partial = [...filter.search].length >= 3
        ? ` UNION SELECT t.return_id FROM return_search s CROSS JOIN return_search_terms t ON t.id = s.rowid WHERE return_search MATCH @phrase`
        : '';
      where.push(`r.id IN (${exact}${partial})`);
      params.search = filter.search;
      // One phrase: the text as typed, quotes doubled, so nothing in it is read as FTS syntax.
      if (partial) params.phrase = `"${filter.search.replaceAll('"', '""')}"`;
    }
    if (filter.miraklState !== undefined) add('r.state = @miraklState', 'miraklState', filter.miraklState);
    if (filter.reboundStatus !== undefined) add('ro.status = @reboundStatus', 'reboundStatus', filter.reboundStatus);
    if (filter.refundStatus !== undefined) {
      // An enum value (zod), written into the SQL so SQLite can prove the partial index applies.
      where.push(isOwed(filter.refundStatus) ? `${owedStatuses} AND v.refund_status = '${filter.refundStatus}'` : `COALESCE(v.refund_status, 'none') = '${filter.refundStatus}'`);
    }
    if (filter.drift === true) where.push('v.drift != 0');
    if (filter.drift === false) where.push('COALESCE(v.drift, 0) = 0');
    if (filter.createdFrom !== undefined) add(`${d}.date_created >= @createdFrom`, 'createdFrom', filter.createdFrom);
    if (filter.createdTo !== undefined) add(`${d}.date_created < @createdTo`, 'createdTo', filter.createdTo);
    // Read from the verdict's index alone when nothing else is filtered or sorted on (the return's key is in it).
    const needsReturn = d === 'r' || filter.search !== undefined || filter.miraklState !== undefined || needsRebound || ['returnId', 'commercialId', 'miraklState'].includes(sortField);
    const from =
      d === 'v'
        ? `recon_verdicts v${needsReturn ? ' CROSS JOIN mirakl_returns r ON r.id = v.return_id' : ''}`
        : `mirakl_returns r${needsVerdict ? ' LEFT JOIN recon_verdicts v ON v.return_id = r.id' : ''}`;
    const rebound = needsRebound ? ` ${filter.reboundStatus !== undefined ? 'JOIN' : 'LEFT JOIN'} rebound_return_orders ro ON ro.return_id = ${d === 'v' ? 'v.return_id' : 'r.id'}` : '';
    const key = needsReturn ? 'r.id' : 'v.return_id';
    return { from: from + rebound, sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params, d: d as 'r' | 'v', key };
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
    const keys = returnsKeys(input.filter, input.sort.field);
    const dir = input.sort.direction === 'asc' ? 'ASC' : 'DESC';
    const tie = keys.d === 'v' && input.sort.field === 'dateCreated' ? 'v.return_id' : keys.key;
    const sql = `SELECT ${keys.key} AS id FROM ${keys.from} ${keys.sql}
      ORDER BY ${returnSort(input.sort.field, keys.d)} ${dir}, ${tie} ${dir} LIMIT @limit OFFSET @offset`;
    return { sql, params: { ...keys.params, limit: input.page.limit, offset: input.page.offset }, where: { sql: keys.sql, params: keys.params }, from: keys.from };
  }

  const rowsOf = `SELECT rr.*, (SELECT count(*) FROM exceptions e WHERE e.return_id = rr.return_id AND e.state != 'resolved') AS open_exceptions,
      o.customer_name, o.customer_email
    FROM recon_returns rr LEFT JOIN mirakl_orders o ON o.order_id = rr.order_id WHERE rr.return_id IN (SELECT value FROM json_each(@ids))`;

  function exceptionsPage(input: z.output<typeof exceptionsListInput>) {
    const where = exceptionsWhere(input.filter);
    const dir = input.sort.direction === 'asc' ? 'ASC' : 'DESC';
    const sql = `SELECT e.*, (SELECT count(*) FROM exception_notes n WHERE n.exception_id = e.id) AS notes, ${orderOfException}
      FROM exceptions e ${where.sql} ORDER BY ${exceptionSort[input.sort.field]} ${dir}, id ${dir} LIMIT @limit OFFSET @offset`;
    return { sql, params: { ...where.params, limit: input.page.limit, offset: input.page.offset }, where };
  }

  const planOf = (page: { sql: string; params: Record<string, unknown> }) =>
    (q(`EXPLAIN QUERY PLAN ${page.sql}`).all(page.params) as { detail: string }[]).map((r) => r.detail);
  const returnRowsPlan = () => planOf({ sql: rowsOf, params: { ids: '[]' } });

  return {
    listReturns(input: z.output<typeof returnsListInput>) {
      const page = returnsPage(input);
      const ids = (q(page.sql).pluck().all(page.params) as string[]);
      const byId = new Map((ids.length ? (q(rowsOf).all({ ids: JSON.stringify(ids) }) as ReturnDbRow[]) : []).map((r) => [r.return_id, r]));
      const rows = ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [toReturnRow(row)] : [];
      });
      return { rows, offset: input.page.offset, ...countOf(page.from, page.where) };
    },

    listExceptions(input: z.output<typeof exceptionsListInput>) {
      const now = clock.now();
      const page = exceptionsPage(input);
      const rows = q(page.sql).all(page.params) as ExceptionDbRow[];
      return { rows: rows.map((r) => toExceptionRow(r, now)), offset: input.page.offset, ...countOf('exceptions', page.where) };
    },

    /** SQLite's plan for a page (tests and the benchmark check that it uses indexes). */
    plan: {
      /** The keys' plan, then the rows' (read by key). */
      returns: (input: z.output<typeof returnsListInput>) => [...planOf(returnsPage(input)), ...returnRowsPlan()],
      exceptions: (input: z.output<typeof exceptionsListInput>) => planOf(exceptionsPage(input)),
    },

    getException(id: number): ExceptionRow | null {
      const row = q(`SELECT e.*, (SELECT count(*) FROM exception_notes n WHERE n.exception_id = e.id) AS notes, ${orderOfException} FROM exceptions e WHERE id = ?`).get(id) as
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

    /**
     * The dashboard's figures now, or — for an evidence bundle — as at its report's moment (`asOf`), with paid refunds
     * summed from `paidFrom` (the report's period start; by default the start of the month).
     */
    kpis(options: { asOf?: number; paidFrom?: string } = {}): Kpis {
      const now = options.asOf ?? clock.now();
      const asOf = iso(now);
      // Live, an exception is open by its state; as at a past moment, by when it was raised and resolved (the report's rule).
      const open =
        options.asOf === undefined ? `state IN ('open', 'in_review', 'snoozed')` : `detected_at < '${asOf}' AND (resolved_at IS NULL OR resolved_at >= '${asOf}')`;
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
      const money = moneyFigures.at(asOf, options.paidFrom ?? `${asOf.slice(0, 7)}-01T00:00:00.000Z`);
      const awaiting = `${owedStatuses} AND v.refund_status IN ('pending', 'partial')`;
      const returns = q(`SELECT (SELECT count(*) FROM mirakl_returns) AS total, (SELECT count(*) FROM recon_verdicts v WHERE v.drift != 0) AS drifting,
        (SELECT count(*) FROM recon_verdicts v WHERE ${awaiting}) AS awaiting`).get() as { total: number; drifting: number; awaiting: number };
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
        money,
        refundsPending: money
          .filter((m) => m.requested.count + m.awaitingPayment.count > 0)
          .map((m) => ({ currency: m.currency, count: m.requested.count + m.awaitingPayment.count, amountMinor: m.requested.minor + m.awaitingPayment.minor })),
        moneyAtRisk: money
          .filter((m) => m.receiptsNotRefunded.minor !== 0 || m.refundsWithoutReceipt.minor !== 0)
          .map((m) => ({ currency: m.currency, receiptsNotRefundedMinor: m.receiptsNotRefunded.minor, refundsWithoutReceiptMinor: m.refundsWithoutReceipt.minor })),
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
    customer: maskName(r.customer_name),
    customerEmail: maskEmail(r.customer_email),
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
    orderId: r.order_commercial_id ?? null,
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

/**
 * A customer's name as the grid shows it: each word's first letter, the rest starred ("Zoë Hartley-Smith" → "Z** H************"),
 * enough for a CS lead to check they have the right person without the grid showing who it is.
 */
export function maskName(name: string | null): string | null {
  if (!name || !name.trim()) return null;
  return name
    .trim()
    .split(/\s+/)
    .map((word) => {
      const [first = '', ...rest] = [...word];
      return first + '*'.repeat(rest.length);
    })
    .join(' ');
}

/**
 * An email as the grid shows it: the first two characters of the mailbox and its domain ("no**…@notification.mirakl.net"):
 * a CS lead pastes the whole address to search, and sees only enough to check it is the one.
 */
export function maskEmail(email: string | null): string | null {
  const at = email?.lastIndexOf('@') ?? -1;
  if (!email || at < 1) return null;
  return `${[...email.slice(0, at)].slice(0, 2).join('')}**…${email.slice(at)}`;
}

function titleOf(type: string): string {
  return Object.prototype.hasOwnProperty.call(exceptionTypes, type) ? exceptionTypes[type as ExceptionTypeName].title : type;
}

function asOwner(owner: string): (typeof ownerTeams)[number] {
  return (ownerTeams as readonly string[]).includes(owner) ? (owner as (typeof ownerTeams)[number]) : 'ops';
}
