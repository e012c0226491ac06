import { once } from 'node:events';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import PDFDocument from 'pdfkit';
import type { Report } from '../contract/reports';
import { writeHashed, writeText, type WrittenFile } from './file-out';
import { decimal, grouped, money } from './money';
import { parsePeriod } from './period';
import { fileStem, summaryTable, tablesOf, type Column, type Row, type TableSpec } from './tables';

// The report as files: one CSV per table, one XLSX workbook with a sheet per table (typed cells: numbers as
// numbers, dates as dates, money in its currency's format, frozen header, filters) and a PDF summary (a cover with
// the totals and the checks, then the tables). Money stays integer minor units until the cell is written.
// Each file is streamed to disk as it is produced (a row at a time for the CSV and XLSX), never whole in memory.

const pdfRowLimit = 200;

/**
 * Writes the report's files into `dir` (a staging folder: see file-out.ts): the report as JSON, a CSV per table, the
 * XLSX workbook and the PDF, each hashed as it is written.
 */
export async function writeReportFiles(report: Report, dir: string): Promise<WrittenFile[]> {
  const stem = fileStem(report);
  const files = [await writeText(join(dir, `${stem}.json`), JSON.stringify(report, null, 2) + '\n')];
  for (const table of tablesOf(report)) files.push(await writeHashed(join(dir, `${stem}-${table.id}.csv`), (out) => writeCsv(report, table, out)));
  files.push(await writeHashed(join(dir, `${stem}.xlsx`), (out) => writeXlsx(report, out)));
  files.push(await writeHashed(join(dir, `${stem}.pdf`), (out) => writePdf(report, out)));
  return files;
}

// --- CSV ------------------------------------------------------------------------------------------------------

function csvValue(column: Column, row: Row): string {
  const value = column.value(row);
  if (value === null || value === undefined) return '';
  if (column.type === 'money') return decimal(Number(value));
  if (column.type === 'bool') return value ? 'true' : 'false';
  return String(value);
}

/** One table as CSV into `out`, a record at a time, header first. */
async function writeCsv(report: Report, table: TableSpec, out: Writable): Promise<void> {
  const csv = stringify({ record_delimiter: 'unix' });
  const piped = pipeline(csv, out);
  const records = (function* () {
    yield table.columns.map((c) => c.header);
    for (const row of table.rows(report)) yield table.columns.map((c) => csvValue(c, row));
  })();
  try {
    for (const record of records) if (!csv.write(record)) await Promise.race([once(csv, 'drain'), piped]);
    csv.end();
  } catch (error) {
    csv.destroy(error as Error);
  }
  await piped;
}

// --- XLSX -----------------------------------------------------------------------------------------------------

const symbols: Record<string, string> = { GBP: '£', EUR: '€', USD: '$' };

/** Excel number format for an amount in `currency`: "£#,##0.00", or "#,##0.00 "SEK"" for others. */
export function currencyFormat(currency: string | null): string {
  if (!currency || currency === '?') return '#,##0.00';
  const symbol = symbols[currency];
  return symbol ? `"${symbol}"#,##0.00;-"${symbol}"#,##0.00` : `#,##0.00 "${currency}";-#,##0.00 "${currency}"`;
}

const dateFormat = 'yyyy-mm-dd hh:mm:ss';

function xlsxValue(column: Column, row: Row): ExcelJS.CellValue {
  const value = column.value(row);
  if (value === null || value === undefined || value === '') return null;
  switch (column.type) {
    case 'money':
      // Minor units to the amount Excel shows; the decimal text is exact, so is the double nearest to it.
      return Number(decimal(Number(value)));
    case 'int':
      return Number(value);
    case 'date':
      return new Date(String(value));
    case 'bool':
      return Boolean(value);
    default:
      return String(value);
  }
}

type SheetWriter = ReturnType<ExcelJS.stream.xlsx.WorkbookWriter['addWorksheet']>;

function addTableSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, report: Report, table: TableSpec): void {
  const sheet = workbook.addWorksheet(sheetName(table.sheet ?? table.title), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = table.columns.map((c) => ({ header: c.header, key: c.header, width: Math.max(10, Math.round(c.width * 16)) }));
  header(sheet, table.columns.length);
  for (const row of table.rows(report)) {
    const added = sheet.addRow(table.columns.map((c) => xlsxValue(c, row)));
    table.columns.forEach((c, i) => {
      const cell = added.getCell(i + 1);
      if (c.type === 'money') cell.numFmt = currencyFormat(table.currency?.(row) ?? null);
      else if (c.type === 'date') cell.numFmt = dateFormat;
      else if (c.type === 'int') cell.numFmt = '0';
    });
    added.commit();
  }
  sheet.commit();
}

function header(sheet: SheetWriter, columns: number): void {
  sheet.getRow(1).font = { bold: true };
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns } };
}

