import { describe, expect, it } from 'vitest';
import { faultProfiles } from '../../core/sandbox/index';
import { createRng } from '../../core/sandbox/rng';
import { defaultScenario } from '../../core/sandbox/scenario';
import { SimulatedCrash } from '../../core/sync/execute';
import { checkInvariants } from '../support/invariants';
import { fastWorld, startHarness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;
const day = 24 * 60 * minute;
// 12 seeds on every run (the chaos harness, test/chaos, covers kills with every other fault too); RW_CRASH_SEEDS=200 for a long run.
const seeds = Number(process.env.RW_CRASH_SEEDS ?? 12);

// The engine is abandoned at random instrumented points — just before a call, just after it (the change applied,
// the outcome not yet recorded) — and rebuilt from the database file, as after a crash or a kill. Faults run
// throughout. Once quiet, the money and stock invariants must hold against ground truth for every seed.
const world = fastWorld({ historyDays: 0, ordersPerDay: 24, days: 1.5 });

describe(`crash recovery across ${seeds} seeds`, () => {
  it('keeps refunds and stock exactly-once when the engine dies mid-flight', async () => {
    const failures: string[] = [];
    let crashes = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const temp = makeTempDir();
      const chaos = createRng(seed).fork('crash');
      const h = await startHarness({
        seed,
        dataDir: temp.dir,
        scenario: world,
        miraklFaults: faultProfiles.default,
        reboundFaults: faultProfiles.default,
        crash: (point) => {
          if (chaos.chance(0.03)) {
            crashes++;
            throw new SimulatedCrash(point);
          }
        },
      });
      try {
        while (h.clock.now() < defaultScenario.startMs + 9 * day) {
          try {
            await h.step(30 * minute);
          } catch (error) {
            if (!(error instanceof SimulatedCrash)) throw error;
            h.reopen();
          }
        }
        const report = checkInvariants(h.sandbox, h.store.db, { isQuiet: true });
        const integrity = h.store.db.pragma('integrity_check', { simple: true });
        if (integrity !== 'ok') failures.push(`seed ${seed}: integrity_check ${String(integrity)}`);
        failures.push(...report.violations.map((v) => `seed ${seed}: ${v}`));
      } finally {
        await h.close();
        temp.remove();
      }
    }
    console.info(JSON.stringify({ seeds, crashes }));
    expect(crashes).toBeGreaterThan(seeds);
    expect(failures).toEqual([]);
  }, 900_000);
});
