import { once } from 'node:events';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import PDFDocument from 'pdfkit';
import { moneyFigureHowCounted, moneyFigureLabels, type MoneyFigureName } from '../contract/money';
import type { Report } from '../contract/reports';
import { writeHashed, writeText, type WrittenFile } from './file-out';
import { decimal, grouped, money } from './money';
import { parsePeriod } from './period';
import { fileStem, summaryTable, tablesOf, type Column, type Row, type TableSpec } from './tables';

// The report as files: one CSV per table, one XLSX workbook with a sheet per table (typed cells: numbers as
// numbers, dates as dates, money in its currency's format, frozen header, filters) and a PDF summary (a cover with
// the totals and the checks, then the tables). Money stays integer minor units until the cell is written.
// Each file is streamed to disk as it is produced (a row at a time for the CSV and XLSX), never whole in memory.

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

/**
 * The most rows a table prints in the PDF. Beyond it the table says how many it shows of how many, and that the
 * CSV and XLSX hold them all; its total line is always of every row. Pages are numbered "Page n of m", which needs
 * every page laid out before the first footer is written: they are held until the end (bufferPages), and this cap
 * bounds what is held.
 */
export const pdfRowLimit = 1000;

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

const count = (n: number) => n.toLocaleString('en-GB');
const figureOrder: MoneyFigureName[] = ['receiptsNotRefunded', 'requested', 'awaitingPayment', 'paid', 'refundsWithoutReceipt'];

/** The PDF into `out`: a cover, then every table after the other, flowing across pages, each page numbered. */
function writePdf(report: Report, out: Writable): void {
  const at = new Date(report.generatedAt);
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 36,
    bufferPages: true,
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
  // The figures the dashboard and an evidence bundle show, as at the report's moment: one definition each
  // (core/store/money-figures.ts), quoted with the line that says how each is counted.
  if (report.figures.length) {
    line(`As at ${report.asOf}: the figures the dashboard shows`, { size: 11, bold: true });
    drawTable(doc, figuresTable(report), figureOrder.map((name) => ({ name })), { left, width, fontSize: 8 });
    for (const name of figureOrder) line(`${moneyFigureLabels[name]}: ${moneyFigureHowCounted[name]}${name === 'paid' ? ' Here: dated in this period.' : ''}`, { size: 7 });
    doc.moveDown(0.6);
  }
  const checks = (status: string) => report.checks.filter((c) => c.status === status).length;
  line('Checks', { size: 13, bold: true });
  line(`${checks('pass')} passed, ${checks('fail')} failed, ${checks('warn')} to look at, ${checks('info')} for information.`, { bold: checks('fail') > 0 });
  for (const c of report.checks) line(`${c.status.toUpperCase()}  ${c.label}: ${c.detail}`);
  if (report.status === 'locked' && report.changesSinceLock.length) {
    doc.moveDown(0.4);
    line(`${report.changesSinceLock.length} change(s) touching this period were found after it was locked: see "Changes since this period was locked".`, { bold: true });
  }

  // The tables after the cover, one after the other: a table starts on a new page only when its heading and first
  // rows would not fit on this one, and an empty table is its heading and one line.
  doc.addPage();
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  tablesOf(report)
    .filter((t) => t !== summaryTable && t.id !== 'checks')
    .forEach((table, i) => {
      const rows = table.rows(report);
      if (i > 0) doc.moveDown(0.8);
      if (doc.y + 70 > bottom()) doc.addPage();
      line(table.title, { size: 14, bold: true });
      if (rows.length === 0) {
        line(`None. ${table.about}`, { gap: 0.2 });
        return;
      }
      line(table.about, { gap: 0.2 });
      const shown = rows.length > pdfRowLimit ? rows.slice(0, pdfRowLimit) : rows;
      line(
        rows.length > pdfRowLimit
          ? `First ${count(pdfRowLimit)} of ${count(rows.length)} rows; the full table is in the XLSX and CSV files. The total below is of all ${count(rows.length)} rows.`
          : `${count(rows.length)} row(s).`,
        { size: 8, gap: 0.3 },
      );
      drawTable(doc, table, shown, { left, width, totals: tableTotals(table, rows) });
    });

  // Every page laid out: now each can say which it is of how many. The footer sits in the bottom margin, which pdfkit
  // would otherwise take for a page overflow.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('Helvetica')
      .fontSize(8)
      .text(`Returns reconciliation ${report.period} · Page ${i + 1} of ${range.count}`, left, doc.page.height - margin + 12, { width, align: 'right', lineBreak: false });
    doc.page.margins.bottom = margin;
  }
  doc.end();
}

