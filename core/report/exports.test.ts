import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock } from '../adapters/fake-clock';
import { createAuditLog } from '../audit/log';
import type { Report } from '../contract/reports';
import { loadMappings, shippedMappingsDir } from '../mappings/load';
import { openStore } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { writeReportFiles } from './exports';
import type { WrittenFile } from './file-out';
import { decimal, grouped } from './money';
import { createReports, type Reports } from './service';

// The exports read back with the same libraries a reviewer would use: CSV parsed, XLSX re-read with exceljs (typed
// cells, formats, frozen header, filters), PDF text extracted with pdftotext. They are streamed to disk, hashed on the
// way, and a write that fails half-way leaves the files already in the folder as they were.

describe('report exports', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let report: Report;
  let files: WrittenFile[];
  let reports: Reports;
  const path = (suffix: string) => (files.find((f) => f.name.endsWith(suffix)) as WrittenFile).path;
  const data = (suffix: string) => readFileSync(path(suffix));

  beforeAll(async () => {
    temp = makeTempDir();
    const clock = createFakeClock(Date.UTC(2026, 10, 3, 9));
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    seedOctober(store.db);
    const mappings = loadMappings(shippedMappingsDir);
    reports = createReports({ db: store.db, clock, audit: createAuditLog(store.db, clock), mappings: () => mappings, actor: 'finance.lead', appVersion: 'test' });
    report = reports.generate('2026-10');
    store.close();
    mkdirSync(join(temp.dir, 'out'));
    files = await writeReportFiles(report, join(temp.dir, 'out'));
  });
  afterAll(() => temp.remove());

  it('formats minor units without floats', () => {
    expect([decimal(1999), decimal(-5), decimal(0), decimal(123456789), grouped(123456789), grouped(-100)]).toEqual([
      '19.99',
      '-0.05',
      '0.00',
      '1234567.89',
      '1,234,567.89',
      '-1.00',
    ]);
    expect(() => decimal(19.99)).toThrow(/whole number of minor units/);
  });

  it('writes one CSV per table, money as decimals beside its currency', () => {
    const names = files.filter((f) => f.name.endsWith('.csv')).map((f) => f.name.replace('returns-report-2026-10-', ''));
    expect(names).toEqual([
      'summary.csv',
      'checks.csv',
      'refunds-without-receipt.csv',
      'receipts-awaiting-refund.csv',
      'variances.csv',
      'refunds-by-mirakl-reason.csv',
      'refunds-by-rebound-reason.csv',
      'stock-by-offer.csv',
      'open-exceptions.csv',
      'adjustments.csv',
    ]);
    const summary = parse(data('-summary.csv'), { columns: true }) as Record<string, string>[];
    expect(summary.map((r) => [r.Currency, r.Refunded, r['Without receipt'], r['Awaiting refund (accrual)']])).toEqual([
      ['EUR', '0.00', '0.00', '30.00'],
      ['GBP', '104.99', '19.99', '5.00'],
    ]);
    const unbacked = parse(data('-refunds-without-receipt.csv'), { columns: true }) as Record<string, string>[];
    expect(unbacked).toEqual([expect.objectContaining({ Refund: 'X-1', 'Order line': 'L-3', Amount: '19.99', Currency: 'GBP', 'Made by this app': 'false' })]);
  });

  it('writes an XLSX whose cells are typed: numbers, dates, currency formats, frozen header and filters', async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path('.xlsx'));
    expect(workbook.worksheets.map((w) => w.name)).toEqual([
      'Report',
      'Totals',
      'Checks',
      'Refunds without receipt',
      'Awaiting refund (accrual)',
      'Expected vs refunded',
      'Refunds by Mirakl reason',
      'Refunds by ReBound reason',
      'Stock restored per offer',
      'Open exceptions at period end',
      'Post-close adjustments',
    ]);
    // Written short, never cut mid-word: Excel allows 31 characters.
    for (const w of workbook.worksheets) expect(w.name.length, w.name).toBeLessThanOrEqual(31);
    const totals = workbook.getWorksheet('Totals') as ExcelJS.Worksheet;
    const gbp = totals.getRow(3);
    expect(gbp.getCell(1).value).toBe('GBP');
    expect(gbp.getCell(2).type).toBe(ExcelJS.ValueType.Number);
    expect(gbp.getCell(2).value).toBe(3);
    expect(gbp.getCell(3).value).toBe(104.99);
    expect(gbp.getCell(3).numFmt).toBe('"£"#,##0.00;-"£"#,##0.00');
    expect(totals.getRow(2).getCell(13).value).toBe(30);
    expect(totals.getRow(2).getCell(13).numFmt).toContain('€');
    expect(totals.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(totals.autoFilter).toBe('A1:O1');

    const accrual = workbook.getWorksheet('Awaiting refund (accrual)') as ExcelJS.Worksheet;
    const first = accrual.getRow(2);
    expect(first.getCell(5).type).toBe(ExcelJS.ValueType.Date);
    expect((first.getCell(5).value as Date).toISOString()).toBe('2026-09-28T11:00:00.000Z');
    expect(first.getCell(5).numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(first.getCell(10).value).toBe(5);
    expect(first.getCell(11).type).toBe(ExcelJS.ValueType.Number);
    const unbacked = workbook.getWorksheet('Refunds without receipt') as ExcelJS.Worksheet;
    expect(unbacked.getRow(2).getCell(11).type).toBe(ExcelJS.ValueType.Boolean);
  });

  it('writes a PDF whose text holds the totals and the check results', () => {
    const text = execFileSync('pdftotext', ['-layout', path('.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain('Returns reconciliation — October 2026');
    expect(text).toMatch(/Refunded: GBP 104\.99 in 3 refund\(s\)/);
    expect(text).toMatch(/Without a verified receipt: GBP 19\.99 \(1\)/);
    expect(text).toMatch(/Awaiting refund at period end \(accrual\): EUR 30\.00 on 1 line\(s\)/);
    expect(text).toMatch(/Opened: 3\s+Received: 2\s+Refunded: 3\s+Closed: 1/);
    expect(text).toMatch(/FAIL\s+Every refund is backed by a verified receipt/);
    expect(text).toMatch(/X-1\s+O-3\s+L-3\s+R-3/);
  });

  it('hashes each file on its way to the disk: the sha256 and size are those of the file written', () => {
    expect(readdirSync(join(temp.dir, 'out')).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) {
      const bytes = readFileSync(f.path);
      expect({ name: f.name, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ name: f.name, bytes: f.bytes, sha256: f.sha256 });
    }
  });

  it('leaves the files already in the folder as they were when a write fails half-way, and nothing half-written', async () => {
    const dir = join(temp.dir, 'rewrite');
    const first = await reports.write(report, dir);
    expect(readdirSync(dir).sort()).toEqual(first.map((f) => f.name).sort());
    // An open exception whose cause cannot be read: the JSON and the first CSVs are written, then the open-exceptions
    // CSV fails after its header.
    const row = report.tables.openExceptions[0];
    expect(row).toBeDefined();
    const broken = Object.defineProperty({ ...row, toJSON: () => row }, 'cause', {
      enumerable: true,
      get: () => {
        throw new Error('the disk is full');
      },
    });
    const failing = { ...report, tables: { ...report.tables, openExceptions: [broken as unknown as typeof row & object] } } as Report;
    await expect(reports.write(failing, dir)).rejects.toThrow('the disk is full');
    expect(readdirSync(dir).sort()).toEqual(first.map((f) => f.name).sort());
    for (const f of first) expect(createHash('sha256').update(readFileSync(f.path)).digest('hex')).toBe(f.sha256);
  });
});
