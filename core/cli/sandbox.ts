import { systemClock } from '../adapters/system';
import { createScaledClock, createSteppedClock } from '../sandbox/clock';
import { serveOverIpc, type IpcChannel } from '../sandbox/http/ipc';
import { defaultScenario, faultProfiles, startSandbox, type FaultProfileName } from '../sandbox/index';
import type { Scenario, TaxMode } from '../sandbox/scenario';
import { parseFlags, UsageError } from './args';
import { reportFatal } from './web';

const usage = `Usage: npm run sandbox -- [--seed N] [--speed X | --clock stepped] [--faults none|default|harsh]
                           [--tax-mode TAX_INCLUDED|TAX_EXCLUDED] [--scenario JSON] [--mirakl-port P] [--rebound-port P]
  Runs the simulated Mirakl seller API and ReBound API on 127.0.0.1 and prints one JSON line with their base URLs
  and credentials. Sandbox time starts at ${new Date(defaultScenario.startMs).toISOString()} and runs --speed times
  faster than real time (default 60: an hour a minute). With --clock stepped it stands still until someone moves it:
  POST <mirakl baseUrl>/_sim/clock {"to": epochMs} or {"by": ms} (GET shows the time and the next ReBound event).
  --tax-mode is the shop's default order_tax_mode (default ${defaultScenario.taxMode}): what OR11 and OR28 use when a
  request names none. --scenario overrides scenario fields (JSON object, e.g. '{"ordersPerDay":300}').
  Ground truth: GET <baseUrl>/_sim/truth. Started by fork() (an IPC channel), it also serves requests sent down the
  channel, without sockets (core/sandbox/http/ipc.ts), and stops when its parent goes.`;

const taxModes: readonly TaxMode[] = ['TAX_INCLUDED', 'TAX_EXCLUDED'];

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    {
      seed: 'string',
      speed: 'string',
      clock: 'string',
      faults: 'string',
      'tax-mode': 'string',
      scenario: 'string',
      'mirakl-port': 'string',
      'rebound-port': 'string',
    },
    usage,
  );
  const number = (name: string, value: string | undefined, fallback: number, check: (n: number) => boolean) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} has an invalid value "${value}".\n${usage}`);
    return n;
  };
  const seed = number('seed', flags.seed, 1, Number.isInteger);
  const speed = number('speed', flags.speed, 60, (n) => n > 0 && n <= 100_000);
  const faults = (flags.faults ?? 'none') as FaultProfileName;
  if (!(faults in faultProfiles)) throw new UsageError(`--faults must be none, default or harsh, not "${faults}".\n${usage}`);
  const taxMode = (flags['tax-mode'] ?? defaultScenario.taxMode) as TaxMode;
  if (!taxModes.includes(taxMode)) throw new UsageError(`--tax-mode must be TAX_INCLUDED or TAX_EXCLUDED, not "${taxMode}".\n${usage}`);
  const port = (name: 'mirakl-port' | 'rebound-port') => number(name, flags[name], 0, (n) => Number.isInteger(n) && n >= 0 && n < 65536);
  const clockKind = flags.clock ?? 'scaled';
  if (clockKind !== 'scaled' && clockKind !== 'stepped') throw new UsageError(`--clock must be scaled or stepped, not "${clockKind}".\n${usage}`);
  if (clockKind === 'stepped' && flags.speed !== undefined) throw new UsageError(`--speed has no meaning with --clock stepped.\n${usage}`);
  let scenario: Partial<Scenario> = {};
  if (flags.scenario !== undefined) {
    try {
      scenario = JSON.parse(flags.scenario) as Partial<Scenario>;
    } catch (error) {
      throw new UsageError(`--scenario is not JSON: ${(error as Error).message}.\n${usage}`);
    }
    if (typeof scenario !== 'object' || scenario === null || Array.isArray(scenario)) throw new UsageError(`--scenario must be a JSON object.\n${usage}`);
  }
  const startMs = scenario.startMs ?? defaultScenario.startMs;

  const sandbox = await startSandbox({
    seed,
    clock: clockKind === 'stepped' ? createSteppedClock(startMs) : createScaledClock(systemClock, startMs, speed),
    scenario: { ...scenario, taxMode: scenario.taxMode ?? taxMode },
    miraklFaults: faultProfiles[faults],
    reboundFaults: faultProfiles[faults],
    miraklPort: port('mirakl-port'),
    reboundPort: port('rebound-port'),
    // A stepped clock moves only on /_sim/clock: nothing to tick.
    ...(clockKind === 'stepped' ? {} : { tickMs: 1000 }),
  });
  const ready = {
    seed,
    ...(clockKind === 'stepped' ? { clock: 'stepped' } : { speed }),
    faults,
    taxMode,
    mirakl: sandbox.mirakl,
    rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: sandbox.rebound.clientSecret },
  };
  process.stdout.write(JSON.stringify(ready) + '\n');
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.send) {
    serveOverIpc(process as IpcChannel, [sandbox.miraklServer, sandbox.reboundServer]);
    process.once('disconnect', stop);
    process.send({ type: 'sandbox.ready', ...ready });
  }
}

main().catch(reportFatal);
