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
import { timerSleep } from '../app/sync-service';
import { secretAccounts } from '../app/mode';
import { loadMappings } from '../mappings/load';
import { fetchHttp } from '../net/http';
import { createScaledClock } from '../sandbox/clock';
import { defaultScenario, startSandbox } from '../sandbox/index';
import { openStore } from '../store/db';
import { createSyncSummaryRepo } from '../store/feeds-repo';
import { describeBusy, describeHolder, FolderBusyError } from '../store/folder-lock';
import { sourceMigrationsDir } from '../store/paths';
import { parseFlags, UsageError } from './args';
import { defaultStateDir } from '../app/state-dir';
import { defaultDataDir } from './paths';
import { reportFatal } from './web';

/** EX_TEMPFAIL: another engine holds the data folder; trying again later may work. */
const busyExitCode = 75;
/** How long a stop waits for the cycle in flight; the rest of the 10 s is for closing. */
const drainMs = 7_000;
const stopWithinMs = 10_000;

const usage = `Usage: npm run sync -- (--once | --watch) [--wait] [--config FILE] [--data-dir DIR] [--speed X] [--seed N]
  Runs the sync engine: --once runs every feed once and exits; --watch keeps running. Ctrl+C (or SIGTERM) stops it
  within 10 s: the calls in flight finish, or stay recorded as 'sending' for the next start to check.
  One engine runs per data folder: while another holds it (npm run sync, npm run web, the desktop app), this one
  refuses and names it (exit code ${busyExitCode}); with --wait it starts as soon as that one stops.
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
    { once: 'boolean', watch: 'boolean', wait: 'boolean', config: 'string', 'data-dir': 'string', speed: 'string', seed: 'string' },
    usage,
  );
  if (Boolean(flags.once) === Boolean(flags.watch)) throw new UsageError(`Give exactly one of --once and --watch.\n${usage}`);
  const say = (line: string) => void process.stderr.write(line + '\n');
  // Ctrl+C reaches every process of the terminal's group, and npm passes it on too: the same signal may come twice.
  const stopRequest = new AbortController();
  let stopSignal: NodeJS.Signals | null = null;
  let stopAskedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) {
      if (Date.now() - stopAskedAt > 1000) say(`Already stopping (${signal} again): it takes at most ${stopWithinMs / 1000} s in all.`);
      return;
    }
    stopSignal = signal;
    stopAskedAt = Date.now();
    stopRequest.abort(new Error(`stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
  // A test hook for the engine lease (issue 25): two engines on one folder. The lease still fences them; nothing else does.
  const isLockSkipped = process.env['RW_UNSAFE_SKIP_FOLDER_LOCK'] === '1';
  if (isLockSkipped) say('RW_UNSAFE_SKIP_FOLDER_LOCK=1: this engine takes no folder lock (a test of the engine lease). Never run it like this for real.');
  let runtime: Awaited<ReturnType<typeof createSyncRuntime>>;
  try {
    runtime = await createSyncRuntime({
      db: store.db,
      clock,
      random: systemRandom,
      log,
      http: redactingHttp(fetchHttp, redactor),
      events: null,
      mappings: () => mappings,
      connections,
      // A sandbox run's folder is thrown away: only a Live one (--config) is recorded outside it.
      ...(flags.config ? { engineStateDir: defaultStateDir() } : {}),
      lock: {
        isUnsafelySkipped: isLockSkipped,
        wait: Boolean(flags.wait),
        signal: stopRequest.signal,
        onBusy: (busy) => say(busy.isHolderGone ? describeBusy(busy) : `Waiting for the data folder. ${describeBusy(busy)} This one starts as soon as that one stops (Ctrl+C stops waiting).`),
        onLost: (error) => {
          say(`This engine lost the data folder's lock (${error.message}): another process took it over. Stopping.`);
          process.exitCode = 1;
          onSignal('SIGTERM');
        },
      },
    });
  } catch (error) {
    store.close();
    await stopSandbox();
    if (error instanceof FolderBusyError) {
      say(
        `${error.message}\nOne engine per data folder: two would send the same calls to Mirakl and ReBound. Stop that one first, ` +
          'or add --wait to start this one as soon as it stops.',
      );
      process.exit(busyExitCode);
    }
    if (stopRequest.signal.aborted) {
      say(`Stopped (${stopSignal ?? 'signal'}) while waiting for the data folder: this engine never started.`);
      process.exit(0);
    }
    throw error;
  }
  const { engine, lock } = runtime;
  if (lock.tookOver) say(`Took over ${dataDir} from ${describeHolder(lock.tookOver.holder)}, which ended without releasing it.`);
  say(`Sync engine started on ${dataDir} (pid ${process.pid}). Ctrl+C stops it within ${stopWithinMs / 1000} s, once the calls in flight are done.`);

  const figures = createSyncSummaryRepo(store.db);
  const summary = () => ({ at: new Date(clock.now()).toISOString(), ...figures.totals() });
  let cycles = 0;
  let isCycleRunning = false;
  const cycle = async (force: boolean) => {
    isCycleRunning = true;
    try {
      const report = await engine.runCycle({ force });
      cycles++;
      process.stdout.write(JSON.stringify({ ...summary(), ran: report.ran, failed: report.failed }) + '\n');
      if (engine.state === 'fenced') {
        say(`${report.failed.at(-1)?.error ?? 'Another engine started on this database.'} Stopping; start this one again to take over.`);
        process.exitCode = 1;
        onSignal('SIGTERM');
      }
    } finally {
      isCycleRunning = false;
    }
  };
  // Cycles run one after another; a stop is noticed between them and never interrupts one.
  const loop = (async () => {
    if (flags.once) return cycle(true);
    while (!stopRequest.signal.aborted) {
      await cycle(false);
      await timerSleep(1000, stopRequest.signal);
    }
  })();
  const stopped = new Promise<void>((resolve) => stopRequest.signal.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.race([loop, stopped]);

  if (!stopRequest.signal.aborted) {
    // --once, done.
    store.close();
    await lock.release();
    await stopSandbox();
    return;
  }
  // A stop that hangs anyway (a close that does not return) must not hold the terminal: the lock and the log are
  // safe at any exit, and intents are written before their calls.
  setTimeout(() => {
    say(`Did not stop within ${stopWithinMs / 1000} s: exiting now. Calls left 'sending' are checked at the next start.`);
    process.exit(1);
  }, stopWithinMs - 500).unref();
  const signal = stopSignal ?? 'SIGTERM';
  say(isCycleRunning ? `Stopping (${signal}): letting the sync cycle in flight finish its calls (at most ${drainMs / 1000} s)…` : `Stopping (${signal})…`);
  const isDrained = await settlesWithin(loop, drainMs);
  const sending = isDrained ? 0 : figures.callsInFlight();
  // With its database closed, a cycle still out can record nothing more, so it can send nothing more either: an
  // intent must be committed as 'sending' before its call goes out.
  store.close();
  await lock.release();
  await settlesWithin(stopSandbox(), 1_500);
  const closed = `The database is checkpointed and closed, and ${dataDir} is free for another engine.`;
  if (isDrained) say(`Stopped (${signal}) after ${cycles} cycle${cycles === 1 ? '' : 's'}; no call was left in flight. ${closed}`);
  else if (sending > 0) {
    say(
      `Stopped (${signal}) before the cycle in flight finished: ${sending} call${sending === 1 ? ' is' : 's are'} still out and stay${sending === 1 ? 's' : ''} ` +
        `recorded as 'sending'; the next start checks ${sending === 1 ? 'it' : 'them'} with Mirakl or ReBound before anything is sent again. ${closed}`,
    );
  } else say(`Stopped (${signal}) while the cycle in flight was reading: no call was out. ${closed}`);
  process.exit(process.exitCode ?? 0);
}


/** True when `work` settles within `ms`. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}

main().catch(reportFatal);
