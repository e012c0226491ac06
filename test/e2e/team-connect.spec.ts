import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { serverCertificate, type ServerCertificate } from '../../core/team/certificate';
import { go, hostAddress, openApp, watchErrors } from './support';

// Settings › Connect to a team server (issue 25) is the desktop's: in a browser — this machine's web host or a team
// server's own page — there is nothing to connect, so the section is not shown and the contract refuses team.connect.
// Under a stand-in for the desktop's bridge (window.api, forwarding to this host's contract like main forwards to the
// core) the section checks a real HTTPS address, shows its certificate's fingerprint in full, and connects only once
// the person says it is the one the server printed.

test('in a browser there is no Connect to a team server, and the contract refuses to connect', async ({ page }) => {
  const watch = watchErrors(page);
  await openApp(page);
  await go(page, 'settings', 'Settings');
  await expect(page.getByRole('form', { name: 'Connections' })).toBeVisible();
  await expect(page.getByRole('form', { name: 'Connect to a team server' })).toHaveCount(0);
  await expect(page.getByText('Connect to a team server')).toHaveCount(0);
  watch.expectNone();

  const { origin, token } = hostAddress();
  const response = await fetch(`${origin}/api/team.connect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://workbench.example:8443', fingerprint: Array(32).fill('AB').join(':') }),
  });
  expect(response.status).toBe(409);
  expect(((await response.json()) as { error: { message: string } }).error.message).toContain('Only the desktop app connects to a team server');
});

test.describe('in the desktop (window.api stand-in)', () => {
  let dir: string;
  let certificate: ServerCertificate;
  let server: Server;
  let serverOrigin: string;

  test.beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rw-e2e-team-'));
    certificate = await serverCertificate({ dataDir: dir, hostNames: ['localhost', '127.0.0.1'] });
    // Answers as a team server does on GET /auth/mode; the probe reaches it through this host's core, over real TLS.
    server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/auth/mode' ? { ok: true, data: { team: true } } : { ok: false }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverOrigin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  test.afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  async function openAsDesktop(page: Page) {
    const { token } = hostAddress();
    await page.addInitScript((bearer) => {
      const connects: unknown[] = [];
      Object.assign(globalThis, {
        rwConnects: connects,
        api: {
          invoke: async (command: string, input: unknown) => {
            // Main answers team.connect itself (electron/main/team-connect.ts): here, it is recorded.
            if (command === 'team.connect') {
              connects.push(input);
              return { ok: true, data: { origin: (input as { url: string }).url, relaunching: true } };
            }
            const response = await fetch(`/api/${command}`, {
              method: 'POST',
              headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
              body: JSON.stringify(input ?? {}),
            });
            return response.json();
          },
          on: () => () => {},
        },
      });
    }, token);
    await openApp(page);
    await go(page, 'settings', 'Settings');
  }

  test('checks the address, shows the full fingerprint, and connects only once it is confirmed', async ({ page }) => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await openAsDesktop(page);
    const form = page.getByRole('form', { name: 'Connect to a team server' });
    await expect(form).toBeVisible();
    const address = form.getByLabel('Team server address');

    await address.fill(`http://127.0.0.1:${new URL(serverOrigin).port}`);
    await form.getByRole('button', { name: 'Check' }).click();
    await expect(form.getByTestId('team-check-error')).toContainText('The address must start with https://');

    await address.fill(`${serverOrigin}/`);
    await form.getByRole('button', { name: 'Check' }).click();
    await expect(form.getByTestId('team-fingerprint')).toHaveText(certificate.fingerprint);
    await expect(form.getByTestId('team-probe')).toContainText(serverOrigin);
    await expect(form.getByTestId('team-probe')).toContainText('CN=localhost');
    const connect = form.getByRole('button', { name: 'Connect' });
    await expect(connect).toBeDisabled();
    await form.getByLabel('It is the fingerprint the server printed').check();
    await page.screenshot({ path: 'test-output/screenshots/settings-connect-team-server.png', fullPage: true });
    await connect.click();
    await expect(form.getByRole('status')).toContainText('Returns Workbench restarts as the team server’s client');
    expect(await page.evaluate(() => (globalThis as unknown as { rwConnects: unknown[] }).rwConnects)).toEqual([
      { url: `${serverOrigin}/`, fingerprint: certificate.fingerprint },
    ]);

    // Another address forgets the check: nothing can be connected that was not checked.
    await address.fill('https://127.0.0.1:1');
    await expect(form.getByTestId('team-probe')).toHaveCount(0);
    expect(pageErrors).toEqual([]);
  });
});