/** Excel sheet names: at most 31 characters (a table with a longer title names its sheet), none of []:*?/\ */
function sheetName(name: string): string {
  if (name.length > 31) throw new Error(`sheet name "${name}" is longer than Excel's 31 characters: give its table a short sheet name`);
  return name.replace(/[[\]:*?/\\]/g, ' ');
}

/** Written with exceljs's streaming writer into `out`: each row is committed (serialised and let go) as it is added. */
async function writeXlsx(report: Report, out: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const at = new Date(report.generatedAt);
  workbook.creator = 'Returns Workbench';
  workbook.created = at;
  workbook.modified = at;
  workbook.title = `Returns reconciliation ${report.period}`;

  const about = workbook.addWorksheet('Report', { views: [{ state: 'frozen', ySplit: 1 }] });
  about.columns = [
    { header: 'Field', key: 'field', width: 34 },
    { header: 'Value', key: 'value', width: 60 },
  ];
  header(about, 2);
  const facts: [string, ExcelJS.CellValue, string?][] = [
    ['Period', report.period],
    ['From', new Date(report.from), dateFormat],
    ['To (exclusive)', new Date(report.to), dateFormat],
    ['As at', new Date(report.asOf), dateFormat],
    ['Generated at', new Date(report.generatedAt), dateFormat],
    ['Status', report.status === 'locked' ? `LOCKED by ${report.lock?.lockedBy} at ${report.lock?.lockedAt}` : report.isPeriodComplete ? 'live' : 'provisional (period not ended)'],
    ['Locked report sha256', report.lock?.reportSha256 ?? null],
    ['Returns opened', report.returns.opened, '0'],
    ['Returns received (first verified receipt)', report.returns.received, '0'],
    ['Returns refunded', report.returns.refunded, '0'],
    ['Returns closed', report.returns.closed, '0'],
    ['Units verified', report.units.verified, '0'],
    ['Units restocked', report.units.restocked, '0'],
    ['Units awaiting restock at period end', report.units.awaitingRestock, '0'],
    ['Refund tolerance (minor units)', report.toleranceMinor, '0'],
    ...Object.entries(report.mappingVersions).map(([k, v]): [string, string] => [`Mapping ${k}`, v]),
  ];
  for (const [field, value, format] of facts) {
    const row = about.addRow([field, value]);
    if (format) row.getCell(2).numFmt = format;
    row.commit();
  }
  about.commit();

  for (const table of tablesOf(report)) addTableSheet(workbook, report, table);
  await workbook.commit();
}

// --- PDF ------------------------------------------------------------------------------------------------------

/** The standard PDF fonts cover Windows-1252; anything else is shown as '?' rather than as garbage. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u00ff€–—‘’“”•…]/g, '?');
}

/** Money cells show the amount; the row's Currency column says in what. */
function pdfText(column: Column, row: Row): string {
  const value = column.value(row);
  if (value === null || value === undefined) return '';
  if (column.type === 'money') return grouped(Number(value));
  if (column.type === 'bool') return value ? 'yes' : 'no';
  if (column.type === 'date') return String(value).slice(0, 16).replace('T', ' ');
  return printable(String(value));
}

