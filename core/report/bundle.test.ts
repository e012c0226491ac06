import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock } from '../adapters/fake-clock';
import { createAuditLog } from '../audit/log';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { openBundle } from './bundle';
import { createReports, type Reports } from './service';

// The evidence bundle: it opens and verifies offline; the report computed again from its snapshot is the report it
// carries; and each kind of tampering is flagged naming what changed.

describe('evidence bundle', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let reports: Reports;
  let bundleFile: string;
  let generated: Awaited<ReturnType<Reports['generateFiles']>>;
  const clock = createFakeClock(Date.UTC(2026, 10, 3, 9));
  const mappings = loadMappings(shippedMappingsDir);

  beforeAll(async () => {
    temp = makeTempDir();
    store = openStore({ dataDir: join(temp.dir, 'live'), migrationsDir: sourceMigrationsDir, clock });
    seedOctober(store.db);
    const audit = createAuditLog(store.db, clock);
    audit.append({ actor: 'cs.lead', action: 'exception.assign', subject: 'exception:1', after: { assignee: 'amy' } });
    reports = createReports({ db: store.db, clock, audit, mappings: () => mappings, actor: () => 'finance.lead', appVersion: 'test' });
    generated = await reports.generateFiles('2026-10', join(temp.dir, 'out'), { bundle: true });
    bundleFile = generated.bundle?.path ?? '';
  });
  afterAll(() => {
    store.close();
    temp.remove();
  });

  /** A copy of the bundle with `edit` applied to its entries. */
  function tampered(name: string, edit: (entries: Record<string, Uint8Array>) => void): string {
    const entries = unzipSync(new Uint8Array(readFileSync(bundleFile)));
    edit(entries);
    const file = join(temp.dir, `${name}.zip`);
    writeFileSync(file, zipSync(entries));
    return file;
  }

  it('opens and verifies, with the report, the mappings and the audit segment', () => {
    const opened = openBundle(bundleFile);
    expect(opened.problems).toEqual([]);
    expect(opened.verified).toBe(true);
    expect(opened.report?.money).toEqual(generated.report.money);
    const paths = opened.manifest?.files.map((f) => f.path) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining([
        'snapshot/period.sqlite',
        'audit/segment.json',
        'mappings/reason-codes.yaml',
        'mappings/policy.yaml',
        'report/returns-report-2026-10.json',
        'report/returns-report-2026-10.xlsx',
        'report/returns-report-2026-10.pdf',
        'report/returns-report-2026-10-refunds-without-receipt.csv',
      ]),
    );
    expect(opened.manifest?.mappings.inForce).toEqual(mappings.versions);
    expect(opened.manifest?.mappings.recorded).toEqual([{ source: 'intents', version: 'reasonCodes@v1:test', records: 2 }]);
    expect(opened.audit?.rows.map((r) => r.action)).toEqual(['exception.assign']);
    // The live audit log records the bundle's manifest hash.
    const last = store.db.prepare(`SELECT action, after FROM audit_log ORDER BY seq DESC LIMIT 1`).get() as { action: string; after: string };
    expect(last.action).toBe('period.bundle');
    expect(JSON.parse(last.after).manifestSha256).toBe(generated.bundle?.manifestSha256);
  });

  it('holds the rows the report rests on: the same report comes out of its snapshot', () => {
    const opened = openBundle(bundleFile, { extractTo: join(temp.dir, 'extracted') });
    const dataDir = join(temp.dir, 'from-snapshot');
    mkdirSync(dataDir, { recursive: true });
    copyFileSync(opened.snapshotFile ?? '', join(dataDir, 'workbench.sqlite'));
    const copy = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock });
    try {
      const again = createReports({ db: copy.db, clock, audit: createAuditLog(copy.db, clock), mappings: () => mappings, actor: () => 'auditor', appVersion: 'test' }).generate('2026-10');
      expect(again.returns).toEqual(generated.report.returns);
      expect(again.units).toEqual(generated.report.units);
      expect(again.money).toEqual(generated.report.money);
      expect(again.tables).toEqual(generated.report.tables);
      // Only the period's rows: R-5 (opened in November, no October fact) is not in it.
      expect(copy.db.prepare(`SELECT id FROM mirakl_returns ORDER BY id`).pluck().all()).toEqual(['R-1', 'R-2', 'R-3', 'R-4']);
    } finally {
      copy.close();
    }
  });

  it('flags a report file with one byte changed, naming the file', () => {
    const file = tampered('pdf', (e) => {
      const pdf = e['report/returns-report-2026-10.pdf'] as Uint8Array;
      pdf[pdf.length - 20] = (pdf[pdf.length - 20] ?? 0) ^ 1;
    });
    const opened = openBundle(file);
    expect(opened.verified).toBe(false);
    expect(opened.problems).toEqual([{ path: 'report/returns-report-2026-10.pdf', kind: 'altered', detail: expect.stringContaining('its content changed') }]);
  });

  it('flags an edited row of the snapshot, naming the table and the row', () => {
    const file = tampered('snapshot', (e) => {
      const path = join(temp.dir, 'edit.sqlite');
      writeFileSync(path, e['snapshot/period.sqlite'] as Uint8Array);
      const db = new Database(path);
      db.prepare(`UPDATE mirakl_refunds SET amount_minor = 1 WHERE id = 'X-1'`).run();
      db.close();
      e['snapshot/period.sqlite'] = new Uint8Array(readFileSync(path));
    });
    const opened = openBundle(file);
    expect(opened.problems).toHaveLength(1);
    expect(opened.problems[0]).toMatchObject({ path: 'snapshot/period.sqlite', kind: 'altered' });
    // The page holding the refunds changed: its rows are named (in the snapshot's row order). The edit also fired
    // the schema's triggers, which wrote to recon_dirty, and that is reported too.
    expect(opened.problems[0]?.detail).toMatch(/table mirakl_refunds: rows F-1 to F-4b changed/);
    expect(opened.problems[0]?.detail).toMatch(/table recon_dirty holds 2 rows, 0 were recorded/);
  });

  it('flags an edited manifest', () => {
    const file = tampered('manifest', (e) => {
      const manifest = JSON.parse(new TextDecoder().decode(e['manifest.json'])) as { createdBy: string };
      manifest.createdBy = 'someone else';
      e['manifest.json'] = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n');
    });
    const opened = openBundle(file);
    expect(opened.problems).toEqual([{ path: 'manifest.json', kind: 'altered', detail: expect.stringContaining('the manifest was edited') }]);
  });

  it('flags an edited audit entry by its number, and files removed or slipped in', () => {
    const file = tampered('audit', (e) => {
      const segment = JSON.parse(new TextDecoder().decode(e['audit/segment.json'])) as { rows: { reason: string | null }[] };
      (segment.rows[0] as { reason: string | null }).reason = 'nothing to see';
      e['audit/segment.json'] = new TextEncoder().encode(JSON.stringify(segment));
      delete e['report/returns-report-2026-10.xlsx'];
      e['report/extra.csv'] = new TextEncoder().encode('a,b\n');
    });
    const problems = openBundle(file).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'audit/segment.json', kind: 'altered', detail: expect.any(String) },
        { path: 'audit/segment.json', kind: 'chain', detail: expect.stringMatching(/^audit entry 1 its content no longer matches its hash/) },
        { path: 'report/returns-report-2026-10.xlsx', kind: 'missing', detail: expect.any(String) },
        { path: 'report/extra.csv', kind: 'unexpected', detail: expect.any(String) },
      ]),
    );
  });

  it('says a file that is not a bundle is unreadable', () => {
    const file = join(temp.dir, 'not-a-bundle.zip');
    writeFileSync(file, 'hello');
    expect(openBundle(file)).toMatchObject({ verified: false, problems: [{ kind: 'unreadable' }] });
  });

  it('leaves the destination as it was when the bundle cannot be put in place: no report file, no partial file', async () => {
    const outDir = join(temp.dir, 'blocked');
    // A folder (not empty) already has the bundle's name: the rename into place fails.
    mkdirSync(join(outDir, 'returns-evidence-2026-10.zip', 'kept'), { recursive: true });
    const bundles = () => store.db.prepare(`SELECT count(*) FROM audit_log WHERE action = 'period.bundle'`).pluck().get();
    const before = bundles();
    await expect(reports.generateFiles('2026-10', outDir, { bundle: true })).rejects.toThrow();
    expect(readdirSync(outDir)).toEqual(['returns-evidence-2026-10.zip']);
    expect(readdirSync(join(outDir, 'returns-evidence-2026-10.zip'))).toEqual(['kept']);
    expect(bundles()).toBe(before);
  });

  it('carries a locked period with the exact locked report', async () => {
    reports.lock('2026-10', 'close');
    const locked = await reports.generateFiles('2026-10', join(temp.dir, 'out-locked'), { bundle: true });
    const opened = openBundle(locked.bundle?.path ?? '');
    expect(opened.problems).toEqual([]);
    expect(opened.manifest?.report).toMatchObject({ status: 'locked', lockedReportPath: 'report/locked-report-2026-10.json', lockedReportSha256: locked.report.lock?.reportSha256 });
    expect(opened.report?.status).toBe('locked');
  });

  it('carries the ended lock of a reopened month, so its snapshot gives the same report: no adjustment counted twice', async () => {
    if (!reports.isLocked('2026-10')) reports.lock('2026-10', 'close');
    store.db
      .prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
        VALUES ('X-9', 'L-2', 'OR-X-9', 3000, 0, 1, '11', 'REFUNDED', '2026-10-30T10:00:00Z', '2026-11-03T09:00:00.000Z', '2026-11-03T09:00:00.000Z')`)
      .run();
    expect(reports.generate('2026-11').tables.adjustments.length).toBeGreaterThan(0);
    reports.unlock('2026-10', 'Refund X-9 belongs to October');
    const november = await reports.generateFiles('2026-11', join(temp.dir, 'out-november'), { bundle: true });
    expect(november.report.tables.adjustments).toEqual([]);
    const opened = openBundle(november.bundle?.path ?? '', { extractTo: join(temp.dir, 'extracted-november') });
    expect(opened.problems).toEqual([]);
    const dataDir = join(temp.dir, 'from-november-snapshot');
    mkdirSync(dataDir, { recursive: true });
    copyFileSync(opened.snapshotFile ?? '', join(dataDir, 'workbench.sqlite'));
    const copy = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock });
    try {
      expect(copy.db.prepare(`SELECT period, reason FROM period_unlocks`).all()).toEqual([{ period: '2026-10', reason: 'Refund X-9 belongs to October' }]);
      const again = createReports({ db: copy.db, clock, audit: createAuditLog(copy.db, clock), mappings: () => mappings, actor: () => 'auditor', appVersion: 'test' }).generate('2026-11');
      expect(again.tables.adjustments).toEqual([]);
      expect(again.money).toEqual(november.report.money);
    } finally {
      copy.close();
    }
  });
});
