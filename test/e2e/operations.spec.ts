import { expect, test, type Page } from '@playwright/test';
import { call, go, usePage, waitFor, withSyncPaused } from './support';

// Matching and the intent ledger in the UI, and the write freeze (issue 24), in Debian Chromium against the web host in
// Sandbox mode: triage confirms a matcher suggestion; the outgoing-calls view filters to outcome unknown; a write freeze
// stops every write (the sandbox's own call counters say so) and shows its banner. The sandbox's test hooks make what
// each test needs: an operator's refund in Mirakl's back office, lost answers to refunds.

let page: Page;
usePage((opened) => (page = opened), {
  beforeClose: async () => {
    // Whatever happened, the other specs find writes going out and the sandbox's faults as they started.
    await call('writes.unfreeze', { reason: 'end of the operations spec' }).catch(() => undefined);
    await sim('POST', '/_sim/faults', { system: 'mirakl', operations: {} }).catch(() => undefined);
  },
});

const shot = (name: string) => page.screenshot({ path: `test-output/screenshots/${name}.png`, fullPage: true });

/** The sandbox's own Mirakl (its test hooks), whose address the web host printed at start. */
async function sim<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const base = process.env.RW_E2E_SANDBOX_MIRAKL;
  if (!base) throw new Error('RW_E2E_SANDBOX_MIRAKL is not set: the web host runs in Sandbox mode from test/e2e/global-setup.ts');
  const response = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

type Counters = Record<string, { calls: number }>;
const miraklWrites = ['RT04', 'RT21', 'RT25', 'RT26', 'RT27', 'RT29', 'OR28', 'STO01'];
const reboundWrites = ['salesOrders.create', 'returnOrders.create', 'returnOrders.cancel'];

async function counters(): Promise<{ writes: number; reads: number; byOp: Record<string, number> }> {
  const [mirakl, rebound] = await Promise.all([sim<Counters>('GET', '/_sim/calls'), sim<Counters>('GET', '/_sim/rebound/calls')]);
  const n = (c: Counters, ops: string[]) => ops.reduce((sum, op) => sum + (c[op]?.calls ?? 0), 0);
  const byOp = Object.fromEntries([...Object.entries(mirakl).map(([op, c]) => [op, c.calls]), ...Object.entries(rebound).map(([op, c]) => [`rebound:${op}`, c.calls])]);
  return { writes: n(mirakl, miraklWrites) + n(rebound, reboundWrites), reads: n(mirakl, ['RT11', 'OR11']), byOp };
}

interface Truth {
  returns: { id: string; state: string; lines: { orderLineId: string }[] }[];
  refundsByLine: Record<string, unknown[]>;
}