/** The PDF into `out`: pdfkit emits each page as it is finished. */
function writePdf(report: Report, out: Writable): void {
  const at = new Date(report.generatedAt);
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 36,
    info: { Title: `Returns reconciliation ${report.period}`, Author: 'Returns Workbench', CreationDate: at, ModDate: at },
  });
  doc.pipe(out);
  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const line = (text: string, options: { size?: number; bold?: boolean; gap?: number } = {}) => {
    doc.font(options.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(options.size ?? 10).text(printable(text), left, undefined, { width });
    if (options.gap) doc.moveDown(options.gap);
  };

  // Cover: what the period was, whether it is locked, the totals per currency and every check.
  const period = parsePeriod(report.period);
  line(`Returns reconciliation — ${period.label}`, { size: 20, bold: true, gap: 0.3 });
  line(`Period ${report.from} to ${report.to} (exclusive), figures as at ${report.asOf}. Generated ${report.generatedAt}.`);
  line(
    report.status === 'locked'
      ? `LOCKED by ${report.lock?.lockedBy} at ${report.lock?.lockedAt}${report.lock?.reason ? ` (${report.lock.reason})` : ''}. Report sha256 ${report.lock?.reportSha256}.`
      : report.isPeriodComplete
        ? 'Not locked: the figures can still change.'
        : 'PROVISIONAL: the period has not ended.',
    { bold: true, gap: 0.6 },
  );
  line('Returns', { size: 13, bold: true });
  line(
    `Opened: ${report.returns.opened}   Received: ${report.returns.received}   Refunded: ${report.returns.refunded}   Closed: ${report.returns.closed}   ` +
      `Units verified: ${report.units.verified}   Units restocked: ${report.units.restocked}`,
    { gap: 0.6 },
  );
  line('Totals per currency', { size: 13, bold: true });
  if (report.money.length === 0) line('No refunds, receipts or adjustments in this period.');
  for (const m of report.money) {
    line(`${m.currency}`, { bold: true });
    line(`Refunded: ${money(m.refundedMinor, m.currency)} in ${m.refunds} refund(s), plus shipping ${money(m.shippingRefundedMinor, m.currency)}`);
    line(`Backed by a verified receipt: ${money(m.backedMinor, m.currency)} (${m.backedRefunds})   Without a verified receipt: ${money(m.unbackedMinor, m.currency)} (${m.unbackedRefunds})`);
    line(`Expected for the lines refunded: ${money(m.expectedMinor, m.currency)}   Refunded on them by period end: ${money(m.refundedToDateMinor, m.currency)}   Variance: ${money(m.varianceMinor, m.currency)}`);
    line(`Awaiting refund at period end (accrual): ${money(m.accrualMinor, m.currency)} on ${m.accrualLines} line(s)`);
    if (m.adjustedRefundsMinor !== 0 || m.adjustedAccrualMinor !== 0) {
      line(`Post-close adjustments: refunds ${money(m.adjustedRefundsMinor, m.currency)}, accrual ${money(m.adjustedAccrualMinor, m.currency)}`);
    }
    doc.moveDown(0.4);
  }
  line('Checks', { size: 13, bold: true });
  for (const c of report.checks) line(`${c.status.toUpperCase()}  ${c.label}: ${c.detail}`);
  if (report.status === 'locked' && report.changesSinceLock.length) {
    doc.moveDown(0.4);
    line(`${report.changesSinceLock.length} change(s) touching this period were found after it was locked: see "Changes since this period was locked".`, { bold: true });
  }

  for (const table of tablesOf(report).filter((t) => t !== summaryTable && t.id !== 'checks')) {
    doc.addPage();
    const rows = table.rows(report);
    line(table.title, { size: 14, bold: true });
    line(table.about, { gap: 0.4 });
    if (rows.length === 0) {
      line('None.');
      continue;
    }
    drawTable(doc, table, rows.slice(0, pdfRowLimit), left, width);
    if (rows.length > pdfRowLimit) line(`… and ${rows.length - pdfRowLimit} more row(s): see the CSV and XLSX files.`, { gap: 0.2 });
  }
  doc.end();
}

function drawTable(doc: PDFKit.PDFDocument, table: TableSpec, rows: Row[], left: number, width: number): void {
  const total = table.columns.reduce((s, c) => s + c.width, 0);
  const widths = table.columns.map((c) => (c.width / total) * width);
  const fontSize = 7;
  const rowHeight = fontSize + 4;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const drawRow = (cells: string[], bold: boolean) => {
    if (doc.y + rowHeight > bottom()) doc.addPage();
    const y = doc.y;
    let x = left;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(fontSize);
    cells.forEach((text, i) => {
      const w = widths[i] ?? 0;
      const isNumber = table.columns[i]?.type === 'money' || table.columns[i]?.type === 'int';
      doc.text(text, x + 1, y, { width: w - 2, height: rowHeight, lineBreak: false, ellipsis: true, align: isNumber ? 'right' : 'left' });
      x += w;
    });
    doc.x = left;
    doc.y = y + rowHeight;
  };
  drawRow(table.columns.map((c) => printable(c.header)), true);
  for (const row of rows) drawRow(table.columns.map((c) => pdfText(c, row)), false);
  doc.moveDown(0.5);
}
