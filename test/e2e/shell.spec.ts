import { expect, test, type Page } from '@playwright/test';

// The shell in Debian Chromium against the real web host: every section opens, the About view shows what
// app.info returns, and nothing logs an error on the way.
const sections = [
  { id: 'dashboard', title: 'Dashboard' },
  { id: 'returns', title: 'Returns' },
  { id: 'exceptions', title: 'Exceptions' },
  { id: 'reports', title: 'Reports' },
  { id: 'settings', title: 'Settings' },
  { id: 'about', title: 'About' },
];

function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  return errors;
}

test('opens the shell, visits every section and shows app.info', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto(process.env.RW_E2E_URL ?? '');
  await expect(page.getByRole('status')).toContainText('Sandbox');
  // The token is taken out of the address bar once read.
  expect(page.url()).not.toContain('token=');

  for (const s of sections) {
    await page.locator(`nav button[data-section="${s.id}"]`).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(s.title);
    await expect(page.locator(`nav button[data-section="${s.id}"]`)).toHaveAttribute('aria-current', 'page');
    await page.screenshot({ path: `test-output/screenshots/${s.id}.png`, fullPage: true });
  }

  await page.locator('nav button[data-section="about"]').click();
  await expect(page.getByTestId('info-name')).toHaveText('Returns Workbench');
  await expect(page.getByTestId('info-mode')).toHaveText('Sandbox');
  await expect(page.getByTestId('info-data-dir')).toHaveText(process.env.RW_E2E_DATA_DIR ?? '');
  await expect(page.getByTestId('info-schema')).toHaveText(/^[1-9]\d*$/);
  expect(errors).toEqual([]);
});

test('the returns grid renders and says what will appear', async ({ page }) => {
  await page.goto(process.env.RW_E2E_URL ?? '');
  await page.locator('nav button[data-section="returns"]').click();
  await expect(page.getByTestId('returns-grid').locator('.ag-header-cell-text').first()).toHaveText('Return');
  await expect(page.getByTestId('returns-grid')).toContainText('No returns yet');
});

test('without the token the page says the local service refused it', async ({ page }) => {
  await page.goto(process.env.RW_E2E_ORIGIN ?? '');
  await expect(page.locator('.banner-error')).toContainText('Missing or wrong access token');
});