test('triage confirms a matcher suggestion', async () => {
  // An operator refunds a line of a return under way in Mirakl's back office: nothing the app sent explains it.
  const refund = await waitFor('a back-office refund on a return under way', async () => {
    const mirakl = await sim<Truth>('GET', '/_sim/truth');
    const open = mirakl.returns.filter((r) => r.state === 'RECEIVED' || r.state === 'IN_PROGRESS').reverse();
    for (const r of open.slice(0, 40)) {
      const line = r.lines.find((l) => !mirakl.refundsByLine[l.orderLineId]);
      if (!line) continue;
      try {
        return await sim<{ refund_id: string }>('POST', `/_sim/order-lines/${encodeURIComponent(line.orderLineId)}/refund`, { amount: 1 });
      } catch {
        // That line cannot take it (refunded since, closed): the next one.
      }
    }
    return null;
  });
  await waitFor('the matcher to suggest where the refund belongs', async () => (await call('matches.suggestions', { page: { offset: 0, limit: 500 } })).rows.some((r) => r.subject === refund.refund_id), 60_000);

  await go(page, 'suggestions', 'Suggested matches');
  const row = page.locator(`tr[data-subject="${refund.refund_id}"]`).first();
  await expect(row).toContainText(`Mirakl refund ${refund.refund_id}`);
  await expect(row).toContainText('same order line');
  const candidate = await row.getAttribute('data-candidate');
  await shot('suggestions-queue');
  await row.getByRole('button', { name: 'Confirm…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm this match' });
  await dialog.getByLabel('Reason (kept in the audit log)').fill('Goodwill refund made in the back office for this return');
  await dialog.getByRole('button', { name: 'Confirm match' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('notice-ok').filter({ hasText: 'Match confirmed' })).toBeVisible();
  await expect(page.locator(`tr[data-subject="${refund.refund_id}"]`)).toHaveCount(0);
  const audit = await call('audit.list', { action: 'match.confirm', subject: `match:refund_line:${refund.refund_id}` });
  expect(audit.rows[0]).toMatchObject({ reason: 'Goodwill refund made in the back office for this return', after: { status: 'confirmed' } });
  expect((audit.rows[0]?.before as { candidate?: string } | undefined)?.candidate).toBe(candidate);
  await shot('suggestions-confirmed');
});

test('the outgoing-calls view filters to outcome unknown', async () => {
  // Mirakl's answers to refunds are lost for a while: whether each went through is unknown until it is probed.
  await sim('POST', '/_sim/faults', { system: 'mirakl', operations: { OR28: { lostResponseRate: 1 } } });
  try {
    await withSyncPaused(
      'a refund whose outcome is unknown',
      async () => (await call('outgoing.list', { filter: { states: ['uncertain'] }, page: { offset: 0, limit: 1 } })).total > 0,
      async () => {
        await sim('POST', '/_sim/faults', { system: 'mirakl', operations: {} });
        const expected = await call('outgoing.list', { filter: { states: ['uncertain'] }, page: { offset: 0, limit: 50 } });
        await go(page, 'outgoing', 'Outgoing calls');
        const table = page.getByRole('table', { name: 'Outgoing calls' });
        await expect(table.locator('tbody tr').first()).toBeVisible();
        await page.getByLabel(/Outcome unknown only/).check();
        await expect(table.locator('tbody tr')).toHaveCount(expected.rows.length);
        await expect(table.locator('tbody tr:not([data-state="uncertain"])')).toHaveCount(0);
        const first = expected.rows[0];
        if (!first) throw new Error('no uncertain call');
        const row = table.locator(`tr[data-intent="${first.id}"]`);
        await expect(row).toContainText('Outcome unknown');
        await expect(row).toContainText('Not probed yet');
        if (first.returnId) await expect(row).toContainText(first.returnId);
        await expect(page.getByRole('navigation', { name: 'Pages of the outgoing calls' })).toContainText(`of ${expected.total}`);
        await shot('outgoing-calls-outcome-unknown');
        await page.getByLabel(/Outcome unknown only/).uncheck();
      },
    );
  } finally {
    await sim('POST', '/_sim/faults', { system: 'mirakl', operations: {} });
  }
});

test('a write freeze stops every write to Mirakl and ReBound, reads go on, and a banner says so', async () => {
  await waitFor('the sync to be writing', async () => (await counters()).writes > 0);
  await go(page, 'outgoing', 'Outgoing calls');
  await page.getByRole('button', { name: 'Freeze writes…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Freeze writes to Mirakl and ReBound' });
  await dialog.getByLabel('Reason (kept in the audit log)').fill('Month-end close');
  await dialog.getByRole('button', { name: 'Freeze writes' }).click();
  const banner = page.getByRole('alert', { name: 'Writes frozen' });
  await expect(banner).toContainText('Month-end close');
  await expect(banner).toContainText('nothing is sent to Mirakl or ReBound');
  // Frozen once the command answered (a call already out finished first): from now on the counters of writes stand.
  const before = await counters();
  await waitFor('the sync to read Mirakl again, several times', async () => (await counters()).reads >= before.reads + 6, 45_000);
  const during = await counters();
  expect(during.writes, `writes while frozen: ${JSON.stringify(diff(before.byOp, during.byOp))}`).toBe(before.writes);
  // The banner follows the person to every page.
  await go(page, 'dashboard', 'Dashboard');
  await expect(banner).toBeVisible();
  await shot('write-freeze-banner');
  const audit = await call('audit.list', { action: 'writes.freeze' });
  expect(audit.rows[0]).toMatchObject({ reason: 'Month-end close', subject: 'writes' });

  await banner.getByRole('button', { name: 'Unfreeze…' }).click();
  const lift = page.getByRole('dialog', { name: 'Unfreeze writes' });
  await lift.getByLabel('Reason (kept in the audit log)').fill('Close done');
  await lift.getByRole('button', { name: 'Unfreeze writes' }).click();
  await expect(banner).toBeHidden();
  await waitFor('the waiting writes to go out', async () => (await counters()).writes > during.writes, 45_000);
});

function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(b).filter(([op, n]) => n !== (a[op] ?? 0)).map(([op, n]) => [op, n - (a[op] ?? 0)]));
}
