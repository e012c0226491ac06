import { expect, test, type Page } from '@playwright/test';
import { call, go, hostAddress, usePage, waitFor, watchErrors, withSyncPaused } from './support';

// The workbench in Debian Chromium against the real web host in Sandbox mode, with the sandbox's sync producing
// returns and exceptions while the tests run. Each test waits (bounded) for the data it needs, acts through the UI
// only, and checks the outcome through the contract as well as on screen.

// One page for the whole run (usePage): each test starts from the section it needs and sets the filters it relies on.
let page: Page;
usePage((opened) => (page = opened));

const closingActions = ['dismiss', 'acknowledge', 'accept_partial', 'accept_variance', 'mark_lost'];

/** The exception queue with no filter but `show` (the store keeps filters while the app is open). */
async function openQueue(show: 'active' | 'resolved' = 'active'): Promise<void> {
  await go(page, 'exceptions', 'Exceptions');
  await page.getByRole('combobox', { name: 'Show', exact: true }).selectOption(show);
  for (const name of ['Type', 'Owner', 'Severity', 'Age']) await page.getByRole('combobox', { name, exact: true }).selectOption('');
  await page.getByLabel('Unassigned only').uncheck();
  const assignee = page.getByRole('searchbox', { name: 'Assignee' });
  if ((await assignee.inputValue()) !== '') {
    await assignee.fill('');
    await assignee.press('Enter');
  }
}

test('the shell takes the token out of the address bar and shows app.info', async () => {
  expect(page.url()).not.toContain('token=');
  await go(page, 'about', 'About');
  await expect(page.getByTestId('info-name')).toHaveText('Returns Workbench');
  await expect(page.getByTestId('info-mode')).toHaveText('Sandbox');
  await expect(page.getByTestId('info-data-dir')).toHaveText(process.env.RW_E2E_DATA_DIR ?? '');
  await expect(page.getByTestId('info-schema')).toHaveText(/^[1-9]\d*$/);
});

test('without the token the page says the local service refused it', async ({ browser }) => {
  const stranger = await browser.newPage();
  await stranger.goto(hostAddress().origin);
  await expect(stranger.locator('.banner-error')).toContainText('Missing or wrong access token');
  await stranger.close();
});

test('finds a return by order id and opens its timeline', async () => {
  // A return ReBound knows about, so its timeline spans both systems.
  const wanted = await waitFor('a return with a ReBound label', async () => (await call('returns.list', { filter: { reboundStatus: 'LABEL_ISSUED' }, page: { offset: 0, limit: 1 } })).rows[0]);
  await go(page, 'returns', 'Returns');
  const grid = page.getByTestId('returns-grid');
  await expect(grid.locator('.ag-row[row-index="0"] [col-id="commercialId"]')).not.toBeEmpty();

  await page.getByRole('searchbox', { name: 'Search' }).fill(wanted.commercialId);
  await page.getByRole('searchbox', { name: 'Search' }).press('Enter');
  await expect(page.locator('.grid-status')).toHaveText(/^\d+ returns?$/);
  const orders = grid.locator('.ag-row [col-id="commercialId"]');
  await expect(orders.first()).toHaveText(wanted.commercialId);
  for (const text of await orders.allTextContents()) expect(text).toBe(wanted.commercialId);

  await grid.locator(`.ag-row [col-id="commercialId"]`).first().click();
  const drawer = page.getByRole('region', { name: `Return ${wanted.commercialId}` });
  await expect(drawer.getByRole('heading', { name: `Return for order ${wanted.commercialId}` })).toBeVisible();
  const timeline = drawer.getByRole('list', { name: /^Timeline across Mirakl/ });
  await expect(timeline.locator('li').first()).toContainText('Customer asked to return');
  await expect(timeline).toContainText('ReBound');
  await expect(drawer.getByRole('table', { name: 'Where the return stands' })).toContainText(wanted.returnId);
});

