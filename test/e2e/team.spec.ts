import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { AuditRow, Command, Input, Output, Result } from '../../core/contract';
import { waitFor } from './support';

// The team server (issue 25), driven as several people, each in their own browser: the real `core/cli/serve.ts` as a
// child process on a throw-away data folder, HTTPS with its self-signed certificate, in Sandbox mode. The admin signs
// in with the printed temporary password, chooses a password and adds Ana (Analyst + Approver), Bo (Approver) and Vic
// (Viewer). Then: a wrong or ended session is 401, a missing role 403; Ana proposes a refund overriding its guard (202),
// cannot approve it herself; Bo approves it in his browser and it is refunded exactly once (the intent and the sandbox's
// ground truth); a change of cadences Ana saves in Settings is said as "sent for approval", and she withdraws it; the
// audit log names each; the server stops cleanly and starts again on the same port and folder, and Ana's open page says
// it is reconnecting, then works on and receives events, without a reload. Between those, the month Ana and Bo signed
// and locked is reopened: Ana proposes it from the Reports page, Bo approves it, and the month is live again.

const root = new URL('../../', import.meta.url).pathname;
const password = (who: string) => `${who}-chose-this-long-password`;

interface Started {
  url: string;
  port: number;
  fingerprint: string;
  firstAdmin: { username: string; password: string } | null;
  sandbox: { mirakl: string; rebound: string } | null;
}

function startServer(dataDir: string, port: number): Promise<{ child: ChildProcess; started: Started }> {
  const child = spawn(
    process.execPath,
    // Node itself (not the tsx wrapper process) gets the SIGTERM, so its exit code is the server's own.
    ['--import', 'tsx', join(root, 'core', 'cli', 'serve.ts'), '--json', '--data-dir', dataDir, '--port', String(port), '--backup-hours', '0', '--host', '127.0.0.1,localhost', '--speed', '600'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the team server exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, started: JSON.parse(line) as Started }));
  });
}

/** SIGTERM, and how the process ended: 0 when it stopped cleanly. */
async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

let dataDir: string;
let server: ChildProcess | null = null;
let http: APIRequestContext;
const contexts: BrowserContext[] = [];

test.afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await http?.dispose();
  if (server) await stopServer(server);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** One command as the holder of `token`, straight to the server: the HTTP status and the contract's answer. */
async function send<K extends Command>(token: string, command: K, input: Input<K>): Promise<{ status: number; body: Result<Output<K>> }> {
  const response = await http.post(`/api/${command}`, { headers: { authorization: `Bearer ${token}` }, data: input });
  return { status: response.status(), body: (await response.json()) as Result<Output<K>> };
}

async function call<K extends Command>(token: string, command: K, input: Input<K>): Promise<Output<K>> {
  const { body } = await send(token, command, input);
  if (!body.ok) throw new Error(`${command} answered ${body.error.code}: ${body.error.message}`);
  return body.data;
}

/** The sandbox's own Mirakl (its ground truth), whose address the server printed. */
async function truth(base: string): Promise<{ returns: { id: string; state: string; lines: { orderLineId: string }[] }[]; refundsByLine: Record<string, unknown[]> }> {
  const response = await fetch(`${base}/_sim/truth`);
  if (!response.ok) throw new Error(`/_sim/truth answered ${response.status}`);
  return (await response.json()) as Awaited<ReturnType<typeof truth>>;
}

