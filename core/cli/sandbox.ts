import { systemClock } from '../adapters/system';
import { createScaledClock } from '../sandbox/clock';
import { defaultScenario, faultProfiles, startSandbox, type FaultProfileName } from '../sandbox/index';
import { parseFlags, UsageError } from './args';
import { reportFatal } from './web';

const usage = `Usage: npm run sandbox -- [--seed N] [--speed X] [--faults none|default|harsh] [--mirakl-port P] [--rebound-port P]
  Runs the simulated Mirakl seller API and ReBound API on 127.0.0.1 and prints one JSON line with their base URLs
  and credentials. Sandbox time starts at ${new Date(defaultScenario.startMs).toISOString()} and runs --speed times
  faster than real time (default 60: an hour a minute). Ground truth: GET <baseUrl>/_sim/truth.`;

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { seed: 'string', speed: 'string', faults: 'string', 'mirakl-port': 'string', 'rebound-port': 'string' },
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
  const port = (name: 'mirakl-port' | 'rebound-port') => number(name, flags[name], 0, (n) => Number.isInteger(n) && n >= 0 && n < 65536);

  const sandbox = await startSandbox({
    seed,
    clock: createScaledClock(systemClock, defaultScenario.startMs, speed),
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
      mirakl: sandbox.mirakl,
      rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId, clientSecret: sandbox.rebound.clientSecret },
    }) + '\n',
  );
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(reportFatal);
