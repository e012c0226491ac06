import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import { unzipSync, zipSync } from 'fflate';
import type { Report } from '../../core/contract';
import { call, go, openApp, shot, waitFor, watchErrors, withSyncPaused } from './support';

// The month-end Reports view against the real web host in Sandbox mode: a month's totals and checks as the contract
// gives them, the export with its evidence bundle written to disk, then that bundle opened read-only by a second web
// host started from the real CLI (`web --bundle`), intact and then with one file changed inside it. Last, a month is
// locked from one window while a second window tries too and is shown the contract's refusal word for word; then it
// is reopened, with a reason, and is live again with its lock kept as history.
// The tests share the bundle, so they run in order.
test.describe.configure({ mode: 'serial' });

const root = new URL('../../', import.meta.url).pathname;

/** What the view shows, formatted as the renderer formats it (en-GB). */
const monthLabel = (period: string) => new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.parse(`${period}-01T00:00:00Z`));
const count = (n: number) => n.toLocaleString('en-GB');
const money = (minor: number, currency: string) =>
  currency === '?' ? `${(minor / 100).toFixed(2)} ?` : new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(minor / 100);
const checkWords = { pass: 'Pass', fail: 'Fail', warn: 'Warning', info: 'Info' } as const;

/** The bundle exported through the UI by the first test, for the ones that open it. */
let exported: { file: string; period: string } | null = null;
/** The month the lock test locked, for the test that reopens it. */
let lockedMonth: string | null = null;

async function newPage(browser: Browser) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  return { page, watch: watchErrors(page) };
}

/** The report's totals and checks on screen match `expected`. */
async function expectReportShown(view: Locator, expected: Report): Promise<void> {
  const figures = {
    'Returns opened': expected.returns.opened,
    'Returns received': expected.returns.received,
    'Returns refunded': expected.returns.refunded,
    'Returns closed': expected.returns.closed,
    'Units verified': expected.units.verified,
  };
  for (const [name, value] of Object.entries(figures)) await expect(view.getByRole('group', { name, exact: true }).locator('.figure-value')).toHaveText(count(value));

  const moneyTable = view.getByTestId('money-table');
  const cell = (measure: string, currency: string) => moneyTable.locator('tr', { has: view.page().getByRole('rowheader', { name: measure, exact: true }) }).locator(`td[data-currency="${currency}"]`);
  for (const m of expected.money) {
    await expect(cell('Refunds dated in the period', m.currency)).toHaveText(count(m.refunds));
    await expect(cell('Refunded (goods)', m.currency)).toHaveText(money(m.refundedMinor, m.currency));
    await expect(cell('Backed by a verified receipt', m.currency)).toContainText(money(m.backedMinor, m.currency));
    await expect(cell('Not backed by a verified receipt', m.currency)).toContainText(money(m.unbackedMinor, m.currency));
    await expect(cell('Awaiting refund (accrual)', m.currency)).toContainText(money(m.accrualMinor, m.currency));
    await expect(cell('Variance', m.currency)).toHaveText(money(m.varianceMinor, m.currency));
  }

  const checks = view.getByTestId('checks-table');
  await expect(checks.locator('tbody tr')).toHaveCount(expected.checks.length);
  for (const c of expected.checks) {
    const line = checks.locator(`tr[data-check="${c.id}"]`);
    await expect(line.getByRole('rowheader')).toHaveText(c.label);
    await expect(line.locator('.check-result')).toHaveText(checkWords[c.status]);
  }
}

/**
 * Starts `web --bundle FILE` from the real CLI on a free port with its own temp folder (where the bundle is
 * extracted), and reads its JSON line. `stop` ends it and removes the folder.
 */