test('opened straight on Returns, the first rows are asked for once, early, in the saved sort', async ({ browser }) => {
  // A person who last sorted oldest first: the column state this browser saved.
  const { origin, token } = hostAddress();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const saved = JSON.stringify([{ colId: 'dateCreated', sort: 'asc', sortIndex: 0 }]);
  await context.addInitScript(`localStorage.setItem('rw.returns.columns.v2', ${JSON.stringify(saved)})`);
  const cold = await context.newPage();
  const coldWatch = watchErrors(cold);
  // What was asked until the first rows were drawn (a live refresh after that rightly asks again).
  const asked: unknown[] = [];
  let drawn = false;
  cold.on('request', (r) => {
    if (r.url().endsWith('/api/returns.list') && !drawn) asked.push(r.postDataJSON());
  });
  // Sync paused, so the oldest return stays the oldest.
  await withSyncPaused('returns in the sandbox', async () => (await call('returns.list', { page: { offset: 0, limit: 1 } })).rows.length > 0, async () => {
    await cold.goto(`${origin}/?section=returns#token=${encodeURIComponent(token)}`);
    const oldest = (await call('returns.list', { sort: { field: 'dateCreated', direction: 'asc' }, page: { offset: 0, limit: 1 } })).rows[0];
    await expect(cold.getByTestId('returns-grid').locator('.ag-row[row-index="0"]').first()).toHaveAttribute('row-id', oldest?.returnId ?? '');
    drawn = true;
    // The request made while the grid's code was still loading is the one the grid used: nothing asked twice.
    expect(asked[0]).toEqual({ page: { offset: 0, limit: 100 }, filter: {}, sort: { field: 'dateCreated', direction: 'asc' } });
    expect(asked.filter((a) => JSON.stringify(a) === JSON.stringify(asked[0])), 'the first block asked once').toHaveLength(1);
  });
  coldWatch.expectNone();
  await context.close();
});

test('resolves an exception with one click: it leaves the queue and appears in the audit log', async () => {
  // The oldest open exception of a type that offers a resolution closing it.
  const findTarget = async () => {
    const kpis = await call('dashboard.kpis', {});
    for (const t of kpis.openByType) {
      const help = await call('exceptions.help', { type: t.type });
      const action = help.actions.find((a) => closingActions.includes(a.id));
      if (!action) continue;
      const first = (await call('exceptions.list', { filter: { type: t.type }, sort: { field: 'detectedAt', direction: 'asc' }, page: { offset: 0, limit: 1 } })).rows[0];
      if (first) return { row: first, action };
    }
    return null;
  };
  // Paused, so the exception cannot close by itself (the sources converging) while the person acts on it; it is
  // chosen once the pause holds.
  const row = await withSyncPaused('an open exception with a closing resolution', async () => (await findTarget()) !== null, async () => {
    const target = await waitFor('the exception to act on', findTarget, 5_000);
    const { row, action } = target;
    await openQueue();
    await page.getByRole('combobox', { name: 'Type', exact: true }).selectOption(row.type);
    const queue = page.getByRole('grid', { name: 'Exception queue' });
    const line = queue.locator(`tr[data-exception-id="${row.id}"]`);
    await expect(line).toBeVisible();
    await line.getByRole('button', { name: `${action.label}… (exception ${row.id})` }).click();

    const dialog = page.getByRole('dialog', { name: `${action.label} — exception ${row.id}` });
    await dialog.getByLabel(/Reason/).fill('Checked in both back offices: handled by hand (e2e)');
    await dialog.getByRole('button', { name: action.label, exact: true }).click();
    await expect(page.getByTestId('notice-ok').filter({ hasText: `Exception ${row.id} — ` })).toBeVisible();
    await expect(line).toHaveCount(0);
    expect((await call('exceptions.get', { id: row.id })).state).toBe('resolved');
    return { ...row, actionId: action.id };
  });

  await go(page, 'audit', 'Audit log');
  const entry = page.getByRole('table', { name: 'Audit entries' }).locator('tr', { hasText: `exception:${row.id}` });
  await expect(entry).toContainText(`exception.${row.actionId}`);
  await expect(entry).toContainText('handled by hand (e2e)');
  await expect(page.getByTestId('audit-verify')).toContainText('intact');
});

