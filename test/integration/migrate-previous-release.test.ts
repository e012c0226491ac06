import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createAuditLog } from '../../core/audit/log';
import type { Report } from '../../core/contract/reports';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { createReports } from '../../core/report/service';
import { openStore, type Store } from '../../core/store/db';
import { dumpSchema, loadMigrations } from '../../core/store/migrate';
import { createMoneyFigures } from '../../core/store/money-figures';
import { sourceMigrationsDir } from '../../core/store/paths';
import { arrived } from '../../core/store/reconcile/detectors';
import { createReconciler } from '../../core/store/reconcile/pass';
import { makeTempDir } from '../support/temp-dir';

// A user's database, made by the previous release (test/fixtures/previous-release/make-fixture.ts, run from that
// release's code: a sandbox October, locked, and early November with a post-close adjustment), opened by this one.
// Opening it applies the migrations made since — among them 0015, the new reconciliation layout, as one checksummed
// migration; nothing may be
// lost: every table keeps its rows, the grid shows what that release showed, and the month-end figures of both
// months are the ones that release computed.

const lostReturn = 'a1697237-36da-41b3-b5cd-64c4e49b531b';
const fixtureDir = new URL('../fixtures/previous-release/', import.meta.url);
interface Expected {
  madeBy: string;
  schemaVersion: number;
  clockAt: string;
  counts: Record<string, number>;
  sideBySide: Record<string, unknown>[];
  figures: Record<string, Report>;
}
const expected = corrected(JSON.parse(readFileSync(new URL('expected.json', fixtureDir), 'utf8')) as Expected);

/**
 * What that release got wrong, and this one corrects on opening (migration 0016): it stamped the unit of a return
 * order ReBound expired (nothing was sent back) registered when it marked it lost, so it counted a receipt that never
 * happened — one unit arrived in November, and an exception saying ReBound registered the parcel but Mirakl was not
 * told. (Mirakl's back office had refunded that line without a receipt.) Every other figure must be the one that
 * release gave.
 */
function corrected(previous: Expected): Expected {
  const out = structuredClone(previous);
  const row = out.sideBySide.find((r) => r.return_id === lostReturn)!;
  row.units_arrived = (row.units_arrived as number) - 1;
  const november = out.figures['2026-11']!;
  november.returns.received -= 1;
  november.units.verified -= 1;
  const falseAlarm = november.tables.openExceptions.find((e) => e.returnId === lostReturn && e.type === 'STATUS_NOT_PUSHED')!;
  falseAlarm.state = 'resolved';
  return out;
}
const migrations = loadMigrations(sourceMigrationsDir);
const mappings = loadMappings(shippedMappingsDir);

