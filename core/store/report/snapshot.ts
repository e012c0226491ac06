import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Period } from '../../report/period';
import { refillKeptMoney } from '../money-figures';

// The period's data for an evidence bundle: a separate SQLite file with the app's tables and only the rows the report rests on — the returns it counts with their lines, orders, ReBound records, units,
// stock increments, intents, exceptions and every refund of their order lines — so the same report can be computed
// again from it. The rows are copied through ATTACH inside the report's own transaction, so the snapshot and the
// report describe the same moment. The bundle's manifest keeps a hash of every database page: when the file no
// longer matches, the changed pages say which tables, and which rows of them, were edited.

/**
 * Which rows of each table belong to the period, as the FROM … WHERE … of a SELECT over alias `t` (temp.sn_* and
 * temp.rp_* are filled first). Each source is driven by the small key set, so a year-long database is never scanned;
 * a table with several sources gets the union of them. Tables not listed are copied empty.
 */
export const snapshotRowSources: Record<string, string[]> = {
  schema_migrations: ['main.schema_migrations t'],
  feeds: ['main.feeds t'],
  mirakl_returns: ['temp.sn_returns s CROSS JOIN main.mirakl_returns t ON t.id = s.id'],
  mirakl_return_lines: ['temp.sn_returns s CROSS JOIN main.mirakl_return_lines t ON t.return_id = s.id'],
  mirakl_return_states: ['temp.sn_returns s CROSS JOIN main.mirakl_return_states t ON t.return_id = s.id'],
  mirakl_orders: ['temp.sn_orders s CROSS JOIN main.mirakl_orders t ON t.order_id = s.id'],
  mirakl_order_lines: ['temp.sn_orders s CROSS JOIN main.mirakl_order_lines t ON t.order_id = s.id'],
  mirakl_refunds: ['temp.sn_lines s CROSS JOIN main.mirakl_refunds t ON t.order_line_id = s.id'],
  return_intake: ['temp.sn_returns s CROSS JOIN main.return_intake t ON t.return_id = s.id'],
  rebound_return_orders: ['temp.sn_returns s CROSS JOIN main.rebound_return_orders t ON t.return_id = s.id'],
  rebound_items: ['snap.rebound_return_orders o CROSS JOIN main.rebound_items t ON t.rebound_order_id = o.rebound_order_id'],
  rebound_events: ['snap.rebound_return_orders o CROSS JOIN main.rebound_events t ON t.rebound_order_id = o.rebound_order_id'],
  units: ['temp.sn_returns s CROSS JOIN main.units t ON t.return_id = s.id'],
  stock_increments: ['snap.units u CROSS JOIN main.stock_increments t ON t.unit_id = u.id'],
  intents: [
    'temp.sn_returns s CROSS JOIN main.intents t ON t.subject = s.id',
    "snap.stock_increments x CROSS JOIN main.intents t ON t.id = x.import_intent_id",
  ],
  exceptions: [
    'temp.sn_returns s CROSS JOIN main.exceptions t ON t.return_id = s.id',
    'temp.rp_exceptions x CROSS JOIN main.exceptions t ON t.id = x.id',
    `snap.mirakl_refunds f CROSS JOIN main.exceptions t ON t.type = 'REFUND_WITHOUT_RECEIPT' AND t.subject_key = 'refund:' || f.id`,
  ],
  exception_notes: ['snap.exceptions e CROSS JOIN main.exception_notes t ON t.exception_id = e.id'],
  recon_verdicts: ['temp.sn_returns s CROSS JOIN main.recon_verdicts t ON t.return_id = s.id'],
  // What the triggers keep per return line holds for the snapshot's returns as it does in the app (their units, intents,
  // matches and their lines' refunds are all in it).
  recon_lines: ['temp.sn_returns s CROSS JOIN main.recon_lines t ON t.return_id = s.id'],
  return_search_terms: ['temp.sn_returns s CROSS JOIN main.return_search_terms t ON t.return_id = s.id'],
  recon_matches: [
    'temp.sn_returns s CROSS JOIN main.recon_matches t ON t.return_id = s.id',
    `snap.mirakl_refunds f CROSS JOIN main.recon_matches t ON t.kind = 'refund_line' AND t.subject = f.id`,
  ],
  audit_log: ['main.audit_log t WHERE t.seq >= @auditFrom'],
  period_locks: ['main.period_locks t WHERE t.period = @period'],
  period_lock_facts: ['main.period_lock_facts t WHERE t.period = @period'],
  period_adjustments: ['main.period_adjustments t WHERE t.period = @period OR t.reported_in = @period'],
  // The ended locks of the month, and of the months whose adjustments it holds: which of those adjustments still count.
  period_unlocks: ['main.period_unlocks t WHERE t.period = @period OR t.period IN (SELECT a.period FROM main.period_adjustments a WHERE a.reported_in = @period)'],
  period_unlock_facts: ['snap.period_unlocks u CROSS JOIN main.period_unlock_facts t ON t.unlock_id = u.id'],
};

