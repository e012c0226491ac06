import { expect, test } from '@playwright/test';
import { startSandbox, type Sandbox } from '../../core/sandbox/index';
import { createScaledClock } from '../../core/sandbox/clock';
import { defaultScenario } from '../../core/sandbox/index';
import { systemClock } from '../../core/adapters/system';
import { call, launchDesktop, skipWithoutElectron, waitFor, type DesktopApp } from './support';

// Start-up, settings and a resolution in the real desktop app (Electron). Skipped, with the reason printed, where
// there is no Electron binary; see support.ts for how to run them.

skipWithoutElectron();
test.describe.configure({ mode: 'serial' });

let desktop: DesktopApp;
test.beforeAll(async () => {
  desktop = await launchDesktop();
});
test.afterAll(async () => {
  await desktop?.close();
});

const go = async (section: string, title: string) => {
  await desktop.page.locator(`nav button[data-section="${section}"]`).click();
  await expect(desktop.page.getByRole('heading', { level: 1 })).toHaveText(title);
};

test('start-up: one sandboxed window on the app page, with only invoke and on, in Sandbox mode', async () => {
  const { app, page } = desktop;
  await expect(page).toHaveTitle('Returns Workbench');
  expect(page.url()).toBe('app://workbench/index.html');
  await expect(page.getByRole('status', { name: 'Sandbox mode' })).toContainText('Sandbox');

  // The renderer sees exactly the preload's two functions, frozen by the context bridge, and no Node.
  const seen = await page.evaluate(() => {
    const g = globalThis as unknown as { api: object; require?: unknown; process?: unknown; ipcRenderer?: unknown };
    return { keys: Object.keys(g.api).sort(), isFrozen: Object.isFrozen(g.api), node: [typeof g.require, typeof g.process, typeof g.ipcRenderer] };
  });
  expect(seen).toEqual({ keys: ['invoke', 'on'], isFrozen: true, node: ['undefined', 'undefined', 'undefined'] });
  // The CSP leaves the page no network, and navigation away is refused.
  expect(await page.evaluate(() => fetch('https://example.com/').then(() => 'fetched', () => 'blocked'))).toBe('blocked');
  await page.evaluate(() => {
    (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
  });
  await page.waitForTimeout(500);
  expect(page.url()).toBe('app://workbench/index.html');

  expect(app.windows()).toHaveLength(1);
  expect(await call(page, 'app.info', {})).toMatchObject({ name: 'Returns Workbench', mode: 'sandbox', dataDir: desktop.dataDir });
});

test('a resolution: one click closes an exception, which leaves the queue and appears in the audit log', async () => {
  const { page } = desktop;
  const closing = ['dismiss', 'acknowledge', 'accept_partial', 'accept_variance', 'mark_lost'];
  const { row, action } = await waitFor('an open exception with a closing resolution', async () => {
    const kpis = await call(page, 'dashboard.kpis', {});
    for (const t of kpis.openByType) {
      const help = await call(page, 'exceptions.help', { type: t.type });
      const found = help.actions.find((a) => closing.includes(a.id));
      if (!found) continue;
      const first = (await call(page, 'exceptions.list', { filter: { type: t.type }, sort: { field: 'detectedAt', direction: 'asc' }, page: { offset: 0, limit: 1 } })).rows[0];
      if (first) return { row: first, action: found };
    }
    return null;
  });

  await go('exceptions', 'Exceptions');
  await page.getByRole('combobox', { name: 'Type', exact: true }).selectOption(row.type);
  const line = page.getByRole('grid', { name: 'Exception queue' }).locator(`tr[data-exception-id="${row.id}"]`);
  await expect(line).toBeVisible();
  await line.getByRole('button', { name: `${action.label}… (exception ${row.id})` }).click();
  const dialog = page.getByRole('dialog', { name: `${action.label} — exception ${row.id}` });
  await dialog.getByLabel(/Reason/).fill('Checked in both back offices (desktop e2e)');
  await dialog.getByRole('button', { name: action.label, exact: true }).click();
  await expect(line).toHaveCount(0);
  expect((await call(page, 'exceptions.get', { id: row.id })).state).toBe('resolved');

  await go('audit', 'Audit log');
  const entry = page.getByRole('table', { name: 'Audit entries' }).locator('tr', { hasText: `exception:${row.id}` });
  await expect(entry).toContainText(`exception.${action.id}`);
});

test('settings: connections typed in go to the keychain, are never shown back, and switch the app to live mode', async () => {
  const { page } = desktop;
  const sandbox: Sandbox = await startSandbox({ seed: 21, clock: createScaledClock(systemClock, defaultScenario.startMs, 60), tickMs: 1000 });
  try {
    await go('settings', 'Settings');
    const form = page.getByRole('form', { name: 'Connections' });
    const settings = await call(page, 'settings.get', {});
    if (!settings.keychain.available) {
      // No Secret Service on this machine: the page must say so, plainly, and nothing is saved.
      await expect(form.getByRole('alert').first()).toContainText('keychain is not available');
      test.info().annotations.push({ type: 'note', description: `no keychain here: ${settings.keychain.message}` });
      console.log(`[e2e-electron] settings: no keychain on this machine, checked the message only (${settings.keychain.message})`);
      return;
    }
    await form.getByLabel('Instance URL').fill(sandbox.mirakl.baseUrl);
    await form.getByLabel('Shop id').fill(String(sandbox.mirakl.shopId));
    await form.getByLabel('API key').fill(sandbox.mirakl.apiKey);
    await form.getByLabel('Base URL').fill(sandbox.rebound.baseUrl);
    await form.getByLabel('Client id').fill(sandbox.rebound.clientId);
    await form.getByLabel('Client secret').fill(sandbox.rebound.clientSecret);
    await form.getByRole('button', { name: 'Test Mirakl connection' }).click();
    await expect(page.getByTestId('test-mirakl')).toContainText('Connected');
    await form.getByRole('button', { name: 'Save connections' }).click();

    await expect(page.getByTestId('secret-mirakl')).toHaveText('API key set');
    await expect(page.getByTestId('secret-rebound')).toHaveText('Client secret set');
    await waitFor('live mode', async () => (await call(page, 'app.info', {})).mode === 'live');
    // The secrets are gone from the page and never come back through the contract.
    expect(await form.getByLabel('API key').inputValue()).toBe('');
    const html = await page.content();
    expect(html).not.toContain(sandbox.mirakl.apiKey);
    expect(html).not.toContain(sandbox.rebound.clientSecret);
    expect(JSON.stringify(await call(page, 'settings.get', {}))).not.toContain(sandbox.mirakl.apiKey);
    await waitFor('a live sync cycle', async () => (await call(page, 'sync.status', {})).cycles > 0);
  } finally {
    await sandbox.close();
  }
});