test('bulk-assigns 10 exceptions chosen with the keyboard', async () => {
  const queue = page.getByRole('grid', { name: 'Exception queue' });
  const unassigned = async () => (await call('exceptions.list', { filter: { unassigned: true }, page: { offset: 0, limit: 1 } })).total >= 10;
  // Paused, so no row resolves by itself and shifts the others while the keyboard walks down the queue.
  const ids = await withSyncPaused('10 open unassigned exceptions', unassigned, async () => {
    await openQueue();
    await page.getByLabel('Unassigned only').check();
    await expect(queue.locator('tbody tr')).not.toHaveCount(0);
    await expect(page.getByRole('navigation', { name: 'Pages of exceptions' })).not.toContainText('Refreshing');
    await expect(queue.locator('tbody tr td:nth-child(6)').first()).toHaveText('—');

    // Keyboard: focus the first row, Space selects, ↓ moves.
    const bulk = page.getByRole('region', { name: 'Bulk actions' });
    await queue.locator('tbody tr').first().locator('td').nth(1).click();
    await queue.locator('tbody tr').first().focus();
    await page.keyboard.press('Space');
    await expect(bulk).toContainText('1 selected');
    for (let i = 2; i <= 10; i++) {
      await page.keyboard.press('ArrowDown');
      await expect(queue.locator('tbody tr').nth(i - 1)).toBeFocused();
      await page.keyboard.press('Space');
      await expect(bulk).toContainText(`${i} selected`);
    }
    const selectedRows = queue.locator('tbody tr[aria-selected="true"]');
    const chosen: number[] = [];
    for (let i = 0; i < (await selectedRows.count()); i++) chosen.push(Number(await selectedRows.nth(i).getAttribute('data-exception-id')));
    expect(chosen).toHaveLength(10);

    await bulk.getByRole('button', { name: 'Assign…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Assign — 10 exceptions' });
    await dialog.getByLabel('Assign to').fill('Casey Lead');
    await dialog.getByRole('button', { name: 'Assign (10)' }).click();
    await expect(page.getByTestId('notice-ok').filter({ hasText: 'Assigned 10 exceptions to Casey Lead' })).toBeVisible();
    return chosen;
  });
  for (const id of ids) expect((await call('exceptions.get', { id })).assignee).toBe('Casey Lead');

  await page.getByLabel('Unassigned only').uncheck();
  await page.getByRole('searchbox', { name: 'Assignee' }).fill('Casey Lead');
  await page.getByRole('searchbox', { name: 'Assignee' }).press('Enter');
  await expect(page.getByTestId('exceptions-range')).toHaveText(/ of \d+$/);
  await expect.poll(async () => [...new Set(await queue.locator('tbody tr td:nth-child(6)').allTextContents())]).toEqual(['Casey Lead']);
});

