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
import { pdfRowLimit, writeReportFiles } from './exports';
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
    reports = createReports({ db: store.db, clock, audit: createAuditLog(store.db, clock), mappings: () => mappings, actor: () => 'finance.lead', appVersion: 'test' });
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

  /** The PDF's pages as pdftotext reads them (a tool that did not write the file), one string per page. */
  const pdfPages = (file: string) => {
    const pages = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).split('\f');
    if (pages.at(-1)?.trim() === '') pages.pop();
    return pages;
  };

  it('numbers every page "Page n of m", flows the tables after the cover, and gives an empty table one line under its heading', () => {
    const pages = pdfPages(path('.pdf'));
    expect(pages.length).toBeGreaterThan(1);
    pages.forEach((page, i) => expect(page, `page ${i + 1}`).toContain(`Page ${i + 1} of ${pages.length}`));
    // No page is a heading and "None." alone: every page past the cover holds at least one table's rows.
    for (const [i, page] of pages.entries()) {
      const body = page.replace(/Returns reconciliation 2026-10 · Page \d+ of \d+/, '').trim();
      expect(body.split('\n').filter((l) => l.trim()).length, `page ${i + 1} has more than a heading`).toBeGreaterThan(3);
    }
    // Empty tables of the fixture: each says so in the line under its heading.
    const text = pages.join('\n');
    expect(report.tables.adjustments).toEqual([]);
    expect(text).toMatch(/Post-close adjustments\s*\n\s*None\. Changes touching earlier locked periods/);
    // The seven tables after the cover fit on far fewer pages than one each.
    expect(pages.length).toBeLessThan(1 + 7);
  });

  it('puts on the cover the money figures the report holds (one definition each), and the checks summary', () => {
    const cover = pdfPages(path('.pdf'))[0] ?? '';
    expect(report.figures.length).toBeGreaterThan(0);
    for (const m of report.figures) {
      // The figures as the report holds them (core/store/money-figures.ts), printed, never worked out again.
      expect(cover).toContain(`${m.currency} ${grouped(m.receiptsNotRefunded.minor)} (${m.receiptsNotRefunded.count})`);
      expect(cover).toContain(`${m.currency} ${grouped(m.paid.minor)} (${m.paid.count})`);
    }
    expect(cover).toMatch(/Receipts not refunded/);
    expect(cover).toMatch(/Accepted by Mirakl, awaiting payment/);
    const passed = report.checks.filter((c) => c.status === 'pass').length;
    const failed = report.checks.filter((c) => c.status === 'fail').length;
    expect(cover).toContain(`${passed} passed, ${failed} failed`);
    expect(cover).toContain('Not locked: the figures can still change.');
  });

  it('totals every table it prints: the accrual and variance tables add up to the totals on the cover', () => {
    const text = pdfPages(path('.pdf')).join('\n');
    for (const m of report.money) {
      // The accrual table's Outstanding column, summed per currency, is the cover's accrual figure.
      if (m.accrualLines > 0) expect(text).toMatch(new RegExp(`\\n\\s*Total\\s[^\\n]*\\s${m.currency}\\s[^\\n]*\\s${grouped(m.accrualMinor).replace('.', '\\.')}\\s*\\n`));
    }
    const stock = report.tables.stockByOffer;
    expect(stock.length).toBeGreaterThan(0);
    const restored = stock.reduce((s, r) => s + r.restored, 0);
    const awaiting = stock.reduce((s, r) => s + r.awaiting, 0);
    expect(text).toMatch(new RegExp(`Stock restored per offer[\\s\\S]*?Total\\s+${restored}\\s+${awaiting}\\s`));
    // The variance table's total is the cover's net variance.
    const gbp = report.money.find((m) => m.currency === 'GBP');
    expect(text).toMatch(new RegExp(`Variance between expected[\\s\\S]*?Total\\s[^\\n]*GBP[^\\n]*\\s${grouped(gbp?.varianceMinor ?? NaN).replace('.', '\\.')}\\s*\\n`));
  });

  it('caps a table past the PDF row limit, says so, and totals all its rows; the CSV and XLSX hold every row', async () => {
    const many = Array.from({ length: pdfRowLimit + 234 }, (_, i) => ({ offerSku: `SKU-${String(i).padStart(5, '0')}`, restored: 2, awaiting: i % 3, rejected: 0, skipped: 1 }));
    const big: Report = { ...report, tables: { ...report.tables, stockByOffer: many } };
    const dir = join(temp.dir, 'big');
    mkdirSync(dir);
    const written = await writeReportFiles(big, dir);
    const file = (suffix: string) => (written.find((f) => f.name.endsWith(suffix)) as WrittenFile).path;
    const pages = pdfPages(file('.pdf'));
    pages.forEach((page, i) => expect(page).toContain(`Page ${i + 1} of ${pages.length}`));
    const text = pages.join('\n');
    expect(text).toContain(`First 1,000 of 1,234 rows; the full table is in the XLSX and CSV files. The total below is of all 1,234 rows.`);
    expect(text).toContain('SKU-00999');
    expect(text).not.toContain('SKU-01000');
    const awaiting = many.reduce((s, r) => s + r.awaiting, 0);
    expect(text).toMatch(new RegExp(`Total\\s+2,468\\s+${awaiting.toLocaleString('en-GB')}\\s+0\\s+1,234\\s`));
    // The header row is drawn again on every page the stock table flows onto.
    const stockPages = pages.filter((p) => /SKU-\d{5}/.test(p));
    expect(stockPages.length).toBeGreaterThan(5);
    for (const p of stockPages) expect(p).toMatch(/Offer SKU\s+Restored\s+Awaiting at period end\s+Rejected\s+Skipped/);
    expect((parse(readFileSync(file('-stock-by-offer.csv')), { columns: true }) as unknown[]).length).toBe(1234);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file('.xlsx'));
    expect((workbook.getWorksheet('Stock restored per offer') as ExcelJS.Worksheet).actualRowCount).toBe(1235);
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

  it('never replaces a file already exported: a second write into the same folder is refused, naming the files', async () => {
    const dir = join(temp.dir, 'again');
    const first = await reports.write(report, dir);
    await expect(reports.write({ ...report, generatedAt: '2030-01-01T00:00:00.000Z' }, dir)).rejects.toThrow(/already exist, and exports never replace files/);
    expect(readdirSync(dir).sort()).toEqual(first.map((f) => f.name).sort());
    for (const f of first) expect(createHash('sha256').update(readFileSync(f.path)).digest('hex')).toBe(f.sha256);
  });
});
