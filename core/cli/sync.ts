import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createKeytarSecretStore, rememberSecrets } from '../adapters/keytar-secrets';
import { createLogger, createSecretRedactor } from '../adapters/logger';
import { redactingHttp } from '../adapters/redacting-http';
import { systemClock, systemRandom } from '../adapters/system';
import { createSyncRuntime, type Connections } from '../app/sync-runtime';
import { secretAccounts } from '../app/mode';
import { loadMappings } from '../mappings/load';
import { fetchHttp } from '../net/http';
import { createScaledClock } from '../sandbox/clock';
import { defaultScenario, startSandbox } from '../sandbox/index';
import { openStore } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { parseFlags, UsageError } from './args';
import { defaultDataDir } from './paths';
import { reportFatal } from './web';

const usage = `Usage: npm run sync -- (--once | --watch) [--config FILE] [--data-dir DIR] [--speed X] [--seed N]
  Runs the sync engine: --once runs every feed once and exits; --watch keeps running (Ctrl+C stops it).
  Without --config it starts the built-in sandbox (seed --seed, sandbox time --speed times real time, default 3600)
  and syncs against it. --config FILE (YAML or JSON) names live endpoints:
    mirakl:  { baseUrl: https://<instance>.mirakl.net, shopId: 2001 }
    rebound: { baseUrl: https://…, clientId: …, flowKey: … }
  Secrets never go in that file: they are read from the OS keychain (accounts ${secretAccounts.miraklApiKey} and
  ${secretAccounts.reboundClientSecret}), or from RW_MIRAKL_API_KEY / RW_REBOUND_CLIENT_SECRET for headless runs.`;

const configSchema = z
  .object({
    mirakl: z.object({ baseUrl: z.url(), shopId: z.number().int().positive().optional() }).strict(),
    rebound: z.object({ baseUrl: z.url(), clientId: z.string().min(1), flowKey: z.string().optional() }).strict(),
  })
  .strict();

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { once: 'boolean', watch: 'boolean', config: 'string', 'data-dir': 'string', speed: 'string', seed: 'string' },
    usage,
  );
  if (Boolean(flags.once) === Boolean(flags.watch)) throw new UsageError(`Give exactly one of --once and --watch.\n${usage}`);
  // The sandbox forgets everything when it stops, so a sandbox run gets a database of its own: mixing it with
  // live data, or with an earlier sandbox run, would describe returns no system knows.
  const dataDir = flags['data-dir'] ?? (flags.config ? defaultDataDir() : mkdtempSync(join(tmpdir(), 'rw-sandbox-sync-')));
  if (!flags.config && flags['data-dir'] && existsSync(join(dataDir, 'workbench.sqlite'))) {
    throw new UsageError(`${dataDir} already holds a database. A sandbox run needs an empty data directory: the sandbox does not survive a restart.`);
  }
  // Every secret read (keychain or environment) is masked in the log and in every API answer before it is stored.
  const redactor = createSecretRedactor();
  const log = createLogger({ clock: systemClock, sink: (line) => process.stderr.write(line + '\n'), minLevel: 'warn', redactor });

  let connections: Connections;
  let clock = systemClock;
  let stopSandbox = async () => {};
  if (flags.config) {
    const raw = readFileSync(flags.config, 'utf8');
    const parsed = configSchema.safeParse(flags.config.endsWith('.json') ? JSON.parse(raw) : parseYaml(raw));
    if (!parsed.success) {
      throw new UsageError(`${flags.config}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
    }
    const secrets = rememberSecrets(createKeytarSecretStore(), redactor);
    const secret = async (env: string, account: string) => {
      const value = process.env[env] ?? (await secrets.get(account));
      if (!value) throw new UsageError(`No secret for ${account}: store it in the keychain (Settings) or set ${env}.`);
      redactor.remember(value);
      return value;
    };
    connections = {
      mirakl: { ...parsed.data.mirakl, apiKey: () => secret('RW_MIRAKL_API_KEY', secretAccounts.miraklApiKey) },
      rebound: { ...parsed.data.rebound, clientSecret: () => secret('RW_REBOUND_CLIENT_SECRET', secretAccounts.reboundClientSecret) },
    };
  } else {
    const speed = Number(flags.speed ?? 3600);
    const seed = Number(flags.seed ?? 1);
    if (!(speed > 0) || !Number.isInteger(seed)) throw new UsageError(`--speed must be a positive number and --seed a whole number.\n${usage}`);
    clock = createScaledClock(systemClock, defaultScenario.startMs + 60_000, speed);
    const sandbox = await startSandbox({ seed, clock, tickMs: 500 });
    redactor.remember(sandbox.mirakl.apiKey);
    redactor.remember(sandbox.rebound.clientSecret);
    stopSandbox = () => sandbox.close();
    connections = {
      mirakl: { baseUrl: sandbox.mirakl.baseUrl, shopId: sandbox.mirakl.shopId, apiKey: async () => sandbox.mirakl.apiKey },
      rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: async () => sandbox.rebound.clientSecret },
    };
    process.stderr.write(`Sandbox (seed ${seed}, ${speed}x): Mirakl ${sandbox.mirakl.baseUrl}, ReBound ${sandbox.rebound.baseUrl}\n`);
  }

  const store = openStore({ dataDir, migrationsDir: sourceMigrationsDir, clock });
  const mappings = loadMappings(undefined, join(dataDir, 'mappings'));
  const { engine } = createSyncRuntime({ db: store.db, clock, random: systemRandom, log, http: redactingHttp(fetchHttp, redactor), events: null, mappings: () => mappings, connections });
  const summary = () => {
    const count = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
    return {
      at: new Date(clock.now()).toISOString(),
      returns: count('SELECT count(*) AS n FROM mirakl_returns'),
      inReBound: count('SELECT count(*) AS n FROM rebound_return_orders'),
      refundsConfirmed: count(`SELECT count(*) AS n FROM intents WHERE kind = 'mirakl.refund' AND state = 'confirmed'`),
      unitsRestocked: count(`SELECT count(*) AS n FROM stock_increments WHERE state = 'applied'`),
      openExceptions: count(`SELECT count(*) AS n FROM exceptions WHERE state != 'resolved'`),
    };
  };
  const cycle = async (force: boolean) => {
    const report = await engine.runCycle({ force });
    process.stdout.write(JSON.stringify({ ...summary(), ran: report.ran, failed: report.failed }) + '\n');
  };
  if (flags.once) {
    await cycle(true);
    store.close();
    await stopSandbox();
    return;
  }
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopping) {
    await cycle(false);
    await new Promise((r) => setTimeout(r, 1000));
  }
  store.close();
  await stopSandbox();
}

main().catch(reportFatal);
