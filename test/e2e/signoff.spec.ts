import { expect, test, type Page } from '@playwright/test';
import { call, go, shot, usePage, waitFor } from './support';

// A month-end signature holds the figures it saw (issue 25): the preparer signs a finished month while nothing moves,
// then sync goes on, a return of that month progresses, and the signature shown on the open page is withdrawn — with
// its reason, in the view and in the audit log — without the person reloading anything.

let page: Page;
usePage((opened) => (page = opened));

const monthLabel = (period: string) => new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.parse(`${period}-01T00:00:00Z`));

test('a preparer’s signature is withdrawn on the open page when the month’s figures change', async () => {
  // Sandbox months pass in about 100 s here; a month's figures keep moving for a few sandbox days after it ends
  // (refunds and receipts dated in it, read late). So: the month in progress now, signed as soon as it is finished.
  test.setTimeout(240_000);
  const inProgress = await waitFor('a month in progress', async () => (await call('reports.list', {})).periods.find((p) => !p.isComplete)?.period);
  const period = await waitFor(
    `${inProgress} to finish`,
    async () => ((await call('reports.list', {})).periods.find((p) => p.period === inProgress)?.isComplete ? inProgress : null),
    150_000,
    250,
  );
  const label = monthLabel(period);
  await go(page, 'reports', 'Reports');

  await call('sync.pause', {});
  try {
    await waitFor('the sync to finish its cycle and pause', async () => (await call('sync.status', {})).state === 'paused', 30_000, 200);
    await page.getByRole('button', { name: `Show the report for ${label}` }).click();
    const view = page.getByRole('region', { name: `Report for ${label}` });
    const panel = view.getByRole('region', { name: 'Sign-off' });
    await expect(panel.getByTestId('sign-off-status')).toHaveText('Not signed yet: waiting for its preparer.');
    await panel.getByLabel(/^Note/).fill('Figures checked against the payouts (e2e)');
    await panel.getByRole('button', { name: 'Sign as preparer' }).click();
    await expect(panel.locator('li[data-signoff="prepared"][data-standing="yes"]')).toContainText('“Figures checked against the payouts (e2e)”');
    await expect(panel.getByTestId('sign-off-status')).toHaveText('Prepared; waiting for a reviewer.');
    // Standalone, one person uses the app: review is refused with the reason.
    await expect(panel.getByRole('button', { name: 'Sign as reviewer' })).toBeDisabled();
  } finally {
    await call('sync.resume', {});
  }

  // Sync goes on; the page is left as it is.
  const view = page.getByRole('region', { name: `Report for ${label}` });
  const panel = view.getByRole('region', { name: 'Sign-off' });
  const withdrawn = panel.locator('li[data-signoff="prepared"][data-standing="no"]');
  await expect(withdrawn).toBeVisible({ timeout: 90_000 });
  await expect(withdrawn).toContainText('withdrawn');
  await expect(withdrawn).toContainText(`${label}'s figures changed after it was signed`);
  await expect(panel.getByTestId('sign-off-status')).toHaveText('Not signed yet: waiting for its preparer.');
  await expect(panel.getByRole('button', { name: 'Sign as preparer' })).toBeEnabled();
  await shot(page, 'signoff-withdrawn');

  const [entry] = (await call('audit.list', { subject: `period:${period}`, action: 'period.signoff.withdrawn', limit: 1 })).rows;
  expect(entry?.actor).toBe('Returns Workbench');
  expect(entry?.reason).toContain('must be signed again');
});
