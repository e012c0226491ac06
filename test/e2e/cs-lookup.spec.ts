import { expect, test, type Page } from '@playwright/test';
import { call, go, openApp, waitFor, watchErrors } from './support';

// The customer-service lead's daily job (issue 24), in Debian Chromium at 1440×900 against the web host in Sandbox
// mode: a customer reads out the end of their order number; the lead types it in lower case, finds the return, and
// reads the reply to send — in at most three clicks. The side-by-side grid fits the screen without scrolling sideways.

let page: Page;
let watch: ReturnType<typeof watchErrors>;
let clicks = 0;
test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  watch = watchErrors(page);
  await openApp(page);
  // Every click the person makes from here on is counted.
  await page.exposeFunction('rwCountClick', () => {
    clicks += 1;
  });
  // (A string: this file has no DOM types.) Only a person's clicks count, not the app's own.
  await page.evaluate(`document.addEventListener('click', (e) => { if (e.isTrusted) window.rwCountClick(); }, true)`);
});
test.afterAll(async () => {
  await page.close();
});
test.afterEach(() => {
  watch.expectNone();
});

const shot = (name: string) => page.screenshot({ path: `test-output/screenshots/${name}.png`, fullPage: true });

test('the CS lead finds a return by a partial, lower-case order id and reads the reply in three clicks or fewer', async () => {
  // A return whose receipt ReBound verified, so the reply has something to say about it.
  const wanted = await waitFor('a return with a verified receipt', async () =>
    (await call('returns.list', { filter: { refundStatus: 'refunded' }, page: { offset: 0, limit: 1 } })).rows[0] ??
    (await call('returns.list', { filter: { refundStatus: 'pending' }, page: { offset: 0, limit: 1 } })).rows[0],
  );
  const partial = wanted.commercialId.slice(-8).toLowerCase();
  clicks = 0;

  await go(page, 'returns', 'Returns');
  const search = page.getByRole('searchbox', { name: 'Search' });
  await search.focus();
  await search.fill(partial);
  await search.press('Enter');
  const grid = page.getByTestId('returns-grid');
  const row = grid.locator(`.ag-row[row-id="${wanted.returnId}"]`).first();
  await expect(row).toBeVisible();

  // At 1440 px the comparison columns fit: nothing to scroll sideways, and the money is on screen.
  const overflow = (await page.evaluate(
    `(() => { const v = document.querySelector('[data-testid="returns-grid"] .ag-body-horizontal-scroll-viewport'); return v.scrollWidth - v.clientWidth; })()`,
  )) as number;
  expect(overflow, 'horizontal overflow of the returns grid at 1440 px').toBeLessThanOrEqual(1);
  for (const colId of ['mirakl.state', 'mirakl.requestedUnits', 'rebound.status', 'rebound.unitsArrived', 'unitsRestocked', 'expectedRefundMinor', 'refundedMinor', 'drift']) {
    await expect(grid.locator(`.ag-header-cell[col-id="${colId}"]`)).toBeInViewport();
  }
  await shot('cs-search');

  await row.locator('[col-id="commercialId"]').click();
  const drawer = page.getByRole('region', { name: `Return ${wanted.commercialId}` });
  const reply = drawer.getByTestId('reply-text');
  await expect(reply).toContainText(/^Your (return|parcel)/);
  await expect(reply).not.toContainText(/\b(RT\d\d|OR\d\d|WAITING_REFUND|REFUNDED)\b/);
  // The reply agrees with the return's own refund figures.
  if (wanted.refundStatus === 'refunded') await expect(reply).toContainText(/refund of .+ was sent on /);
  await shot('cs-reply');
  expect(clicks, 'clicks from the dashboard to the reply').toBeLessThanOrEqual(3);

  // The timeline reads without API codes; they are in its tooltips.
  const timeline = drawer.getByRole('list', { name: /^Timeline across Mirakl/ });
  await expect(timeline.locator('li').first()).toContainText('Customer asked to return');
  for (const title of await timeline.locator('li > div > div:first-child').allTextContents()) expect(title).not.toMatch(/\b(RT\d\d|OR\d\d)\b/);
});

test('the exceptions queue shows the order id a customer would quote', async () => {
  await waitFor('an open exception about a return', async () =>
    (await call('exceptions.list', { filter: {}, page: { offset: 0, limit: 50 } })).rows.some((r) => r.orderId !== null),
  );
  await go(page, 'exceptions', 'Exceptions');
  await expect(page.getByRole('columnheader', { name: 'Order', exact: true })).toBeVisible();
  const withOrder = page.locator('tr[data-exception-id]').filter({ has: page.locator('td.order-id', { hasText: /\S{3,}/ }) }).first();
  await expect(withOrder).toBeVisible();
  const id = Number(await withOrder.getAttribute('data-exception-id'));
  const exception = await call('exceptions.get', { id });
  await expect(withOrder.locator('td.order-id')).toHaveText(exception.orderId ?? '');
  await shot('cs-exceptions-order');
});
