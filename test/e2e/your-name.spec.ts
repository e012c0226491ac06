import { expect, test, type Page } from '@playwright/test';
import { call, go, usePage, waitFor } from './support';

// "Your name" (issue 24): the audit log records the person, not the OS account ("root"). Set in Settings, it is the
// actor of the next action; left empty, the computer account's full name is used again.

let page: Page;
usePage((opened) => (page = opened), {
  beforeClose: async () => {
    // The host is shared with the other specs: the computer's name again.
    await call('settings.setName', { name: '' });
  },
});

test('a name set in Settings is who the audit log says acted next', async () => {
  const before = (await call('settings.get', {})).person;
  expect(before).toMatchObject({ isSet: false });
  await go(page, 'settings', 'Settings');
  const form = page.getByRole('form', { name: 'Your name' });
  const field = form.getByLabel('Your name', { exact: true });
  await expect(field).toHaveAttribute('placeholder', before?.osName ?? '');
  await expect(page.getByTestId('person-hint')).toContainText(`now “${before?.osName}”`);
  await field.fill('Dana Okafor (finance)');
  await form.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByTestId('notice-ok').filter({ hasText: 'Dana Okafor (finance)' })).toBeVisible();
  await expect(page.getByTestId('person-hint')).toContainText('now “Dana Okafor (finance)”');
  await page.screenshot({ path: 'test-output/screenshots/settings-your-name.png', fullPage: true });

  // The next action of the person, through the same contract the page uses: a note on an open exception.
  const open = await waitFor('an open exception', async () => (await call('exceptions.list', { page: { offset: 0, limit: 1 } })).rows[0]);
  await call('exceptions.comment', { id: open.id, body: 'Checked with the warehouse (e2e: your name)' });
  const [noted] = (await call('audit.list', { subject: `exception:${open.id}`, action: 'exception.comment', limit: 1 })).rows;
  expect(noted?.actor).toBe('Dana Okafor (finance)');
  await go(page, 'audit', 'Audit log');
  const entry = page.getByRole('table', { name: 'Audit entries' }).locator(`tr[data-seq="${noted?.seq}"]`);
  await expect(entry.locator('td').nth(2)).toHaveText('Dana Okafor (finance)');
});