test('edits a reason mapping and sees the matching UNMAPPED_REASON exception resolve', async () => {
  const unmapped = await waitFor('an UNMAPPED_REASON exception', async () => (await call('exceptions.list', { filter: { type: 'UNMAPPED_REASON' }, page: { offset: 0, limit: 1 } })).rows[0]);
  const code = /reason (\S+) has no mapping/.exec(unmapped.cause)?.[1];
  expect(code, `the cause names the unmapped reason: ${unmapped.cause}`).toBeTruthy();
  // Refund reasons are picked from Mirakl's list (RE01), which the server reads by itself.
  await waitFor('Mirakl’s reason lists (RE01)', async () => (await call('mappings.reasons', {})).readAt);

  await openQueue();
  await page.getByRole('combobox', { name: 'Type', exact: true }).selectOption('UNMAPPED_REASON');
  await page.getByRole('button', { name: `Open exception ${unmapped.id}: ` , exact: false }).click();
  const panel = page.getByRole('region', { name: new RegExp(`^Exception ${unmapped.id}:`) });
  await expect(panel.getByRole('region', { name: /^Help:/ })).toContainText('Check first');
  await panel.getByRole('button', { name: 'Add the reason in the mapping editor' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  await expect(page.getByRole('tab', { name: 'Reason mappings' })).toHaveAttribute('aria-selected', 'true');

  const editor = page.getByTestId('mapping-reasonCodes');
  await expect(page.getByTestId('reason-lists')).toContainText('Mirakl’s reasons as read on');
  await expect(editor.locator('tbody tr').first()).toBeVisible();
  const rowsBefore = await editor.locator('tbody tr').count();
  expect(rowsBefore).toBeGreaterThan(0);
  await editor.getByRole('button', { name: 'Add reason' }).click();
  const n = rowsBefore + 1;
  await editor.getByLabel(`Mirakl return reason, row ${n}`).fill(code ?? '');
  await editor.getByLabel(`ReBound reason text, row ${n}`).fill('Damaged packaging');
  // The refund reason is still empty: the contract's problem is shown at that field.
  const refund = editor.getByLabel(`Mirakl refund reason, row ${n}`);
  await expect(refund).toHaveAttribute('aria-invalid', 'true');
  await expect(editor.locator(`#reasonCodes-${n - 1}-refund-error`)).toBeVisible();
  await expect(editor.getByRole('button', { name: 'Save mapping' })).toBeDisabled();

  await refund.selectOption('12');
  await expect(refund).toHaveAttribute('aria-invalid', 'false');
  const affected = editor.getByTestId('preview-affected');
  await expect(affected).toContainText('exceptions this change resolves');
  const resolvesLine = affected.locator('li', { hasText: 'exceptions this change resolves' });
  expect(Number(await resolvesLine.locator('strong').textContent())).toBeGreaterThanOrEqual(1);
  await editor.getByLabel('Reason for the change').fill('Map damaged packaging (e2e)');
  await editor.getByRole('button', { name: 'Save mapping' }).click();
  await expect(page.getByTestId('notice-ok').filter({ hasText: 'Saved reasonCodes@' })).toBeVisible();

  expect((await call('exceptions.get', { id: unmapped.id })).state).toBe('resolved');
  await openQueue();
  await expect(page.getByRole('grid', { name: 'Exception queue' }).or(page.getByRole('region', { name: 'No exceptions to handle' }))).toBeVisible();
  await expect(page.locator(`tr[data-exception-id="${unmapped.id}"]`)).toHaveCount(0);
  await openQueue('resolved');
  await page.getByRole('combobox', { name: 'Type', exact: true }).selectOption('UNMAPPED_REASON');
  await expect(page.locator(`tr[data-exception-id="${unmapped.id}"]`)).toContainText('now mapped');
});

test('every view opens without console errors; a screenshot of each', async () => {
  const shot = (name: string) => page.screenshot({ path: `test-output/screenshots/${name}.png`, fullPage: true });

  await go(page, 'dashboard', 'Dashboard');
  await expect(page.getByRole('group', { name: 'Returns tracked' })).toContainText(/[1-9]/);
  await expect(page.getByRole('table', { name: 'Feeds' })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Open exceptions by age/ })).toBeVisible();
  // Pausing lets the cycle under way finish; resuming clears it either way.
  await page.getByRole('button', { name: 'Pause sync' }).click();
  await expect(page.getByTestId('sync-state')).toHaveText(/^(Paused|Finishing this cycle, then paused)$/);
  expect(['paused', 'running']).toContain((await call('sync.status', {})).state);
  await page.getByRole('button', { name: 'Resume sync' }).click();
  await expect(page.getByTestId('sync-state')).not.toHaveText(/paused/i);
  await shot('dashboard');

  await go(page, 'returns', 'Returns');
  const clear = page.getByRole('button', { name: 'Clear filters' });
  if (await clear.isVisible()) await clear.click();
  const grid = page.getByTestId('returns-grid');
  await expect(grid.locator('.ag-row[row-index="0"] [col-id="commercialId"]')).not.toBeEmpty();
  await grid.locator('.ag-row[row-index="0"] [col-id="commercialId"]').click();
  await expect(page.getByRole('list', { name: /^Timeline across/ }).locator('li').first()).toBeVisible();
  await shot('returns');

  await openQueue();
  const queue = page.getByRole('grid', { name: 'Exception queue' });
  await queue.locator('tbody tr').first().getByRole('button', { name: /^Open exception/ }).click();
  await expect(page.getByRole('region', { name: /^Help:/ })).toContainText('What each action does');
  await shot('exceptions');

  await go(page, 'reports', 'Reports');
  await shot('reports');

  await go(page, 'settings', 'Settings');
  await page.getByRole('tab', { name: 'Connections' }).click();
  await expect(page.getByTestId('secret-mirakl')).toHaveText(/API key (set|not set)/);
  await shot('settings');
  for (const [tab, name] of [
    ['Cadences and policy', 'settings-policy'],
    ['Reason mappings', 'settings-reasons'],
    ['SKU → offer overrides', 'settings-skus'],
  ] as const) {
    await page.getByRole('tab', { name: tab }).click();
    await expect(page.getByRole('tabpanel')).not.toContainText('Loading');
    await shot(name);
  }

  await go(page, 'audit', 'Audit log');
  await expect(page.getByTestId('audit-verify')).toBeVisible();
  await shot('audit');

  await go(page, 'about', 'About');
  await expect(page.getByTestId('info-name')).toHaveText('Returns Workbench');
  await shot('about');
});
