import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createKeytarSecretStore } from '../adapters/keytar-secrets';
import { createLogger, fileSink } from '../adapters/logger';
import { localActor, systemClock, systemIds } from '../adapters/system';
import { bootCore } from '../app/create-core';
import { startWebHost } from '../host/server';
import { StoreOpenError } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { parseFlags, UsageError } from './args';
import { builtRendererDir, defaultDataDir, repoRoot } from './paths';

const usage = `Usage: npm run web -- [--port N] [--data-dir DIR] [--json]
  Starts Returns Workbench in browser mode on 127.0.0.1 and prints the address to open (it carries a per-launch token).
  --port N        listen on this port (default: a free one)
  --data-dir DIR  keep the database and logs here (default: ${defaultDataDir()})
  --json          print one JSON line {url, port, token, dataDir} instead of the text banner`;

export interface BrowserModeOptions {
  port?: number;
  dataDir?: string;
}

export async function startBrowserMode(options: BrowserModeOptions = {}) {
  const dataDir = options.dataDir ?? defaultDataDir();
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const log = createLogger({ clock: systemClock, sink: fileSink(join(dataDir, 'logs', 'workbench.log')) });
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const core = await bootCore({
    dataDir,
    migrationsDir: sourceMigrationsDir,
    clock: systemClock,
    ids: systemIds,
    log,
    secrets: createKeytarSecretStore(),
    actor: localActor(),
    appVersion: version,
  });
  const token = randomBytes(32).toString('base64url');
  const host = await startWebHost({
    dispatch: core.dispatch,
    events: core.events,
    token,
    log,
    staticDir: builtRendererDir,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  log.info('browser mode started', { port: host.port, dataDir });
  return {
    ...host,
    token,
    dataDir,
    stop: async () => {
      await host.close();
      core.close();
    },
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { port: 'string', 'data-dir': 'string', json: 'boolean' }, usage);
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${flags.port}".`);
  }
  const running = await startBrowserMode({ ...(port !== undefined ? { port } : {}), ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}) });
  if (flags.json) {
    process.stdout.write(JSON.stringify({ url: running.url, port: running.port, token: running.token, dataDir: running.dataDir }) + '\n');
  } else {
    announce(running);
  }
  stopOnSignal(running);
}

export type BrowserMode = Awaited<ReturnType<typeof startBrowserMode>>;

export function announce(running: BrowserMode): void {
  process.stdout.write(
    `\nReturns Workbench is running in browser mode.\n\n  Open:  ${running.url}\n  Data:  ${running.dataDir}\n\n` +
      'The address carries a token that changes at every start. Press Ctrl+C to stop.\n',
  );
}

export function stopOnSignal(running: BrowserMode): void {
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