/** `tables` with each one after the snap.* tables its rows are chosen by (a rebuilt table comes late in the schema). */
function readsFirst(tables: SchemaObject[]): SchemaObject[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: SchemaObject[] = [];
  const seen = new Set<string>();
  const visit = (t: SchemaObject) => {
    if (seen.has(t.name)) return;
    seen.add(t.name);
    for (const source of snapshotRowSources[t.name] ?? []) {
      for (const [, name] of source.matchAll(/\bsnap\.(\w+)/g)) {
        const read = name === undefined ? undefined : byName.get(name);
        if (read) visit(read);
      }
    }
    ordered.push(t);
  };
  for (const t of tables) visit(t);
  return ordered;
}

interface SchemaObject {
  type: 'table' | 'index' | 'view' | 'trigger';
  name: string;
  sql: string;
}

/** `CREATE TABLE x …` → `CREATE TABLE snap.x …` (likewise indexes, views and triggers: their tables stay unqualified). */
function inSnap(sql: string): string {
  return sql.replace(/^(CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?)/i, '$1snap.');
}

/**
 * Copies the period's rows into the database attached as `snap`. The fact tables must have been built for the period
 * in the current transaction. `auditFrom` is the first audit entry of the bundle's segment (or beyond the last).
 */
export function copyPeriodRows(db: Database, period: Period, auditFrom: number): Record<string, number> {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS sn_returns (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS sn_lines (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS sn_orders (id TEXT PRIMARY KEY) WITHOUT ROWID;
    DELETE FROM temp.sn_returns; DELETE FROM temp.sn_lines; DELETE FROM temp.sn_orders;
    INSERT OR IGNORE INTO temp.sn_returns
      SELECT return_id FROM temp.rp_returns
      UNION SELECT return_id FROM temp.rp_refunds WHERE return_id IS NOT NULL
      UNION SELECT return_id FROM temp.rp_lines WHERE return_id IS NOT NULL
      UNION SELECT return_id FROM temp.rp_stock WHERE return_id IS NOT NULL
      UNION SELECT return_id FROM temp.rp_exceptions WHERE return_id IS NOT NULL;
    INSERT OR IGNORE INTO temp.sn_lines
      SELECT order_line_id FROM temp.rp_refunds UNION SELECT order_line_id FROM temp.rp_lines
      UNION SELECT l.order_line_id FROM temp.sn_returns s CROSS JOIN mirakl_return_lines l ON l.return_id = s.id;
    -- Every return touching those lines, so each line's receipts and refunds are whole in the snapshot.
    INSERT OR IGNORE INTO temp.sn_returns
      SELECT l.return_id FROM temp.sn_lines x CROSS JOIN mirakl_return_lines l ON l.order_line_id = x.id
      UNION SELECT u.return_id FROM temp.sn_lines x CROSS JOIN units u ON u.order_line_id = x.id;
    INSERT OR IGNORE INTO temp.sn_orders
      SELECT r.order_id FROM temp.sn_returns s CROSS JOIN mirakl_returns r ON r.id = s.id
      UNION SELECT ol.order_id FROM temp.sn_lines x CROSS JOIN mirakl_order_lines ol ON ol.order_line_id = x.id;
    INSERT OR IGNORE INTO temp.sn_lines SELECT ol.order_line_id FROM temp.sn_orders o CROSS JOIN mirakl_order_lines ol ON ol.order_id = o.id;
  `);
  const objects = db
    .prepare(`SELECT type, name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
      ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid`)
    .all() as SchemaObject[];
  // A virtual table (the search index) and its shadow tables stay out: the viewer builds it again on its copy.
  const virtual = objects.filter((o) => o.type === 'table' && /^CREATE\s+VIRTUAL/i.test(o.sql)).map((o) => o.name);
  const tables = readsFirst(objects.filter((o) => o.type === 'table' && !virtual.includes(o.name) && !virtual.some((v) => ['data', 'idx', 'content', 'docsize', 'config'].some((shadow) => o.name === `${v}_${shadow}`))));
  for (const t of tables) db.exec(inSnap(t.sql));
  const copied: Record<string, number> = {};
  for (const t of tables) {
    let count = 0;
    // Generated columns are computed again by the snapshot; only stored columns are copied.
    const columns = (db.prepare(`SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid`).all(t.name) as { name: string }[]).map((c) => `"${c.name}"`);
    for (const source of snapshotRowSources[t.name] ?? []) {
      const sql = `INSERT OR IGNORE INTO snap."${t.name}" (${columns.join(', ')}) SELECT ${columns.map((c) => `t.${c}`).join(', ')} FROM ${source}`;
      const params: Record<string, unknown> = {};
      if (source.includes('@period')) params.period = period.id;
      if (source.includes('@auditFrom')) params.auditFrom = auditFrom;
      count += db.prepare(sql).run(params).changes;
    }
    copied[t.name] = count;
  }
  // What the triggers keep from every row (the money figures' per-line and per-day sums) is made again from the rows
  // the snapshot holds, so its figures, read as the app reads them, are the period's.
  Object.assign(copied, refillKeptMoney(db, 'snap'));
  // Unique indexes (constraints), views and triggers once the rows are in. The other indexes are left out — they
  // would be a third of the bundle and of the time to make it — and the viewer builds them on its private copy
  // (withAppIndexes), so the app's own queries, some of which name their index, run on it unchanged.
  const kept = objects.filter((x) => x.type === 'view' || x.type === 'trigger' || (x.type === 'index' && /^CREATE\s+UNIQUE\s+INDEX/i.test(x.sql)));
  for (const o of kept) db.exec(inSnap(o.sql));
  return copied;
}

const pageHashLength = 16;

/** The SQLite page size of a database file (header bytes 16–17; 1 means 65536). */
function pageSizeOf(data: Uint8Array): number {
  const raw = ((data[16] ?? 0) << 8) | (data[17] ?? 0);
  return raw === 1 ? 65_536 : raw || 4096;
}

const pageHash = (page: Uint8Array) => createHash('sha256').update(page).digest('hex').slice(0, pageHashLength);

/** 64 bits of sha256 per page: enough to say which page changed (the whole file has its full sha256 too). */
export function pageHashes(data: Uint8Array): { pageSize: number; pages: string[] } {
  const pageSize = pageSizeOf(data);
  const pages: string[] = [];
  for (let offset = 0; offset < data.byteLength; offset += pageSize) pages.push(pageHash(data.subarray(offset, offset + pageSize)));
  return { pageSize, pages };
}

/**
 * pageHashes over a file read as a stream: `update` with its bytes in order, in chunks of any size, then `digest`.
 * Gives what pageHashes gives for the whole file, holding at most one page besides the chunk.
 */
export function createPageHasher() {
  const header = 18;
  const pages: string[] = [];
  let pageSize = 0;
  let pending: Uint8Array = new Uint8Array(0);
  const take = (data: Uint8Array, isLast: boolean) => {
    if (pageSize === 0) {
      if (data.byteLength < header && !isLast) return new Uint8Array(data);
      pageSize = pageSizeOf(data);
    }
    let offset = 0;
    for (; offset + pageSize <= data.byteLength; offset += pageSize) pages.push(pageHash(data.subarray(offset, offset + pageSize)));
    if (isLast && offset < data.byteLength) pages.push(pageHash(data.subarray(offset)));
    // A copy: the rest of a page is kept for the next chunk, not the whole chunk it came in.
    return isLast ? new Uint8Array(0) : new Uint8Array(data.subarray(offset));
  };
  return {
    update(chunk: Uint8Array): void {
      pending = take(pending.byteLength ? Buffer.concat([pending, chunk]) : chunk, false);
    },
    digest(): { pageSize: number; pages: string[] } {
      pending = take(pending, true);
      return { pageSize, pages };
    },
  };
}

interface PageInfo {
  name: string;
  path: string;
  pageno: number;
  pagetype: string | null;
  ncell: number;
}

/**
 * What changed in a snapshot, from the page hashes and row counts recorded when it was made: the tables whose pages
 * differ, and for a changed leaf page of an ordinary table the keys of the rows it holds (its position among the
 * table's leaves gives their place in rowid order). `db` is the altered file, opened read-only.
 */
export function explainSnapshotChange(db: Database, data: Uint8Array, recorded: { tables: Record<string, number>; pageSize: number; pages: string[] }): string[] {
  const now = pageHashes(data);
  const differences: string[] = [];
  if (now.pageSize !== recorded.pageSize) differences.push(`the database was rewritten with another page size (${recorded.pageSize} → ${now.pageSize} bytes)`);
  const changed = new Set<number>();
  for (let i = 0; i < Math.max(now.pages.length, recorded.pages.length); i++) if (now.pages[i] !== recorded.pages[i]) changed.add(i + 1);

  const pages = db.prepare('SELECT name, path, pageno, pagetype, ncell FROM dbstat ORDER BY name, path').all() as PageInfo[];
  const owners = new Map<string, string>(
    (db.prepare(`SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')`).all() as { name: string; tbl_name: string }[]).map((r) => [r.name, r.tbl_name]),
  );
  const withoutRowid = new Set(
    (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'`).all() as { name: string }[]).map((r) => r.name),
  );
  // Each ordinary table's leaf pages in tree order, with the place in rowid order of their first row.
  const leaves = new Map<string, { path: string; first: number; ncell: number }>();
  const firstRow = new Map<string, number>();
  for (const p of pages) {
    if (p.pagetype !== 'leaf' || withoutRowid.has(p.name) || owners.get(p.name) !== p.name) continue;
    const first = firstRow.get(p.name) ?? 0;
    leaves.set(`${p.name}\u0000${p.path}`, { path: p.path, first, ncell: p.ncell });
    firstRow.set(p.name, first + p.ncell);
  }
  const byPage = new Map(pages.map((p) => [p.pageno, p]));
  const perTable = new Map<string, Set<string>>();
  const note = (table: string, what: string) => perTable.set(table, (perTable.get(table) ?? new Set()).add(what));
  for (const pageno of [...changed].sort((a, b) => a - b)) {
    const page = byPage.get(pageno);
    if (!page) {
      if (pageno > now.pages.length) note('(file)', `${recorded.pages.length - now.pages.length} page(s) removed from its end`);
      else if (pageno > recorded.pages.length) note('(file)', 'pages added at its end');
      else if (pageno !== 1) note('(file)', `unused page ${pageno}`);
      continue;
    }
    const table = owners.get(page.name) ?? page.name;
    if (page.name === 'sqlite_schema') {
      if (changed.size === 1) note('sqlite_schema', 'the schema or the database header');
      continue;
    }
    if (page.name !== table) {
      note(table, `its index ${page.name}`);
      continue;
    }
    // An overflow page belongs to the cell of the leaf named before '+'.
    const leaf = leaves.get(`${table}\u0000${page.path.split('+')[0] ?? page.path}`);
    if (!leaf) {
      note(table, withoutRowid.has(table) ? `page ${pageno}` : `its structure (page ${pageno})`);
      continue;
    }
    const keys = rowKeys(db, table, leaf.first, leaf.ncell);
    note(table, keys.length === 0 ? `page ${pageno}` : keys.length === 1 ? `row ${keys[0]}` : `rows ${keys[0]} to ${keys[keys.length - 1]}`);
  }
  for (const [table, what] of perTable) differences.push(table === '(file)' ? `the file: ${[...what].join(', ')}` : `table ${table}: ${[...what].join(', ')} changed`);
  const counts = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[];
  for (const { name } of counts) {
    const rows = (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
    const want = recorded.tables[name];
    if (want === undefined) differences.push(`table ${name} was added (${rows} rows)`);
    else if (want !== rows) differences.push(`table ${name} holds ${rows} rows, ${want} were recorded`);
  }
  for (const name of Object.keys(recorded.tables)) if (!counts.some((c) => c.name === name)) differences.push(`table ${name} is missing`);
  if (differences.length === 0) differences.push('the file changed, but no table page did (the database header)');
  return differences;
}

/** The primary-key values (or rowids) of `count` rows of `table` from position `offset` in rowid order. */
function rowKeys(db: Database, table: string, offset: number, count: number): string[] {
  const pk = (db.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk').all(table) as { name: string }[]).map((c) => `"${c.name}"`);
  const key = pk.length ? pk.map((k) => `CAST(${k} AS TEXT)`).join(` || ' / ' || `) : 'CAST(rowid AS TEXT)';
  return (db.prepare(`SELECT ${key} AS k FROM "${table}" ORDER BY rowid LIMIT ? OFFSET ?`).all(count, offset) as { k: string }[]).map((r) => r.k);
}

/**
 * Adds to a (writable, private) copy of a snapshot the indexes of the app's schema it lacks: the snapshot leaves out
 * the ones that are not constraints. The definitions come from this app's own migrations, never from the bundle.
 * Returns the indexes that could not be built (a bundle from another version may lack a column).
 */
export function withAppIndexes(db: Database, appSchema: Database): string[] {
  const present = new Set((db.prepare(`SELECT name FROM sqlite_schema WHERE type IN ('index', 'table')`).all() as { name: string }[]).map((r) => r.name));
  const wanted = appSchema.prepare(`SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`).all() as {
    name: string;
    tbl_name: string;
    sql: string;
  }[];
  const failed: string[] = [];
  // Virtual tables (the returns search) are left out of a snapshot: made again here from the app's own definition and
  // filled from the rows the snapshot holds.
  const virtual = appSchema.prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'`).all() as { name: string; sql: string }[];
  db.transaction(() => {
    for (const table of virtual) {
      if (present.has(table.name)) continue;
      try {
        db.exec(table.sql);
        db.prepare(`INSERT INTO "${table.name}" ("${table.name}") VALUES ('rebuild')`).run();
      } catch (error) {
        failed.push(`${table.name}: ${(error as Error).message}`);
      }
    }
    for (const index of wanted) {
      if (present.has(index.name) || !present.has(index.tbl_name)) continue;
      try {
        db.prepare(index.sql).run();
      } catch (error) {
        failed.push(`${index.name}: ${(error as Error).message}`);
      }
    }
  })();
  return failed;
}
