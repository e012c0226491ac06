import { expect, test, type Page } from '@playwright/test';
import { call, go, usePage, waitFor, withSyncPaused } from './support';

// The integration owner's mapping editor and the triage panel in Debian Chromium against the web host in Sandbox mode
// (issue 24): reasons are picked from Mirakl's own lists (RE01), a refund reason Mirakl does not have is refused before
// anything is saved, in the table's own words and row numbers; and an exception shows only the actions the server
// offers, with why the others are not.

let page: Page;
usePage((opened) => (page = opened));

const shot = (name: string) => page.screenshot({ path: `test-output/screenshots/${name}.png`, fullPage: true });

test('the mapping editor offers Mirakl’s refund reasons and refuses an unknown refund code before saving', async () => {
  // The server reads RE01 by itself when its lists were never read (the sandbox may fail a call now and then).
  await waitFor('Mirakl’s reason lists (RE01)', async () => (await call('mappings.reasons', {})).readAt);
  await go(page, 'settings', 'Settings');
  await page.getByRole('tab', { name: 'Reason mappings' }).click();
  await expect(page.getByTestId('reason-lists')).toContainText('Mirakl’s reasons as read on');
  const editor = page.getByTestId('mapping-reasonCodes');

  // Row 1's refund reason is picked from Mirakl's list, shown with its label, never as a bare code.
  const first = editor.getByLabel('Mirakl refund reason, row 1', { exact: true });
  await expect(first).toHaveJSProperty('tagName', 'SELECT');
  await expect(first.locator('option:checked')).toHaveText(/^\d+ — \S/);
  await expect(first.locator('option', { hasText: 'operator only' }).first()).toBeDisabled();

  // A code Mirakl does not have, typed in the file: the row as the table numbers it (from 1), in its own words.
  const { text } = (await call('mappings.get', {})).files.reasonCodes;
  const at = text.indexOf('refund: "12"');
  expect(at, 'the file maps a reason to refund reason 12').toBeGreaterThan(0);
  const row = text.slice(0, at).split('- mirakl:').length - 1;
  const edited = `${text.slice(0, at)}refund: "twelve"${text.slice(at + 'refund: "12"'.length)}`;
  await editor.getByRole('button', { name: 'YAML' }).click();
  await editor.getByLabel('YAML').fill(edited);
  const problems = editor.getByTestId('preview-problems');
  await expect(problems).toContainText(`Row ${row}, Mirakl refund reason: "twelve" is not one of Mirakl's refund reasons`);
  await expect(problems).not.toContainText(`reasons[${row - 1}]`);
  await expect(editor.getByRole('button', { name: 'Save mapping' })).toBeDisabled();
  await shot('mapping-editor-unknown-refund-yaml');

  // Back in the table, the cell says it, and the code is flagged as not in Mirakl's list.
  await editor.getByRole('button', { name: 'Table' }).click();
  const cell = editor.getByLabel(`Mirakl refund reason, row ${row}`, { exact: true });
  await expect(cell).toHaveAttribute('aria-invalid', 'true');
  await expect(cell.locator('option:checked')).toHaveText('twelve — not in Mirakl’s list');
  await expect(editor.locator(`#reasonCodes-${row - 1}-refund-error`)).toContainText('is not one of Mirakl\'s refund reasons');
  await expect(editor.getByRole('button', { name: 'Save mapping' })).toBeDisabled();
  await shot('mapping-editor-unknown-refund');

  // The server refuses the save too, whatever a client sends.
  const version = (await call('mappings.get', {})).files.reasonCodes.version;
  await expect(call('mappings.save', { file: 'reasonCodes', text: edited, reason: 'e2e', baseVersion: version })).rejects.toThrow(
    new RegExp(`VALIDATION: The reason mapping was not saved: Row ${row}, Mirakl refund reason: "twelve"`),
  );
  expect((await call('mappings.get', {})).files.reasonCodes.version).toBe(version);

  // Picking one of Mirakl's own reasons makes it valid, and the preview says which returns and how much money.
  await cell.selectOption('11');
  await expect(cell).toHaveAttribute('aria-invalid', 'false');
  const affected = editor.getByTestId('preview-affected').locator('li', { hasText: 'Return lines whose reason code changes mapping' });
  await expect(affected).toBeVisible();
  if (Number(await affected.locator('strong').textContent()) > 0) {
    await expect(affected.getByTestId('preview-returns')).toContainText(/^\d+ returns?: \S/);
    await expect(affected.getByTestId('preview-money')).toContainText(/[£€]/);
  }
  await shot('mapping-editor-preview');
  await editor.getByRole('button', { name: 'Discard changes' }).click();
  await expect(editor.getByRole('button', { name: 'Save mapping' })).toBeDisabled();
});

test('an exception shows exactly the actions the server offers, and why the others are not', async () => {
  const pick = async () => {
    const rows = (await call('exceptions.list', { page: { offset: 0, limit: 100 } })).rows;
    if (rows.length === 0) return null;
    const offers = (await call('exceptions.actions', { ids: rows.map((r) => r.id) })).exceptions;
    // One with an action withheld, when there is one: the panel must leave it out and say why.
    const withheld = offers.find((o) => o.actions.some((a) => a.kind === 'resolution' && !a.isAllowed));
    const chosen = withheld ?? offers[0];
    const row = rows.find((r) => r.id === chosen?.id);
    return row && chosen ? { row, actions: chosen.actions } : null;
  };
  await withSyncPaused('an open exception', async () => (await pick()) !== null, async () => {
    const target = await waitFor('the exception to look at', pick, 5_000);
    const { row, actions } = target;
    await go(page, 'exceptions', 'Exceptions');
    await page.getByRole('combobox', { name: 'Type', exact: true }).selectOption(row.type);
    await page.getByRole('button', { name: `Open exception ${row.id}: ${row.title}` }).click();
    const panel = page.getByRole('region', { name: `Exception ${row.id}: ${row.title}` });
    const offered = actions.filter((a) => a.kind === 'resolution' && a.isAllowed).map((a) => a.id);
    const group = panel.getByRole('group', { name: `Actions for exception ${row.id}` });
    if (offered.length) await expect(group.locator('button')).toHaveCount(offered.length);
    const shown: (string | null)[] = [];
    for (let i = 0; i < offered.length; i++) shown.push(await group.locator('button').nth(i).getAttribute('data-action'));
    expect(shown).toEqual(offered);
    for (const a of actions.filter((x) => x.kind === 'resolution' && !x.isAllowed)) {
      await expect(panel.getByRole('list', { name: 'Not available now' }).locator(`li[data-withheld="${a.id}"]`)).toContainText(a.whyNot ?? '');
    }
    await shot('exception-offered-actions');
  });
});
