import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Download, type Locator, type Page } from '@playwright/test';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { bundleCommand, type Report } from '../../core/contract';
import { call, go, openApp, shot, watchErrors, withSyncPaused } from './support';

// The finance analyst on a first start in Sandbox mode (issue 24): Reports, the month before the sandbox's current
// one (finished, with refunds in it), exported with its evidence bundle and its totals downloaded — the CSV and the
// XLSX read back here must say what the report says — then the month locked. The page then says the files were made
// before the lock and suggests exporting again; exporting again writes new files and leaves the earlier ones as they
// were.

const monthLabel = (period: string) => new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.parse(`${period}-01T00:00:00Z`));
const previousMonth = (period: string) => {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, month - 2, 1)).toISOString().slice(0, 7);
};
/** The CSV's and the XLSX's money: plain decimals of the minor units. */
const decimal = (minor: number) => `${minor < 0 ? '-' : ''}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;
const downloads = 'test-output/downloads';

/** Clicks the file's Download button and saves what the browser downloaded under its suggested name. */
async function download(files: Locator, page: Page, name: string): Promise<{ file: string; download: Download }> {
  const [got] = await Promise.all([page.waitForEvent('download'), files.getByRole('button', { name: `Download ${name}`, exact: true }).click()]);
  expect(got.suggestedFilename()).toBe(name);
  mkdirSync(downloads, { recursive: true });
  const file = join(downloads, got.suggestedFilename());
  await got.saveAs(file);
  return { file, download: got };
}

/** Each currency's refunds and amounts in the report's money totals, as the exports write them. */
const expectedTotals = (report: Report) =>
  report.money.map((m) => ({ currency: m.currency, refunds: m.refunds, refunded: decimal(m.refundedMinor), accrual: decimal(m.accrualMinor) })).sort((a, b) => a.currency.localeCompare(b.currency));

test('finance analyst: exports, downloads and locks the previous sandbox month on first start, then re-exports without losing a file', async ({ browser }) => {
  test.setTimeout(180_000);
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const watch = watchErrors(page);
  try {
    await openApp(page);
    await go(page, 'reports', 'Reports');
    const periods = page.getByRole('table', { name: /^Periods/ });
    await expect(periods).toBeVisible();

    const { periods: listed } = await call('reports.list', {});
    const current = listed.find((p) => !p.isComplete);
    expect(current, 'the sandbox has a month in progress').toBeTruthy();
    const period = previousMonth(current?.period ?? '');
    const label = monthLabel(period);
    expect(listed.find((p) => p.period === period), `${label} is finished, not locked, and has returns`).toMatchObject({ isComplete: true, lock: null });
    await expect(periods.locator(`tr[data-period="${period}"]`)).toContainText('Complete');

    const view = page.getByRole('region', { name: `Report for ${label}` });
    const files = view.getByRole('region', { name: 'Files written' });
    // Paused while the figures on screen, the files and the contract's report are compared: nothing moves meanwhile.
    const exported = await withSyncPaused(
      `refunds in ${label}`,
      async () => (await call('reports.get', { period })).money.some((m) => m.refunds > 0),
      async () => {
        await page.getByRole('button', { name: `Show the report for ${label}` }).click();
        await expect(view.getByTestId('report-status')).toHaveText('Not locked');
        const report = await call('reports.get', { period });
        const withRefunds = report.money.filter((m) => m.refunds > 0);
        expect(withRefunds.length, `${label} has refunds`).toBeGreaterThan(0);
        const refundCell = (currency: string) =>
          view.getByTestId('money-table').locator('tr', { has: page.getByRole('rowheader', { name: 'Refunds dated in the period', exact: true }) }).locator(`td[data-currency="${currency}"]`);
        for (const m of withRefunds) await expect(refundCell(m.currency)).toHaveText(m.refunds.toLocaleString('en-GB'));
        await shot(page, 'finance-month');

        await view.getByRole('button', { name: 'Export with evidence bundle' }).click();
        await expect(page.getByTestId('notice-ok').filter({ hasText: `and the evidence bundle for ${label}` })).toBeVisible({ timeout: 60_000 });
        await expect(files).toContainText('while the month was not locked');

        // The totals downloaded as a person would: the browser's download, read back by tools that did not write it.
        const csv = await download(files, page, `returns-report-${period}-summary.csv`);
        const rows = parse(readFileSync(csv.file, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
        const fromCsv = rows.map((r) => ({ currency: r.Currency ?? '', refunds: Number(r.Refunds), refunded: r.Refunded, accrual: r['Awaiting refund (accrual)'] }));
        expect(fromCsv.sort((a, b) => a.currency.localeCompare(b.currency))).toEqual(expectedTotals(report));

        const xlsx = await download(files, page, `returns-report-${period}.xlsx`);
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.readFile(xlsx.file);
        const header = (sheet: ExcelJS.Worksheet) => (sheet.getRow(1).values as unknown[]).map((v) => String(v ?? ''));
        const totals = workbook.worksheets.find((sheet) => ['Currency', 'Refunds', 'Refunded'].every((h) => header(sheet).includes(h)));
        expect(totals, 'the workbook has a sheet of totals per currency').toBeTruthy();
        const column = (name: string) => header(totals as ExcelJS.Worksheet).indexOf(name);
        const fromXlsx: ReturnType<typeof expectedTotals> = [];
        totals?.eachRow((row, n) => {
          if (n === 1) return;
          const cell = (name: string) => row.getCell(column(name)).value;
          fromXlsx.push({ currency: String(cell('Currency')), refunds: Number(cell('Refunds')), refunded: Number(cell('Refunded')).toFixed(2), accrual: Number(cell('Awaiting refund (accrual)')).toFixed(2) });
        });
        expect(fromXlsx.sort((a, b) => a.currency.localeCompare(b.currency))).toEqual(expectedTotals(report));

        const bundleRow = files.locator(`tr[data-file="returns-evidence-${period}.zip"]`);
        const bundle = (await bundleRow.locator('td code').textContent()) ?? '';
        await expect(view.getByTestId('bundle-command')).toHaveText(bundleCommand(bundle));
        return { bundle, bundleBytes: statSync(bundle).size };
      },
    );
    await shot(page, 'finance-exported');

    // Signed as its preparer; review needs a second person, which this one-person browser mode cannot have: the page
    // says so beside the disabled button. (The lock does not wait for the sign-off here: only a team server asks it.)
    const signOff = view.getByRole('region', { name: 'Sign-off' });
    await signOff.getByLabel(/^Note/).fill('Checked against the bank (finance e2e)');
    await signOff.getByRole('button', { name: 'Sign as preparer' }).click();
    await expect(signOff.locator('li[data-signoff="prepared"]')).toContainText('“Checked against the bank (finance e2e)”');
    await expect(signOff.getByRole('button', { name: 'Sign as reviewer' })).toBeDisabled();
    await expect(signOff.getByTestId('why-not-reviewed')).toContainText('Review needs a second person');
    await expect(signOff.getByTestId('why-not-reviewed')).toContainText('On a team server');
    await expect(view.getByRole('button', { name: 'Lock period…' })).toBeEnabled();
    await shot(page, 'finance-signoff-loopback');

    // Locked: the files just made say "Not locked", and the page says so and suggests exporting again.
    await view.getByRole('button', { name: 'Lock period…' }).click();
    const dialog = page.getByRole('dialog', { name: `Lock ${label}` });
    await dialog.getByLabel(/^Reason/).fill('Month-end close (finance e2e)');
    await dialog.getByRole('button', { name: `Lock ${label}` }).click();
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    await expect(view.getByTestId('report-status')).toHaveText('Locked');
    await expect(page.getByTestId('notice-ok').filter({ hasText: `Locked ${label}` })).toContainText('export again');
    const hint = view.getByTestId('export-before-lock');
    await expect(hint).toContainText(`exported before ${label} was locked`);
    await expect(hint).toContainText('Export again');
    await shot(page, 'finance-locked-hint');

    // Exported again: new files in a folder of their own; the ones made before the lock are still there, unchanged.
    await view.getByRole('button', { name: 'Export with evidence bundle' }).click();
    await expect(files).toContainText('while the month was locked', { timeout: 60_000 });
    await expect(view.getByTestId('earlier-exports')).toContainText(`1 earlier export of ${label} is kept beside it.`);
    await expect(hint).toHaveCount(0);
    const again = (await files.locator(`tr[data-file="returns-evidence-${period}.zip"] td code`).textContent()) ?? '';
    expect(again).not.toBe(exported.bundle);
    expect(existsSync(again)).toBe(true);
    expect(statSync(exported.bundle).size).toBe(exported.bundleBytes);
    const relocked = await download(files, page, `returns-report-${period}-summary.csv`);
    const lockedReport = await call('reports.get', { period });
    expect(lockedReport.status).toBe('locked');
    const lockedRows = parse(readFileSync(relocked.file, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
    expect(lockedRows.map((r) => ({ currency: r.Currency ?? '', refunds: Number(r.Refunds), refunded: r.Refunded, accrual: r['Awaiting refund (accrual)'] })).sort((a, b) => a.currency.localeCompare(b.currency))).toEqual(
      expectedTotals(lockedReport),
    );
    await shot(page, 'finance-reexported');
    watch.expectNone();
  } finally {
    await page.close();
  }
});