/** The money figures as a table: a row per figure, a column per currency. */
function figuresTable(report: Report): TableSpec {
  const byName = (row: Row) => row.name as MoneyFigureName;
  return {
    id: 'figures',
    title: 'Money figures',
    about: '',
    columns: [
      { header: 'Figure', type: 'text', width: 2.2, value: (row) => moneyFigureLabels[byName(row)] },
      ...report.figures.map(
        (m): Column => ({
          header: m.currency,
          type: 'text',
          width: 1,
          value: (row) => `${money(m[byName(row)].minor, m.currency)} (${m[byName(row)].count})`,
        }),
      ),
    ],
    rows: () => [],
  };
}

/**
 * The total lines of a table, over every row (also those past the PDF's cap): its summed columns per currency, or
 * once for a table without one. A table that sums nothing has no total line: its row count says it all.
 */
function tableTotals(table: TableSpec, rows: Row[]): string[][] {
  const summed = table.columns.filter((c) => c.isSummed);
  if (summed.length === 0) return [];
  const groups = new Map<string, Map<Column, number>>();
  for (const row of rows) {
    const key = table.currency?.(row) ?? '';
    const sums = groups.get(key) ?? new Map<Column, number>();
    for (const c of summed) sums.set(c, (sums.get(c) ?? 0) + Number(c.value(row) ?? 0));
    groups.set(key, sums);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, sums]) =>
      table.columns.map((c, i) => {
        if (i === 0) return 'Total';
        if (!c.isSummed) return c.header === 'Currency' ? key : '';
        const sum = sums.get(c) ?? 0;
        return c.type === 'money' ? grouped(sum) : count(sum);
      }),
    );
}

interface DrawOptions {
  left: number;
  width: number;
  fontSize?: number;
  /** Lines drawn after the rows, in bold. */
  totals?: string[][];
}

/** A table that flows across pages: on each new page its header row is drawn again before the next row. */
function drawTable(doc: PDFKit.PDFDocument, table: TableSpec, rows: Row[], options: DrawOptions): void {
  const { left, width } = options;
  const total = table.columns.reduce((s, c) => s + c.width, 0);
  const widths = table.columns.map((c) => (c.width / total) * width);
  const fontSize = options.fontSize ?? 7;
  const rowHeight = fontSize + 4;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const header = table.columns.map((c) => printable(c.header));
  const drawRow = (cells: string[], bold: boolean) => {
    const y = doc.y;
    let x = left;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(fontSize);
    cells.forEach((text, i) => {
      const w = widths[i] ?? 0;
      const isNumber = table.columns[i]?.type === 'money' || table.columns[i]?.type === 'int';
      doc.text(text, x + 1, y, { width: w - 2, height: rowHeight, lineBreak: false, ellipsis: true, align: isNumber && i > 0 ? 'right' : 'left' });
      x += w;
    });
    doc.x = left;
    doc.y = y + rowHeight;
  };
  const rule = () => doc.moveTo(left, doc.y - 1.5).lineTo(left + width, doc.y - 1.5).lineWidth(0.4).strokeColor('#999999').stroke();
  const body = (cells: string[], bold: boolean) => {
    if (doc.y + rowHeight > bottom()) {
      doc.addPage();
      drawRow(header, true);
      rule();
    }
    drawRow(cells, bold);
  };
  // The header with at least one row under it: a header alone at the foot of a page starts the next one instead.
  if (doc.y + 2 * rowHeight > bottom()) doc.addPage();
  drawRow(header, true);
  rule();
  for (const row of rows) body(table.columns.map((c) => pdfText(c, row)), false);
  if (options.totals?.length) {
    doc.y += 2;
    rule();
    for (const cells of options.totals) body(cells, true);
  }
  doc.moveDown(0.5);
}
