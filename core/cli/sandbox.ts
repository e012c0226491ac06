import { systemClock } from '../adapters/system';
import { createScaledClock } from '../sandbox/clock';
import { defaultScenario, faultProfiles, startSandbox, type FaultProfileName } from '../sandbox/index';
import type { TaxMode } from '../sandbox/scenario';
import { parseFlags, UsageError } from './args';
import { reportFatal } from './web';

const usage = `Usage: npm run sandbox -- [--seed N] [--speed X] [--faults none|default|harsh] [--tax-mode TAX_INCLUDED|TAX_EXCLUDED]
                           [--mirakl-port P] [--rebound-port P]
  Runs the simulated Mirakl seller API and ReBound API on 127.0.0.1 and prints one JSON line with their base URLs
  and credentials. Sandbox time starts at ${new Date(defaultScenario.startMs).toISOString()} and runs --speed times
  faster than real time (default 60: an hour a minute). --tax-mode is the shop's default order_tax_mode (default
  ${defaultScenario.taxMode}): what OR11 and OR28 use when a request names none. Ground truth: GET <baseUrl>/_sim/truth.`;

const taxModes: readonly TaxMode[] = ['TAX_INCLUDED', 'TAX_EXCLUDED'];

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { seed: 'string', speed: 'string', faults: 'string', 'tax-mode': 'string', 'mirakl-port': 'string', 'rebound-port': 'string' },
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

  const sandbox = await startSandbox({
    seed,
    clock: createScaledClock(systemClock, defaultScenario.startMs, speed),
    scenario: { taxMode },
    miraklFaults: faultProfiles[faults],
    reboundFaults: faultProfiles[faults],
    miraklPort: port('mirakl-port'),
    reboundPort: port('rebound-port'),
    tickMs: 1000,
  });
  process.stdout.write(
    JSON.stringify({
      seed,
      speed,
      faults,
      taxMode,
      mirakl: sandbox.mirakl,
      rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: sandbox.rebound.clientSecret },
    }) + '\n',
  );
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(reportFatal);