async function newPerson(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

async function submitSignIn(page: Page, username: string, secret: string): Promise<void> {
  const form = page.getByRole('form', { name: 'Sign in to the team server' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(secret);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in; with a temporary password, chooses `password(username)` on the page that follows. */
async function signIn(page: Page, username: string, secret: string, isTemporary: boolean): Promise<void> {
  await submitSignIn(page, username, secret);
  if (isTemporary) {
    const choose = page.getByRole('form', { name: 'Choose your password' });
    await choose.getByLabel('Temporary password').fill(secret);
    await choose.getByLabel('New password', { exact: true }).fill(password(username));
    await choose.getByLabel('New password again').fill(password(username));
    await choose.getByRole('button', { name: 'Save my password' }).click();
  }
  await expect(page.getByRole('navigation', { name: 'Sections' })).toBeVisible();
}

// (The test tsconfig has no DOM types: the page's globals are named in strings.)
const sessionOf = async (page: Page) => String(await page.evaluate("sessionStorage.getItem('rw.session')"));
const shot = (page: Page, name: string) => page.screenshot({ path: `test-output/screenshots/${name}.png` });
const nav = (page: Page, section: string) => page.locator(`nav button[data-section="${section}"]`);

async function addAccount(page: Page, username: string, displayName: string, roles: string[]): Promise<string> {
  await page.getByRole('button', { name: 'Add account…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add account' });
  await dialog.getByLabel(/^Username/).fill(username);
  await dialog.getByLabel(/^Display name/).fill(displayName);
  await dialog.getByRole('checkbox', { name: /^Viewer/ }).uncheck();
  for (const role of roles) await dialog.getByRole('checkbox', { name: new RegExp(`^${role}`) }).check();
  await dialog.getByRole('button', { name: 'Add account' }).click();
  const panel = page.getByRole('region', { name: 'Temporary password' });
  await expect(panel).toContainText(`Temporary password for ${username}`);
  await expect(panel).toContainText('shown only this once');
  const temporary = (await panel.getByTestId('temporary-password').textContent()) ?? '';
  expect(temporary).toMatch(/^[A-Za-z0-9]{20}$/);
  await panel.getByRole('button', { name: 'Done, hide it' }).click();
  await expect(page.locator(`tr[data-account="${username}"]`)).toContainText(displayName);
  return temporary;
}

test('a team server driven as four people: sign-in, roles, maker-checker, audit, and events across a restart', async ({ browser, playwright }) => {
  test.setTimeout(180_000);
  dataDir = mkdtempSync(join(tmpdir(), 'rw-e2e-team-'));
  const first = await startServer(dataDir, 0);
  server = first.child;
  const { url, port, firstAdmin } = first.started;
  const sim = first.started.sandbox?.mirakl;
  expect(url).toBe(`https://127.0.0.1:${port}/`);
  expect(first.started.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  expect(firstAdmin?.username).toBe('admin');
  expect(sim, 'the server runs in Sandbox mode').toBeTruthy();
  http = await playwright.request.newContext({ baseURL: url, ignoreHTTPSErrors: true });

  // ---- The admin: a wrong password is refused with the server's words; the printed one opens, once replaced.
  const admin = await newPerson(browser, url);
  await test.step('admin signs in with the temporary password and chooses one', async () => {
    await submitSignIn(admin, 'admin', 'not-the-password');
    await expect(admin.getByRole('alert')).toHaveText('Wrong username or password.');
    await shot(admin, 'team-sign-in-refused');
    await signIn(admin, 'admin', firstAdmin?.password ?? '', true);
    await expect(admin.getByTestId('person-name')).toHaveText('Administrator');
    await expect(admin.getByTestId('person-roles')).toHaveText('Viewer, Analyst, Approver, Integration admin');
  });
  const adminToken = await sessionOf(admin);

  const temporary: Record<string, string> = {};
  await test.step('admin adds Ana (Analyst, Approver), Bo (Approver) and Vic (Viewer)', async () => {
    await nav(admin, 'accounts').click();
    await expect(admin.getByRole('heading', { level: 1 })).toHaveText('Accounts');
    temporary.ana = await addAccount(admin, 'ana', 'Ana Ruiz', ['Analyst', 'Approver']);
    temporary.bo = await addAccount(admin, 'bo', 'Bo Berg', ['Approver']);
    temporary.vic = await addAccount(admin, 'vic', 'Vic Viewer', ['Viewer']);
    await expect(admin.locator('tr[data-account="ana"]').getByTestId('account-roles')).toHaveText('Analyst, Approver');
    await expect(admin.locator('tr[data-account="vic"]').getByTestId('account-standing')).toHaveText('Active, temporary password');
    await shot(admin, 'team-accounts');
  });

  const ana = await newPerson(browser, url);
  const bo = await newPerson(browser, url);
  const vic = await newPerson(browser, url);
  await signIn(ana, 'ana', temporary.ana ?? '', true);
  await signIn(bo, 'bo', temporary.bo ?? '', true);
  await signIn(vic, 'vic', temporary.vic ?? '', true);
  await expect(ana.getByTestId('person-roles')).toHaveText('Analyst, Approver');
  const [anaToken, boToken, vicToken] = await Promise.all([sessionOf(ana), sessionOf(bo), sessionOf(vic)]);

  await test.step('a wrong or ended session is 401; a missing role is 403, and the viewer is not offered what he cannot do', async () => {
    const wrong = await send('not-a-session-token', 'app.info', {});
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ ok: false, error: { code: 'AUTH' } });
    expect((await http.get('/api/events', { headers: { authorization: 'Bearer not-a-session-token' } })).status()).toBe(401);

    const refund = await send(vicToken, 'refunds.refundNow', { returnId: 'any', orderLineId: 'any' });
    expect(refund.status).toBe(403);
    expect(refund.body).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringContaining('Analyst, Approver') as unknown } });
    const comment = await send(vicToken, 'exceptions.comment', { id: 1, body: 'a viewer writes' });
    expect(comment.status).toBe(403);
    expect((await send(vicToken, 'accounts.list', {})).status).toBe(403);
    await expect(nav(vic, 'accounts')).toHaveCount(0);
    await expect(nav(vic, 'approvals')).toBeVisible();
    await expect(vic.getByTestId('person-roles')).toHaveText('Viewer');
    // Reading is his: the grids answer.
    expect((await send(vicToken, 'returns.list', { page: { offset: 0, limit: 1 } })).status).toBe(200);
  });

  // ---- Maker-checker: Ana proposes a refund overriding its guard. Sync is paused meanwhile (an admin's right), so the
  // line the proposal names does not change under it; the approved refund goes out once sync resumes.
  const pause = async (isPaused: boolean) => {
    await call(adminToken, isPaused ? 'sync.pause' : 'sync.resume', {});
    if (isPaused) await waitFor('the sync to finish its cycle and pause', async () => (await call(adminToken, 'sync.status', {})).state === 'paused', 30_000, 200);
  };
  const overrideOnly = async (returnId: string, orderLineId: string) => {
    const guard = await send(anaToken, 'refunds.explainGuard', { returnId, orderLineId });
    return guard.body.ok && guard.body.data.actions.some((a) => a.id === 'refund_override' && a.isAllowed);
  };
  /** A line of a return ReBound expects whose receipt is not verified yet: its refund needs an override. */
  const findLine = async () => {
    const listed = (await call(anaToken, 'returns.list', { page: { offset: 0, limit: 300 } })).rows.filter((r) => r.rebound.orderId !== null && r.refundStatus === 'none');
    const world = await truth(sim ?? '');
    for (const row of listed.slice(0, 30)) {
      for (const l of world.returns.find((r) => r.id === row.returnId)?.lines ?? []) {
        if (await overrideOnly(row.returnId, l.orderLineId)) return { returnId: row.returnId, orderLineId: l.orderLineId, commercialId: row.commercialId };
      }
    }
    return null;
  };
  let line: { returnId: string; orderLineId: string; commercialId: string; refundsBefore: number } | undefined;
  try {
    // Searched with sync paused, so the line found stays as it is until the refund is approved (an arrived unit is
    // graded within seconds of sandbox time); none in this snapshot: sync runs on a little and the search starts again.
    for (let attempt = 1; !line; attempt++) {
      await pause(true);
      const candidate = await findLine();
      if (candidate) line = { ...candidate, refundsBefore: (await truth(sim ?? '')).refundsByLine[candidate.orderLineId]?.length ?? 0 };
      else if (attempt === 10) throw new Error('no return line needed an override to be refunded in 10 snapshots of the sandbox');
      else {
        await pause(false);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    const found: { returnId: string; orderLineId: string; commercialId: string; refundsBefore: number } = line;
    // The return drawer lists every line of the return, also one ReBound expects but has not registered a unit of:
    // Ana proposes the override there, and the server answers it with 202 and a proposal.
    await test.step('Ana proposes, in the return drawer, to refund a line without a verified receipt: a proposal', async () => {
      await nav(ana, 'returns').click();
      const search = ana.getByRole('searchbox', { name: 'Search' });
      await search.fill(found.commercialId);
      await search.press('Enter');
      await ana.getByTestId('returns-grid').locator(`.ag-row[row-id="${found.returnId}"] [col-id="commercialId"]`).first().click();
      const checks = ana.getByRole('region', { name: `Return ${found.commercialId}` }).getByRole('group', { name: `Refund checks for line ${found.orderLineId}` });
      await checks.getByRole('button', { name: /^Propose: / }).click();
      const dialog = ana.getByRole('dialog', { name: `Refund line ${found.orderLineId} without a verified receipt` });
      await dialog.getByLabel('Reason (kept in the audit log)').fill('Customer sent proof of posting; parcel lost by the carrier');
      await dialog.getByRole('button', { name: 'Send for approval' }).click();
      await expect(ana.getByTestId('notice-info')).toContainText('Sent for approval as proposal 1');
      await shot(ana, 'team-drawer-proposed');
      expect((await call(anaToken, 'proposals.list', {})).proposals).toMatchObject([{ id: 1, status: 'pending', command: 'refunds.refundNow' }]);
    });

    await test.step('Ana cannot approve her own proposal', async () => {
      await nav(ana, 'approvals').click();
      const row = ana.locator('tr[data-proposal="1"]');
      await expect(row).toContainText('Ana Ruiz (ana)');
      await expect(row.getByRole('button', { name: 'Approve' })).toBeDisabled();
      await expect(row.getByRole('button', { name: 'Approve' })).toHaveAttribute('title', 'You proposed it: another Approver decides it.');
      const self = await send(anaToken, 'proposals.decide', { id: 1, decision: 'approve' });
      expect(self.status).toBe(403);
      expect(self.body).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringContaining('no self-approval') as unknown } });
    });

    await test.step('Bo sees it waiting, approves it, and it runs once; approving again is refused', async () => {
      // The count came by the event stream: Bo's page was open before Ana proposed.
      await expect(nav(bo, 'approvals').locator('.nav-count')).toHaveText('1');
      await nav(bo, 'approvals').click();
      const row = bo.locator('tr[data-proposal="1"]');
      await expect(row).toContainText(`Refund line ${found.orderLineId} of return ${found.returnId} now, overriding its guard`);
      await row.getByRole('button', { name: 'Approve' }).click();
      await bo.getByRole('dialog', { name: 'Approve proposal 1' }).getByRole('button', { name: 'Approve and run it' }).click();
      await expect(bo.getByTestId('notice-ok')).toContainText('Proposal 1 approved and done.');
      const decided = bo.getByRole('table', { name: 'Decided proposals' }).locator('tr[data-proposal="1"]');
      await expect(decided.getByTestId('proposal-status')).toHaveText('Approved and done');
      await expect(decided).toContainText('Bo Berg (bo)');
      await expect(nav(bo, 'approvals').locator('.nav-count')).toHaveCount(0);
      await shot(bo, 'team-approvals');
      const again = await send(boToken, 'proposals.decide', { id: 1, decision: 'approve' });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    });
  } finally {
    await pause(false);
  }
  const proposed = line;
  if (!proposed) throw new Error('no line was proposed');

  await test.step('Ana proposes a change of cadences in Settings: said as information, not a failure; she withdraws it', async () => {
    await nav(ana, 'settings').click();
    await ana.getByRole('tab', { name: 'Cadences and policy' }).click();
    const form = ana.getByRole('form', { name: 'Sync cadences' });
    await form.getByLabel(/^Mirakl returns \(RT11\)/).fill('600');
    await form.getByLabel('Reason (kept in the audit log)').fill('fewer RT11 calls');
    await form.getByRole('button', { name: 'Save cadences' }).click();
    await expect(ana.getByTestId('notice-info')).toContainText('Sent for approval as proposal 2');
    await expect(ana.getByTestId('notice-error')).toHaveCount(0);
    await expect(form.locator('.error')).toHaveCount(0);
    await nav(ana, 'approvals').click();
    const row = ana.getByRole('table', { name: 'Proposals waiting for approval' }).locator('tr[data-proposal="2"]');
    await expect(row).toContainText('Change the sync cadences (returnsPollSeconds = 600): fewer RT11 calls');
    await row.getByRole('button', { name: 'Withdraw' }).click();
    await ana.getByRole('dialog', { name: 'Withdraw proposal 2' }).getByRole('button', { name: 'Withdraw' }).click();
    await expect(ana.getByRole('table', { name: 'Decided proposals' }).locator('tr[data-proposal="2"]').getByTestId('proposal-status')).toHaveText('Withdrawn');
  });

  await test.step('the refund goes to Mirakl exactly once', async () => {
    const refundsOfLine = async () =>
      (await call(adminToken, 'outgoing.list', { filter: { kind: 'mirakl.refund', returnId: proposed.returnId }, page: { offset: 0, limit: 50 } })).rows.filter((r) => r.orderLineId === proposed.orderLineId);
    const sent = await waitFor('the approved refund to be taken by Mirakl', async () => (await refundsOfLine()).find((r) => r.state === 'confirmed'), 45_000);
    expect((await refundsOfLine()).map((r) => r.id)).toEqual([sent.id]);
    const world = await truth(sim ?? '');
    expect(world.refundsByLine[proposed.orderLineId]?.length ?? 0).toBe(proposed.refundsBefore + 1);
  });

  await test.step('the audit log names Ana for the proposal and Bo for the approval and the refund', async () => {
    const entries = (await call(adminToken, 'audit.list', { offset: 0, limit: 500 })).rows as AuditRow[];
    const by = (action: string) => entries.filter((e) => e.action === action).map((e) => ({ actor: e.actor, subject: e.subject }));
    expect(by('proposal.created')).toEqual([
      { actor: 'Ana Ruiz (ana)', subject: 'proposal:2' },
      { actor: 'Ana Ruiz (ana)', subject: 'proposal:1' },
    ]);
    expect(by('proposal.withdrawn')).toEqual([{ actor: 'Ana Ruiz (ana)', subject: 'proposal:2' }]);
    expect(by('proposal.approved')).toEqual([{ actor: 'Bo Berg (bo)', subject: 'proposal:1' }]);
    expect(by('refund.override')).toEqual([{ actor: 'Bo Berg (bo)', subject: `return:${proposed.returnId}` }]);
    expect(by('account.created').map((e) => e.actor)).toEqual(['Administrator (admin)', 'Administrator (admin)', 'Administrator (admin)']);
  });

  /** The month Bo locks below, for the step that reopens it. */
  let closed = { period: '', label: '' };
  await test.step('month-end sign-off: Ana prepares the finished month, cannot review it herself, Bo reviews, and it may be locked', async () => {
    const current = (await call(anaToken, 'reports.list', {})).periods.find((p) => !p.isComplete)?.period ?? '';
    const [year, month] = current.split('-').map(Number);
    const period = new Date(Date.UTC(year ?? 0, (month ?? 1) - 2, 1)).toISOString().slice(0, 7);
    const label = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.parse(`${period}-01T00:00:00Z`));
    const open = async (page: Page) => {
      await nav(page, 'reports').click();
      await page.getByRole('button', { name: `Show the report for ${label}` }).click();
      const view = page.getByRole('region', { name: `Report for ${label}` });
      return { view, panel: view.getByRole('region', { name: 'Sign-off' }) };
    };
    // Paused: a refund read late into the month would change its figures and withdraw the signatures meanwhile.
    await pause(true);
    try {
      const a = await open(ana);
      await expect(a.view.getByRole('button', { name: 'Lock period…' })).toBeDisabled();
      await expect(a.view.getByTestId('lock-why-not')).toContainText('once a preparer and then a reviewer have signed');
      await expect(a.panel.getByRole('button', { name: 'Sign as reviewer' })).toBeDisabled();
      await expect(a.panel.getByTestId('why-not-reviewed')).toHaveText('It must be prepared (signed by its preparer) first.');
      await a.panel.getByLabel(/^Note/).fill('Tied out to the bank statement');
      await a.panel.getByRole('button', { name: 'Sign as preparer' }).click();
      await expect(a.panel.locator('li[data-signoff="prepared"]')).toContainText('Prepared by Ana Ruiz (ana)');
      await expect(a.panel.locator('li[data-signoff="prepared"]')).toContainText('“Tied out to the bank statement”');
      await expect(a.panel.getByRole('button', { name: 'Sign as preparer' })).toBeDisabled();
      await expect(a.panel.getByRole('button', { name: 'Sign as reviewer' })).toBeDisabled();
      await expect(a.panel.getByTestId('why-not-reviewed')).toHaveText('You prepared it: another person must review it.');
      // The server refuses it too, in the words the page would show.
      const self = await send(anaToken, 'reports.signOff', { period, kind: 'reviewed' });
      expect(self.status).toBe(409);
      expect(self.body).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('another person must review it') as unknown } });
      await expect(a.view.getByRole('button', { name: 'Lock period…' })).toBeDisabled();
      await shot(ana, 'team-signoff-prepared');

      const b = await open(bo);
      await expect(b.panel.getByTestId('sign-off-status')).toHaveText('Prepared; waiting for a reviewer.');
      await expect(b.view.getByRole('button', { name: 'Lock period…' })).toBeDisabled();
      await b.panel.getByRole('button', { name: 'Sign as reviewer' }).click();
      await expect(b.panel.getByTestId('sign-off-status')).toHaveText('Signed off: prepared and reviewed on its figures as they stand.');
      await expect(b.panel.locator('li[data-signoff="prepared"][data-standing="yes"]')).toContainText('Prepared by Ana Ruiz (ana)');
      await expect(b.panel.locator('li[data-signoff="reviewed"][data-standing="yes"]')).toContainText('Reviewed by Bo Berg (bo)');
      await expect(b.view.getByTestId('lock-why-not')).toHaveCount(0);
      await expect(b.view.getByRole('button', { name: 'Lock period…' })).toBeEnabled();
      await shot(bo, 'team-signoff-complete');
      await b.view.getByRole('button', { name: 'Lock period…' }).click();
      const dialog = bo.getByRole('dialog', { name: `Lock ${label}` });
      await dialog.getByRole('button', { name: `Lock ${label}` }).click();
      await expect(b.view.getByTestId('report-status')).toHaveText('Locked');
      await expect(b.view.getByTestId('report-lock')).toContainText('Locked by Bo Berg (bo)');
      closed = { period, label };
    } finally {
      await pause(false);
    }
  });

  await test.step('reopening the locked month: Ana proposes it with a reason, cannot approve it; Bo approves, it runs once, naming both', async () => {
    const { period, label } = closed;
    const reason = 'A carrier credit note dated in the month arrived after the close';
    await nav(ana, 'reports').click();
    await ana.getByRole('button', { name: `Show the report for ${label}` }).click();
    const view = ana.getByRole('region', { name: `Report for ${label}` });
    await expect(view.getByTestId('report-status')).toHaveText('Locked');
    await view.getByRole('button', { name: 'Reopen month…' }).click();
    const dialog = ana.getByRole('dialog', { name: `Reopen ${label}` });
    await expect(dialog.getByTestId('unlock-needs-approval')).toContainText('another Approver’s approval runs it');
    const propose = dialog.getByRole('button', { name: `Propose reopening ${label}` });
    await expect(propose).toBeDisabled();
    await dialog.getByLabel(/^Reason/).fill(reason);
    await propose.click();
    await expect(dialog).toHaveCount(0);
    await expect(ana.getByTestId('notice-info').filter({ hasText: 'Sent for approval as proposal 3' })).toBeVisible();
    // Only proposed: the month stays locked until a second person approves.
    await expect(view.getByTestId('report-status')).toHaveText('Locked');
    expect((await call(anaToken, 'reports.list', {})).periods.find((p) => p.period === period)?.lock).not.toBeNull();
    const self = await send(anaToken, 'proposals.decide', { id: 3, decision: 'approve' });
    expect(self.status).toBe(403);
    await nav(ana, 'approvals').click();
    const mine = ana.getByRole('table', { name: 'Proposals waiting for approval' }).locator('tr[data-proposal="3"]');
    await expect(mine).toContainText(`Reopen ${label} (a locked month): ${reason}`);
    await expect(mine.getByRole('button', { name: 'Approve' })).toBeDisabled();
    await shot(ana, 'team-unlock-proposed');

    await nav(bo, 'approvals').click();
    await bo.getByRole('table', { name: 'Proposals waiting for approval' }).locator('tr[data-proposal="3"]').getByRole('button', { name: 'Approve' }).click();
    await bo.getByRole('dialog', { name: 'Approve proposal 3' }).getByRole('button', { name: 'Approve and run it' }).click();
    const decided = bo.getByRole('table', { name: 'Decided proposals' }).locator('tr[data-proposal="3"]');
    await expect(decided.getByTestId('proposal-status')).toHaveText('Approved and done');
    await expect(decided).toContainText(`${label} reopened by Bo Berg (bo)`);

    await nav(bo, 'reports').click();
    await bo.getByRole('button', { name: `Show the report for ${label}` }).click();
    const live = bo.getByRole('region', { name: `Report for ${label}` });
    await expect(live.getByTestId('report-status')).toHaveText('Not locked');
    await expect(live.getByTestId('ended-locks')).toContainText('Reopened once');
    await live.getByTestId('ended-locks').locator('summary').click();
    await expect(live.getByTestId('ended-locks')).toContainText(`Reopened by Bo Berg (bo)`);
    await expect(live.getByTestId('ended-locks')).toContainText('proposed by Ana Ruiz (ana)');
    const panel = live.getByRole('region', { name: 'Sign-off' });
    await expect(panel.locator('li[data-signoff="prepared"][data-standing="no"]')).toContainText(`Month reopened by Bo Berg (bo): ${reason}`);
    await expect(panel.locator('li[data-signoff="reviewed"][data-standing="no"]')).toContainText('Month reopened');
    await expect(live.getByRole('button', { name: 'Lock period…' })).toBeDisabled();
    await shot(bo, 'team-unlock-done');

    const entries = (await call(adminToken, 'audit.list', { offset: 0, limit: 500 })).rows as AuditRow[];
    const of = (subject: string) => entries.filter((e) => e.subject === subject).map((e) => `${e.action} by ${e.actor}`).reverse();
    expect(of('proposal:3')).toEqual(['proposal.created by Ana Ruiz (ana)', 'proposal.approved by Bo Berg (bo)']);
    expect(of(`period:${period}`).slice(-3)).toEqual(['period.unlock by Bo Berg (bo)', 'period.signoff.withdrawn by Bo Berg (bo)', 'period.signoff.withdrawn by Bo Berg (bo)']);
    // Ana's page goes back to Approvals, where the restart below is watched from.
    await nav(ana, 'approvals').click();
  });

  await test.step('the viewer is shown the bulk actions on exceptions disabled, with the reason', async () => {
    await waitFor('an open exception', async () => (await call(vicToken, 'exceptions.list', { filter: {}, page: { offset: 0, limit: 1 } })).rows.length > 0, 30_000);
    await nav(vic, 'exceptions').click();
    const first = vic.getByRole('grid', { name: 'Exception queue' }).locator('tbody tr').first();
    await first.getByRole('checkbox').check();
    const bulk = vic.getByRole('region', { name: 'Bulk actions' });
    await expect(bulk.getByTestId('bulk-why-not')).toHaveText('Acting on them: Needs the Analyst or Approver role; an Integration admin can change your roles.');
    for (const button of await bulk.getByRole('button').all()) {
      if ((await button.textContent()) !== 'Clear selection') await expect(button).toBeDisabled();
    }
  });

  await test.step('the page says signed out only once the server has ended the session, and the old session is refused', async () => {
    // The server's answer is held back: a page that showed the sign-in form now would claim a sign-out that has not
    // happened (and never would, were the request lost). Seen as a 200 for the old token under load.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await vic.route('**/auth/sign-out', async (route) => {
      await held;
      await route.continue();
    });
    await vic.getByRole('button', { name: 'Sign out' }).click();
    await expect(vic.getByRole('button', { name: 'Signing out…' })).toBeDisabled();
    await expect(vic.getByRole('form', { name: 'Sign in to the team server' })).toHaveCount(0);
    release();
    await expect(vic.getByRole('form', { name: 'Sign in to the team server' })).toBeVisible();
    await vic.unroute('**/auth/sign-out');
    const ended = await send(vicToken, 'app.info', {});
    expect(ended.status).toBe(401);
    expect(ended.body).toMatchObject({ ok: false, error: { code: 'AUTH' } });
  });

  await test.step('the server restarts on the same port and folder: Ana’s page reconnects and works on, without a reload', async () => {
    await ana.evaluate('window.rwBeforeRestart = true');
    expect(await stopServer(server!), 'the server stops cleanly on SIGTERM').toBe(0);
    server = null;
    const banner = ana.getByRole('status', { name: 'Connection to the server' });
    await expect(banner).toContainText('Reconnecting to the server…');
    await shot(ana, 'team-reconnecting');
    const second = await startServer(dataDir, port);
    server = second.child;
    expect(second.started.firstAdmin, 'the accounts survived: no new admin').toBeNull();
    expect(second.started.fingerprint).toBe(first.started.fingerprint);
    await expect(banner).toHaveCount(0, { timeout: 30_000 });
    expect(await ana.evaluate('window.rwBeforeRestart'), 'the same page, not reloaded').toBe(true);
    // The session lives in the database: Ana's requests are answered, and events reach her page again — Bo proposes a
    // change of cadences, and the count in her navigation follows.
    await expect(ana.getByRole('table', { name: 'Decided proposals' }).locator('tr[data-proposal="1"]')).toBeVisible();
    const proposed = await send(boToken, 'settings.setCadences', { returnsPollSeconds: 900, reason: 'fewer RT11 calls at night' });
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED', proposalId: 4 } });
    await expect(nav(ana, 'approvals').locator('.nav-count')).toHaveText('1');
    await expect(ana.getByRole('table', { name: 'Proposals waiting for approval' }).locator('tr[data-proposal="4"]')).toContainText('Bo Berg (bo)');
  });
});