async function startBundleHost(file: string) {
  const tmp = mkdtempSync(join(tmpdir(), 'rw-e2e-bundle-'));
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'core', 'cli', 'web.ts'), '--bundle', file, '--json', '--port', '0'],
    { cwd: root, env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const started = await new Promise<{ url: string; verified: boolean; period: string | null }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bundle host printed nothing within 60 s')), 60_000);
      void exited.then(() => reject(new Error(`the bundle host exited with ${child.exitCode} before it was ready`)));
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
    return { ...started, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The report inside a bundle file, read straight from the zip (what the bundle host must serve). */
function reportInside(file: string, period: string): Report {
  const entries = unzipSync(new Uint8Array(readFileSync(file)));
  const data = entries[`report/returns-report-${period}.json`];
  if (!data) throw new Error(`${file} holds no report for ${period}`);
  return JSON.parse(new TextDecoder().decode(data)) as Report;
}

test("shows a month's totals and checks, and exports it with its evidence bundle", async ({ browser }) => {
  test.setTimeout(120_000);
  const { page, watch } = await newPage(browser);
  try {
    await openApp(page);
    await go(page, 'reports', 'Reports');
    await expect(page.getByRole('table', { name: /^Periods/ })).toBeVisible();

    // A month whose report has refunds in it; paused, so the figures on screen and the contract's agree.
    // A finished month first: its report is as of the month's end, so the screen and the contract agree whenever each
    // was read. A month in progress is as of now, and a receipt may turn stale between the two reads (seen in CI:
    // "Verified receipts are refunded" Info on screen, Warning from the contract a moment later).
    const withRefunds = async () => {
      const { periods } = await call('reports.list', {});
      for (const p of [...periods.filter((q) => q.isComplete), ...periods.filter((q) => !q.isComplete)]) {
        if (p.returnsOpened === 0) continue;
        const report = await call('reports.get', { period: p.period });
        if (report.money.length > 0 && report.returns.refunded > 0) return p.period;
      }
      return null;
    };
    const period = await withSyncPaused('a month with refunds', async () => (await withRefunds()) !== null, async () => {
      const chosen = await waitFor('the month with refunds', withRefunds, 5_000);
      await page.getByRole('button', { name: `Show the report for ${monthLabel(chosen)}` }).click();
      const view = page.getByRole('region', { name: `Report for ${monthLabel(chosen)}` });
      await expect(view.getByRole('group', { name: 'Returns opened', exact: true })).toBeVisible();
      await expectReportShown(view, await call('reports.get', { period: chosen }));
      return chosen;
    });

    const view = page.getByRole('region', { name: `Report for ${monthLabel(period)}` });
    await expect(view.getByTestId('checks-summary')).toHaveText(/^\d+ passed, \d+ failed, \d+ to look at, \d+ for information\.$/);
    await expect(view.getByRole('table', { name: /^Refunds by Mirakl reason: / })).toBeVisible();

    await view.getByRole('button', { name: 'Export with evidence bundle' }).click();
    const files = view.getByRole('region', { name: 'Files written' });
    const bundleName = `returns-evidence-${period}.zip`;
    const bundleRow = files.locator(`tr[data-file="${bundleName}"]`);
    // The month in progress at 18,000x holds a couple of thousand returns by now: its files and bundle take seconds.
    await expect(bundleRow).toContainText('evidence bundle', { timeout: 60_000 });
    await expect(page.getByTestId('notice-ok').filter({ hasText: `and the evidence bundle for ${monthLabel(period)}` })).toBeVisible();
    for (const ext of ['csv', 'xlsx', 'pdf', 'json']) await expect(files.locator(`tr[data-file$=".${ext}"]`).first()).toBeVisible();

    const file = (await bundleRow.locator('td code').textContent()) ?? '';
    expect(file.startsWith(join(process.env.RW_E2E_DATA_DIR ?? '', 'reports', period))).toBe(true);
    expect(file.endsWith(bundleName)).toBe(true);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(Number(await bundleRow.locator('td[data-bytes]').getAttribute('data-bytes')));
    for (const row of await files.locator('tbody tr').all()) expect(existsSync((await row.locator('td code').textContent()) ?? '')).toBe(true);

    await shot(page, 'reports-month');
    watch.expectNone();
    exported = { file, period };
  } finally {
    await page.close();
  }
});

test('opens that evidence bundle read-only: verified banner, its report, its returns', async ({ browser }) => {
  test.setTimeout(120_000);
  if (!exported) throw new Error('the first test exported no bundle');
  const { file, period } = exported;
  const expected = reportInside(file, period);
  const host = await startBundleHost(file);
  const { page, watch } = await newPage(browser);
  try {
    expect(host).toMatchObject({ verified: true, period });
    await page.goto(host.url);
    const banner = page.getByRole('status', { name: 'Evidence bundle' });
    await expect(banner).toContainText(`Evidence bundle ${file} for ${period} — read-only.`);
    await expect(banner).toContainText('Verified: every file matches its manifest');
    await expect(page.getByRole('alert', { name: 'Evidence bundle altered' })).toHaveCount(0);

    // A bundle opens on its report; nothing in the view can act.
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Reports');
    await expect(page.getByRole('note')).toContainText('read-only');
    await expect(page.getByRole('table', { name: /^Periods/ }).locator('tbody tr')).toHaveCount(1);
    const view = page.getByRole('region', { name: `Report for ${monthLabel(period)}` });
    await expectReportShown(view, expected);
    for (const name of ['Export files', 'Export with evidence bundle', 'Lock period…', 'Refresh report']) await expect(page.getByRole('button', { name })).toHaveCount(0);
    await shot(page, 'reports-bundle');

    await go(page, 'returns', 'Returns');
    const grid = page.getByTestId('returns-grid');
    await expect(grid.locator('.ag-row[row-index="0"] [col-id="commercialId"]')).not.toBeEmpty();
    await expect(page.locator('.grid-status')).toHaveText(/^[\d,]+ returns?$/);
    await shot(page, 'reports-bundle-returns');

    // Nor can anything act on its exceptions (issue 24): no action is shown, rather than buttons then refused.
    await go(page, 'exceptions', 'Exceptions');
    const queue = page.getByRole('grid', { name: 'Exception queue' });
    if ((await queue.count()) > 0) {
      await queue.locator('tbody tr').first().getByRole('button', { name: /^Open exception/ }).click();
      const panel = page.getByRole('region', { name: /^Exception \d+:/ });
      await expect(panel.getByTestId('read-only-actions')).toContainText('read-only');
      await expect(panel.getByRole('button', { name: /Resolve by hand|Assign|Snooze|Add comment|Reopen/ })).toHaveCount(0);
      await expect(queue.locator('tbody tr [data-action]')).toHaveCount(0);
      await shot(page, 'reports-bundle-exceptions');
    }
    watch.expectNone();
  } finally {
    await page.close();
    await host.stop();
  }
});

test('a bundle with one file changed inside it is shown with an alert naming that file', async ({ browser }) => {
  test.setTimeout(120_000);
  if (!exported) throw new Error('the first test exported no bundle');
  const { file, period } = exported;
  const dir = mkdtempSync(join(tmpdir(), 'rw-e2e-tampered-'));
  try {
    // One figure of the summary CSV raised by one, the zip rebuilt around it: everything else is untouched.
    const entries = unzipSync(new Uint8Array(readFileSync(file)));
    const target = `report/returns-report-${period}-summary.csv`;
    const original = new TextDecoder().decode(entries[target]);
    const altered = original.replace(/\n([A-Z?]{1,3}),(\d+),/, (_, currency: string, refunds: string) => `\n${currency},${Number(refunds) + 1},`);
    expect(altered, 'the summary CSV has a currency line to change').not.toBe(original);
    entries[target] = new TextEncoder().encode(altered);
    const tampered = join(dir, `returns-evidence-${period}-altered.zip`);
    writeFileSync(tampered, zipSync(entries));

    const host = await startBundleHost(tampered);
    const { page, watch } = await newPage(browser);
    try {
      expect(host.verified).toBe(false);
      await page.goto(host.url);
      await expect(page.getByRole('status', { name: 'Evidence bundle' })).toContainText(`Evidence bundle ${tampered} for ${period} — read-only.`);
      await expect(page.getByRole('status', { name: 'Evidence bundle' })).not.toContainText('Verified');
      const alert = page.getByRole('alert', { name: 'Evidence bundle altered' });
      await expect(alert).toContainText('This evidence bundle was altered after it was made');
      await expect(alert.getByRole('listitem')).toHaveCount(1);
      await expect(alert.getByRole('listitem')).toContainText(`${target} — altered: its content changed`);
      // The report itself is still shown, for the reviewer to compare.
      await expect(page.getByRole('region', { name: `Report for ${monthLabel(period)}` }).getByTestId('checks-table')).toBeVisible();
      await shot(page, 'reports-bundle-altered');
      watch.expectNone();
    } finally {
      await page.close();
      await host.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('locks a finished month with a reason; a second window locking it too is shown the refusal exactly', async ({ browser }) => {
  // The finance analyst's spec locks the month before the opening; the next one ends within 150 s at this speed.
  test.setTimeout(240_000);
  const finished = await waitFor(
    'a finished month with returns that is not locked',
    async () => (await call('reports.list', {})).periods.find((p) => p.isComplete && !p.lock && p.returnsOpened > 0),
    170_000,
    1000,
  );
  const period = finished.period;
  const label = monthLabel(period);
  const first = await newPage(browser);
  const second = await newPage(browser);
  try {
    const openLockDialog = async (page: Page) => {
      await openApp(page);
      await go(page, 'reports', 'Reports');
      await page.getByRole('button', { name: `Show the report for ${label}` }).click();
      await page.getByRole('region', { name: `Report for ${label}` }).getByRole('button', { name: 'Lock period…' }).click();
      return page.getByRole('dialog', { name: `Lock ${label}` });
    };
    const late = await openLockDialog(second.page);
    await late.getByLabel(/^Reason/).fill('Closing it from the other window (e2e)');

    const dialog = await openLockDialog(first.page);
    await dialog.getByLabel(/^Reason/).fill('Month-end close (e2e)');
    await dialog.getByRole('button', { name: `Lock ${label}` }).click();
    // A full month at this speed (thousands of returns, September is the finance spec's): its lock takes a few seconds.
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    await expect(first.page.getByTestId('notice-ok').filter({ hasText: `Locked ${label}` })).toBeVisible();
    const view = first.page.getByRole('region', { name: `Report for ${label}` });
    await expect(view.getByTestId('report-lock')).toContainText('“Month-end close (e2e)”');
    await expect(view.getByTestId('report-lock')).toContainText('The stored report still matches it.');
    await expect(view.getByRole('button', { name: 'Lock period…' })).toHaveCount(0);
    await expect(first.page.locator(`tr[data-period="${period}"]`)).toContainText('Locked by');
    expect((await call('reports.list', {})).periods.find((p) => p.period === period)?.lock).not.toBeNull();
    lockedMonth = period;
    first.watch.expectNone();

    // The second window still offers the lock; the contract refuses it, and the dialog says so word for word.
    await late.getByRole('button', { name: `Lock ${label}` }).click();
    const refusal = await call('reports.lock', { period }).then(
      () => 'locked twice',
      (error: Error) => error.message.replace(/^reports\.lock answered CONFLICT: /, ''),
    );
    await expect(late.getByTestId('lock-error')).toHaveText(`Refused [CONFLICT]: ${refusal}`);
    await expect(late.getByTestId('lock-error')).toContainText('is already locked');
    // That refusal is the one failed request the second window may show (the browser logs the 409 too).
    const unexpected = second.watch.errors
      .splice(0)
      .filter((e) => !/^409 POST .*\/api\/reports\.lock$/.test(e) && e !== 'console: Failed to load resource: the server responded with a status of 409 (Conflict)');
    expect(unexpected).toEqual([]);
    await late.getByRole('button', { name: 'Cancel' }).click();
    await expect(late).toHaveCount(0);
  } finally {
    await first.page.close();
    await second.page.close();
  }
});

test('reopens the locked month with the reason it asks for: live again at once (one person), its lock kept as history', async ({ browser }) => {
  test.skip(lockedMonth === null, 'the lock test above locked no month');
  const period = lockedMonth ?? '';
  const label = monthLabel(period);
  const { page, watch } = await newPage(browser);
  try {
    await openApp(page);
    await go(page, 'reports', 'Reports');
    await page.getByRole('button', { name: `Show the report for ${label}` }).click();
    const view = page.getByRole('region', { name: `Report for ${label}` });
    await expect(view.getByTestId('report-status')).toHaveText('Locked');
    await view.getByRole('button', { name: 'Reopen month…' }).click();
    const dialog = page.getByRole('dialog', { name: `Reopen ${label}` });
    // One person at this app: nobody else to approve it, so it runs when asked.
    await expect(dialog.getByTestId('unlock-needs-approval')).toHaveCount(0);
    const reopen = dialog.getByRole('button', { name: `Reopen ${label}` });
    await expect(reopen).toBeDisabled();
    await dialog.getByLabel(/^Reason/).fill('A late credit note belongs to this month (e2e)');
    await reopen.click();
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByTestId('notice-ok').filter({ hasText: `Reopened ${label}` })).toBeVisible();
    await expect(view.getByTestId('report-status')).toHaveText('Not locked');
    await expect(view.getByTestId('ended-locks')).toContainText('Reopened once: earlier lock kept as history');
    await expect(page.locator(`tr[data-period="${period}"]`)).toContainText('Reopened');
    await expect(view.getByRole('button', { name: 'Lock period…' })).toBeEnabled();
    const listed = (await call('reports.list', {})).periods.find((p) => p.period === period);
    expect(listed).toMatchObject({ lock: null, endedLocks: [{ lockReason: 'Month-end close (e2e)', reason: 'A late credit note belongs to this month (e2e)' }] });
    await shot(page, 'reports-reopened');
    watch.expectNone();
  } finally {
    await page.close();
  }
});
