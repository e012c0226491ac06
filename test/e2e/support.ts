import { expect, test, type Page } from '@playwright/test';
import type { Command, Input, Output, Result } from '../../core/contract';

// What the browser tests share: the host's address, a direct line to the contract (to read what the sandbox has
// produced and to check what the UI did), bounded polls, and the collection of console errors.

export function hostAddress(): { url: string; origin: string; token: string } {
  const url = process.env.RW_E2E_URL;
  const origin = process.env.RW_E2E_ORIGIN;
  if (!url || !origin) throw new Error('RW_E2E_URL is not set: the web host is started by test/e2e/global-setup.ts');
  const token = decodeURIComponent(/#token=([^&]+)/.exec(url)?.[1] ?? '');
  return { url, origin, token };
}

export async function call<K extends Command>(command: K, input: Input<K>): Promise<Output<K>> {
  const { origin, token } = hostAddress();
  const response = await fetch(`${origin}/api/${command}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as Result<Output<K>>;
  if (!body.ok) throw new Error(`${command} answered ${body.error.code}: ${body.error.message}`);
  return body.data;
}

/** Polls `probe` until it answers something, for at most `timeoutMs`; fails naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 45_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Gave up after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Console errors, uncaught exceptions and failed requests of a page; `expectNone` fails the test with them. */
export function watchErrors(page: Page) {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return {
    errors,
    /** Fails with what went wrong since the last check, then starts counting afresh. */
    expectNone: () => expect(errors.splice(0), 'console errors or failed requests').toEqual([]),
  };
}

export async function openApp(page: Page): Promise<void> {
  await page.goto(hostAddress().url);
  await expect(page.getByRole('status', { name: 'Sandbox mode' })).toContainText('Sandbox');
}

/**
 * One page for a spec's tests, as a person keeps the app open: opened once before them (and again after a failure,
 * when Playwright starts a new worker), checked for console errors and failed requests after each test, closed after
 * them, `beforeClose` first (putting back what the spec changed on the shared host). Loading the app once keeps the run
 * short on a busy 2-core machine. `opened` receives the page.
 */
export function usePage(opened: (page: Page) => void, options: { beforeClose?: () => Promise<void> } = {}): void {
  let page: Page | null = null;
  let watch: ReturnType<typeof watchErrors> | null = null;
  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    watch = watchErrors(page);
    opened(page);
    await openApp(page);
  });
  test.afterAll(async () => {
    await options.beforeClose?.();
    await page?.close();
  });
  test.afterEach(() => {
    watch?.expectNone();
  });
}

export async function go(page: Page, section: string, title: string): Promise<void> {
  const heading = page.getByRole('heading', { level: 1 });
  // A click the page did not take is made again, as a person would (once in a CI run, on a page just opened beside
  // another, the heading stayed on Dashboard for 5 s after the click); a section that never opens still fails here.
  await expect(async () => {
    if ((await heading.textContent()) !== title) await page.locator(`nav button[data-section="${section}"]`).click();
    await expect(heading).toHaveText(title, { timeout: 3_000 });
  }).toPass({ timeout: 20_000 });
}

/**
 * Runs `body` with the sandbox's sync paused (and the cycle under way finished), so nothing the test acts on changes
 * by itself meanwhile; sync resumes afterwards whatever happened. `ready` names what the body needs: it is waited for
 * while sync runs, and checked again once paused (the last cycle may have resolved it); bounded attempts.
 */
export async function withSyncPaused<T>(what: string, ready: () => Promise<boolean>, body: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await waitFor(what, async () => ready());
    await call('sync.pause', {});
    try {
      await waitFor('the sync to finish its cycle and pause', async () => (await call('sync.status', {})).state === 'paused', 30_000, 200);
      if (await ready()) return await body();
      if (attempt === 3) throw new Error(`${what}: gone each time sync paused (3 attempts)`);
    } finally {
      await call('sync.resume', {});
    }
  }
}

/** A screenshot of the whole view into test-output/screenshots/: the page scrolls inside the app's frame, so the window is made as tall as it. */
export async function shot(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1440, height: 900 };
  const main = page.locator('main.page');
  // (The test tsconfig has no DOM types: the element's scrollHeight is read by name.)
  const height = ((await main.boundingBox())?.y ?? 0) + Number(await main.evaluate((el) => Reflect.get(el, 'scrollHeight')));
  await page.setViewportSize({ width: size.width, height: Math.min(8000, Math.max(size.height, Math.ceil(height))) });
  await page.screenshot({ path: `test-output/screenshots/${name}.png` });
  await page.setViewportSize(size);
}
