import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser. The web host is started by global setup from the real CLI.
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
  // The team server's certificate is self-signed. With only a context's ignoreHTTPSErrors, Chromium meets the
  // certificate error on every new connection and restarts the request past it; under load a request on a busy page
  // ran out of restarts (net::ERR_TOO_MANY_RETRIES, a console error on Ana's page in a CI run of signoff.spec.ts).
  // Ignored here, at the browser, no request has an error to restart past. Every HTTPS page in these tests is a team
  // server of the test's own; the desktop app pins the certificate's fingerprint instead (team-connect.spec.ts).
  '--ignore-certificate-errors',
  // Chromium 156 in headless mode builds its address bar's popup (a WebUI page with dozens of scripts) for every new
  // window — every browser context — which costs ~0.5 s of CPU beside the page under test on these 2 cores (the
  // returns grid's cold start: ~1.5 s with it, ~0.85 s without). Neither the desktop app nor a browser that is
  // already open pays that when the page loads. Chromium keeps only the last --disable-features it is given and
  // Playwright passes its own list first, so this one repeats Playwright's (playwright-core's chromiumSwitches at the
  // pinned version) and adds the popup's features.
  `--disable-features=${[
    ...['AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades', 'HttpsFirstBalancedModeAutoEnable', 'LensOverlay'],
    ...['MediaRouter', 'PaintHolding', 'ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect', 'OptimizationHints'],
    ...['NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch'],
    ...['WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup'],
  ].join(',')}`,
];

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-output/playwright',
  globalSetup: './test/e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    { name: 'browser', testDir: 'test/e2e' },
    // The desktop app through Playwright's _electron; skipped, with the reason printed, where Electron cannot run.
    { name: 'electron', testDir: 'test/e2e-electron' },
  ],
});
