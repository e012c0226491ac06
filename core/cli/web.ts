import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createKeytarSecretStore } from '../adapters/keytar-secrets';
import type { SecretStore } from '../ports';
import { createLogger, createSecretRedactor, fileSink } from '../adapters/logger';
import { osPersonName } from '../adapters/person-name';
import { systemClock, systemIds, systemRandom } from '../adapters/system';
import { sandboxDefaults, startWorkbench, type SandboxSettings } from '../app/workbench';
import { faultProfiles, type FaultProfileName } from '../sandbox/index';
import { startWebHost } from '../host/server';
import { runBundleMode } from '../app/bundle-host';
import { StoreOpenError } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { parseFlags, UsageError } from './args';
import { defaultStateDir } from '../app/state-dir';
import { builtRendererDir, defaultDataDir, repoRoot } from './paths';

const usage = `Usage: npm run web -- [--port N] [--data-dir DIR] [--json] [--seed N] [--speed X] [--warmup S] [--faults none|default|harsh]
  Starts Returns Workbench in browser mode on 127.0.0.1 and prints the address to open (it carries a per-launch token).
  The sync runs in the background: against the built-in sandbox until live connections and their secrets are set in
  Settings, then against them.
  --port N        listen on this port (default: a free one)
  --data-dir DIR  keep the database and logs here (default: ${defaultDataDir()})
  --json          print one JSON line {url, port, token, dataDir, mode} instead of the text banner
  Sandbox mode only (a fresh simulated world at every start):
  --seed N        the world's seed (default ${sandboxDefaults.seed})
  --speed X       sandbox time runs X times faster than real time (default ${sandboxDefaults.speed})
  --warmup S      for the first S seconds it runs ${sandboxDefaults.warmupSpeed}x, so returns reach every stage within a minute
                  (default ${sandboxDefaults.warmupSeconds}; 0: no warm-up)
  --faults NAME   injected API faults: none, default or harsh (default ${sandboxDefaults.faults})
  --bundle FILE   show an evidence bundle (npm run report -- --bundle) read-only instead: no credentials, no sync`;

export interface BrowserModeOptions {
  port?: number;
  dataDir?: string;
  sandbox?: SandboxSettings;
  /** Where Live secrets are kept (default: the OS keychain). */
  secrets?: SecretStore;
}

/** The workbench of a data folder with its log: what browser mode and the team server both run. */
export async function openWorkbench(options: BrowserModeOptions) {
  const dataDir = options.dataDir ?? defaultDataDir();
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  // One redactor for the web host's log and the workbench's: every secret the keychain hands out is masked in both.
  const redactor = createSecretRedactor();
  const log = createLogger({ clock: systemClock, sink: fileSink(join(dataDir, 'logs', 'workbench.log')), redactor });
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const workbench = await startWorkbench({
    dataDir,
    engineStateDir: defaultStateDir(),
    migrationsDir: sourceMigrationsDir,
    clock: systemClock,
    random: systemRandom,
    ids: systemIds,
    log,
    secrets: options.secrets ?? createKeytarSecretStore(),
    redactor,
    actor: osPersonName(),
    appVersion: version,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
  });
  return { workbench, log, dataDir };
}

export async function startBrowserMode(options: BrowserModeOptions = {}) {
  const { workbench, log, dataDir } = await openWorkbench(options);
  const token = randomBytes(32).toString('base64url');
  const host = await startWebHost({
    dispatch: workbench.dispatch,
    events: workbench.events,
    token,
    log,
    staticDir: builtRendererDir,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  log.info('browser mode started', { port: host.port, dataDir, mode: workbench.mode });
  return {
    ...host,
    token,
    dataDir,
    get mode() {
      return workbench.mode;
    },
    workbench,
    stop: async () => {
      await host.close();
      await workbench.close();
    },
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { port: 'string', 'data-dir': 'string', json: 'boolean', seed: 'string', speed: 'string', warmup: 'string', faults: 'string', bundle: 'string' },
    usage,
  );
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${flags.port}".`);
  }
  if (flags.bundle !== undefined) {
    if (!existsSync(flags.bundle)) throw new UsageError(`--bundle: there is no file ${flags.bundle}.`);
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const log = createLogger({ clock: systemClock, sink: (line) => process.stderr.write(line + '\n'), minLevel: 'warn' });
    await runBundleMode({ file: flags.bundle, json: Boolean(flags.json), staticDir: builtRendererDir, clock: systemClock, log, appVersion: version, ...(port !== undefined ? { port } : {}) });
    return;
  }
  const sandbox = sandboxFlags(flags);
  const running = await startBrowserMode({ ...(port !== undefined ? { port } : {}), ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}), sandbox });
  if (flags.json) {
    // The sandbox's addresses let a test read its own call counters (/_sim/calls), never used by the app.
    const sandbox = running.workbench.sandbox;
    const sims = sandbox ? { mirakl: sandbox.mirakl.baseUrl, rebound: sandbox.rebound.baseUrl } : null;
    process.stdout.write(JSON.stringify({ url: running.url, port: running.port, token: running.token, dataDir: running.dataDir, mode: running.mode, sandbox: sims }) + '\n');
  } else {
    announce(running);
  }
  stopOnSignal(running);
}

/** The Sandbox-mode flags (--seed, --speed, --warmup, --faults), checked. */
export function sandboxFlags(flags: { seed?: string; speed?: string; warmup?: string; faults?: string }): SandboxSettings {
  const sandbox: SandboxSettings = {};
  if (flags.seed !== undefined) {
    sandbox.seed = Number(flags.seed);
    if (!Number.isInteger(sandbox.seed)) throw new UsageError(`--seed must be a whole number, not "${flags.seed}".`);
  }
  if (flags.speed !== undefined) {
    sandbox.speed = Number(flags.speed);
    if (!(sandbox.speed > 0) || sandbox.speed > 1_000_000) throw new UsageError(`--speed must be a number above 0 and at most 1000000, not "${flags.speed}".`);
  }
  if (flags.warmup !== undefined) {
    sandbox.warmupSeconds = Number(flags.warmup);
    if (!(sandbox.warmupSeconds >= 0) || sandbox.warmupSeconds > 86_400) throw new UsageError(`--warmup must be a number of seconds from 0 to 86400, not "${flags.warmup}".`);
  }
  if (flags.faults !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(faultProfiles, flags.faults)) throw new UsageError(`--faults must be none, default or harsh, not "${flags.faults}".`);
    sandbox.faults = flags.faults as FaultProfileName;
  }
  return sandbox;
}

export type BrowserMode = Awaited<ReturnType<typeof startBrowserMode>>;

export function announce(running: BrowserMode): void {
  const mode =
    running.mode === 'sandbox'
      ? 'Sandbox mode: a simulated Mirakl and ReBound, fresh at every start (set live connections in Settings).'
      : 'Live mode: syncing with the Mirakl and ReBound set in Settings.';
  process.stdout.write(
    `\nReturns Workbench is running in browser mode.\n\n  Open:  ${running.url}\n  Data:  ${running.dataDir}\n  Sync:  ${mode}\n\n` +
      'The address carries a token that changes at every start. Press Ctrl+C to stop.\n',
  );
}

export function stopOnSignal(running: { stop(): Promise<void> }): void {
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function reportFatal(error: unknown): never {
  if (error instanceof UsageError || error instanceof StoreOpenError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Returns Workbench could not start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(reportFatal);
}
