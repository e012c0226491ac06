import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultScenario } from '../../core/sandbox/scenario';
import { quickCleanWorld, startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// Quarantine after restore when the whole data folder is put back (issue 25): a backup of the folder carries the
// database and its engine-lease.json of the same moment, which agree with each other, so the folder alone cannot show
// the restore. The engine's record in this machine's per-user state folder (outside the data folder) still holds how
// far the database had gone. A machine that has no record of the database (a first start there) must not quarantine it.

const minute = 60_000;
const hour = 60 * minute;
const start = defaultScenario.startMs;

describe('a whole data folder put back from a backup', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness | null = null;

  afterEach(async () => {
    await h?.close();
    h = null;
    temp.remove();
  });

  /** Runs the engine until `at`, in half-hour steps. */
  const runUntil = async (harness: Harness, at: number) => {
    while (harness.clock.now() < at) await harness.step(30 * minute);
  };
  const openRestoreExceptions = (harness: Harness) =>
    harness.store.db.prepare(`SELECT cause FROM exceptions WHERE type = 'RESTORED_DATABASE' AND state != 'resolved'`).all() as { cause: string }[];

  /** Backs up the whole data folder with the engine stopped, runs on (a restart and more calls), then puts it back. */
  const backUpRunOnAndPutBack = async (harness: Harness) => {
    const folder = join(temp.dir, 'data');
    const backup = join(temp.dir, 'folder-backup');
    await runUntil(harness, start + 12 * hour);
    harness.store.close();
    cpSync(folder, backup, { recursive: true });
    harness.reopen();
    await runUntil(harness, start + 30 * hour);
    harness.store.close();
    rmSync(folder, { recursive: true, force: true });
    cpSync(backup, folder, { recursive: true });
  };

  it('starts quarantined (RESTORED_DATABASE), from the record outside the folder', async () => {
    temp = makeTempDir();
    h = await startHarness({ seed: 5, dataDir: temp.dir, scenario: quickCleanWorld(), engineStateDir: join(temp.dir, 'machine-state') });
    await backUpRunOnAndPutBack(h);
    h.reopen();
    expect(h.ctx.lease.arrivedBecause()).toMatch(/whole data folder restored/);
    expect(h.ctx.restore.isActive()).toBe(true);
    expect(openRestoreExceptions(h)).toHaveLength(1);
  });

  it('is not quarantined on a machine that has no record of the database (a first start there)', async () => {
    temp = makeTempDir();
    h = await startHarness({ seed: 5, dataDir: temp.dir, scenario: quickCleanWorld(), engineStateDir: join(temp.dir, 'machine-state') });
    await runUntil(h, start + 12 * hour);
    h.reopen({ engineStateDir: join(temp.dir, 'another-machine-state') });
    expect(h.ctx.lease.arrivedBecause()).toBeNull();
    expect(h.ctx.restore.isActive()).toBe(false);
    expect(openRestoreExceptions(h)).toEqual([]);
  });

  it('on another machine with the folder put back there, only the folder speaks (and agrees): not quarantined', async () => {
    temp = makeTempDir();
    h = await startHarness({ seed: 5, dataDir: temp.dir, scenario: quickCleanWorld(), engineStateDir: join(temp.dir, 'machine-state') });
    await backUpRunOnAndPutBack(h);
    h.reopen({ engineStateDir: join(temp.dir, 'another-machine-state') });
    expect(h.ctx.lease.arrivedBecause()).toBeNull();
  });
});