describe(`a database made by the previous release (${expected.madeBy.slice(0, 7)}, schema ${expected.schemaVersion})`, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let dataDir: string;
  let before: { counts: Record<string, number>; migrations: { version: number; sha256: string }[] };
  let store: Store;
  const clock = createFakeClock(Date.parse(expected.clockAt));
  const count = (db: Database.Database, table: string) => db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
  const sideBySide = () =>
    store.db.prepare('SELECT * FROM recon_returns ORDER BY return_id').all().map((row) => ({ ...(row as object), updated_at: undefined }));

  beforeAll(() => {
    temp = makeTempDir();
    dataDir = join(temp.dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'workbench.sqlite'), gunzipSync(readFileSync(new URL('workbench.sqlite.gz', fixtureDir))));
    const raw = new Database(join(dataDir, 'workbench.sqlite'), { readonly: true });
    before = {
      counts: Object.fromEntries(Object.keys(expected.counts).map((t) => [t, count(raw, t)])),
      migrations: raw.prepare('SELECT version, sha256 FROM schema_migrations ORDER BY version').all() as { version: number; sha256: string }[],
    };
    raw.close();
    store = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock });
  });
  afterAll(() => {
    store?.close();
    temp?.remove();
  });

  it('is the file the fixture describes', () => {
    expect(before.counts).toEqual(expected.counts);
    expect(before.migrations.map((m) => m.version)).toEqual(migrations.slice(0, expected.schemaVersion).map((m) => m.version));
  });

  it("records the previous release's migrations with the checksums of this release's files, which opening verified", () => {
    expect(before.migrations.map((m) => m.sha256)).toEqual(migrations.slice(0, expected.schemaVersion).map((m) => m.sha256));
    const after = store.db.prepare('SELECT version, name, sha256 FROM schema_migrations ORDER BY version').all();
    expect(after).toEqual(migrations.map((m) => ({ version: m.version, name: m.name, sha256: m.sha256 })));
    expect(store.schemaVersion).toBe(migrations.length);
  });

  it('ends with exactly the schema a new database gets', () => {
    const fresh = openStore({ dataDir: join(temp.dir, 'fresh'), migrationsDir: sourceMigrationsDir, clock });
    try {
      expect(dumpSchema(store.db)).toBe(dumpSchema(fresh.db));
    } finally {
      fresh.close();
    }
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('keeps every row of every table (the side-by-side copy became a view of as many rows, and a narrow table)', () => {
    const after = Object.fromEntries(Object.keys(expected.counts).map((t) => [t, count(store.db, t)]));
    // Bookkeeping differs by design: each migration since is recorded, and the reconciliation's basis is forgotten
    // so that the first pass judges everything again.
    expect(after).toEqual({
      ...expected.counts,
      schema_migrations: (expected.counts.schema_migrations ?? 0) + migrations.length - expected.schemaVersion,
      sync_cursors: (expected.counts.sync_cursors ?? 0) - 1,
    });
    expect(store.db.prepare(`SELECT count(*) FROM sync_cursors WHERE feed = 'reconcile.basis'`).pluck().get()).toBe(0);
    expect(count(store.db, 'recon_verdicts')).toBe(expected.counts.recon_returns);
  });

  it('shows the side-by-side rows the previous release showed, before and after this release judges everything again', () => {
    const shown = expected.sideBySide.map((row) => ({ ...row, updated_at: undefined }));
    expect(sideBySide()).toEqual(shown);
    const report = createReconciler(store.db, clock).run(mappings.policy);
    expect(report).toMatchObject({ full: true, pending: false });
    // Judged again, the expired return shows what happened: refunded in the back office for nothing received.
    const lost = shown.find((r) => (r as Record<string, unknown>).return_id === lostReturn)!;
    Object.assign(lost, { expected_refund_minor: 0, refund_status: 'over', drift_fields: 'refund' });
    expect(sideBySide()).toEqual(shown);
  });

  // Migration 0020 fills the per-line money (what the dashboard reads now) from the units and refunds already there.
  it("fills the money kept per order line from the previous release's units and refunds: the dashboard's figure now is the one counted from them", () => {
    const figures = createMoneyFigures(store.db);
    expect(store.db.prepare('SELECT count(*) FROM money_lines WHERE verified > 0').pluck().get()).toBeGreaterThan(0);
    // Line by line, what the base tables say (the definition in core/store/money-figures.ts).
    const wrong = store.db
      .prepare(
        `SELECT k.order_line_id FROM (SELECT order_line_id FROM units WHERE registered_at IS NOT NULL UNION SELECT order_line_id FROM mirakl_refunds) k
        LEFT JOIN money_lines m ON m.order_line_id = k.order_line_id
        WHERE m.order_line_id IS NULL
          OR m.verified != (SELECT count(*) FROM units u WHERE u.order_line_id = k.order_line_id AND ${arrived})
          OR m.refunded_minor != (SELECT COALESCE(sum(amount_minor), 0) FROM mirakl_refunds f WHERE f.order_line_id = k.order_line_id)
          OR m.price_unit_minor != COALESCE((SELECT price_unit_minor FROM mirakl_order_lines ol WHERE ol.order_line_id = k.order_line_id), 0)`,
      )
      .pluck()
      .all();
    expect(wrong).toEqual([]);
    for (const asOf of [expected.clockAt, '2999-01-01T00:00:00.000Z']) {
      expect(figures.at(asOf, '2026-11-01T00:00:00.000Z'), asOf).toEqual(figures.atFromBaseTables(asOf, '2026-11-01T00:00:00.000Z'));
    }
  });

  it('gives the month-end figures the previous release gave, for the locked month and the open one', () => {
    const reports = createReports({
      db: store.db,
      clock,
      audit: createAuditLog(store.db, clock),
      mappings: () => mappings,
      actor: () => 'finance.lead',
      appVersion: 'previous release',
      beforeReport: () => createReconciler(store.db, clock).run(mappings.policy, { fullPass: 'finish' }),
    });
    for (const [period, figures] of Object.entries(expected.figures)) {
      // A locked month keeps the mapping versions it was locked with; an open month names the mappings in use now,
      // which this release may have changed (the shipped policy gained settings): the figures must not change.
      const mappingVersions = figures.lock ? figures.mappingVersions : mappings.versions;
      // The money figures of issue 24 are new in this release: the rest must be what that release gave.
      const { figures: added, ...report } = reports.generate(period);
      expect(Array.isArray(added), period).toBe(true);
      expect(report, period).toEqual({ ...figures, mappingVersions });
    }
    // Nothing was found to differ from the locked month: no new post-close adjustment.
    expect(count(store.db, 'period_adjustments')).toBe(expected.counts.period_adjustments);
  });
});
