import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../core/sandbox/index';
import { returnOrderStatusRank } from '../../core/ledger/units';
import { checkInvariants } from '../support/invariants';
import { enginePid, jsonLines, startNpm, startStandalone, type CliRun } from '../support/cli-process';
import { makeTempDir } from '../support/temp-dir';

// Fencing between real processes (issue 25): two `npm run sync` on one data folder with the folder lock bypassed
// (RW_UNSAFE_SKIP_FOLDER_LOCK, a test hook), so only the engine lease stands between them. A is stopped with SIGSTOP
// (a laptop lid), B starts and takes the next epoch, runs, and stops; ReBound then registers parcels, so there are
// calls to send. A is woken with SIGCONT: it sends none of them, says another engine took over, and exits 1. The next
// engine sends them, and the sandbox's ground truth holds no duplicate. ReBound is read every 2 s here (its cadence is a
// minute, kept across engines), and a stage's writes go at once instead of waiting up to a minute or five for more to
// join their call (how many returns are waiting depends on the hour the sandbox world is built at), so the next engine
// reads the registrations and tells Mirakl within the test.

const entry = 'core/cli/sync.ts';
const cycleLine = /^\{.*"ran"/;
const runs: CliRun[] = [];
let temp: ReturnType<typeof makeTempDir> | null = null;
let standalone: Sandbox | null = null;

afterEach(async () => {
  for (const run of runs.splice(0)) {
    try {
      process.kill(run.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    run.killGroup();
  }
  await standalone?.close();
  standalone = null;
  temp?.remove();
  temp = null;
});

/** Calls that change Mirakl or ReBound, as the sandbox counted them. */
function writes(sandbox: Sandbox): number {
  const reads = /^(RT11|OR11|OF21|OF52|OF53|OF54|STO02|STO03|RE01|oauth\.token|returnOrders\.(get|list|changes)|salesOrders\.get|parcels\..*|webhookSubscriptions\.get|_sim\..*)$/;
  let n = 0;
  for (const server of [sandbox.miraklServer, sandbox.reboundServer]) for (const [op, c] of Object.entries(server.counters)) if (!reads.test(op)) n += c.calls;
  return n;
}

describe('an engine woken after another took over its database', () => {
  it('SIGSTOP A, B takes the epoch, SIGCONT A: A sends nothing and exits; the work goes out once, from the next engine', async () => {
    temp = makeTempDir('rw-fence-');
    const live = await startStandalone(temp.dir);
    standalone = live.sandbox;
    const sandbox = live.sandbox;
    const dataDir = join(temp.dir, 'data');
    const start = (env: Record<string, string> = {}) => {
      const run = startNpm('sync', ['--watch', '--config', live.configFile, '--data-dir', dataDir], { ...live.env, ...env });
      runs.push(run);
      return run;
    };
    const unlocked = { RW_UNSAFE_SKIP_FOLDER_LOCK: '1' };
    mkdirSync(join(dataDir, 'mappings'), { recursive: true });
    const policy = readFileSync('mappings/policy.yaml', 'utf8')
      .replace(/reboundPollSeconds: \d+/, 'reboundPollSeconds: 2')
      .replace(/windowSeconds: \d+/, 'windowSeconds: 0')
      .replace(/fillSeconds: \d+/, 'fillSeconds: 0');
    expect(policy).toMatch(/reboundPollSeconds: 2[^]*windowSeconds: 0[^]*fillSeconds: 0/);
    writeFileSync(join(dataDir, 'mappings', 'policy.yaml'), policy);

    const a = start(unlocked);
    await a.waitFor(cycleLine, 25_000);
    const aPid = enginePid(a.pid, entry);
    if (aPid === null) throw new Error('no engine process found for A');
    process.kill(aPid, 'SIGSTOP');

    const b = start(unlocked);
    await b.waitFor(/^Sync engine started on /, 25_000);
    await b.waitFor(cycleLine, 25_000);
    process.kill(b.pid, 'SIGTERM');
    expect(await b.exited(10_000)).toMatchObject({ code: 0 });

    // Work for whoever runs next: parcels registered at the hub (Mirakl must be told RT25, refunds may follow).
    const waiting = sandbox.rebound.sim.truth().returnOrders.filter((ro) => ro.status === 'LABEL_ISSUED').slice(0, 5);
    expect(waiting.length).toBeGreaterThan(0);
    for (const ro of waiting) {
      const moved = sandbox.rebound.sim.simAdvanceReturnOrder(ro.reboundOrderId, { event: 'ITEMS_REGISTERED' });
      expect(moved.ok, JSON.stringify(moved)).toBe(true);
    }

    const before = writes(sandbox);
    const receivedBefore = sandbox.miraklServer.counters['RT25']?.calls ?? 0;
    const aCyclesBefore = jsonLines(a.stdout()).length;
    process.kill(aPid, 'SIGCONT');
    const exit = await a.exited(20_000);
    expect(exit.code, a.stderr()).toBe(1);
    expect(a.stderr()).toMatch(/another engine started on this database \(pid \d+ on .*epoch 2; this one holds epoch 1\)/);
    expect(jsonLines(a.stdout()).slice(aCyclesBefore).flatMap((l) => l['ran'] as string[])).toEqual([]);
    expect(writes(sandbox), 'calls A sent after it was woken').toBe(before);

    const next = start();
    await next.waitFor(/^Sync engine started on /, 25_000);
    // The work A left goes out from the next engine: it reads every registration and tells Mirakl (RT25).
    const db = () => new Database(join(dataDir, 'workbench.sqlite'), { readonly: true });
    const unread = () => {
      const reader = db();
      try {
        const rank = reader.prepare('SELECT status_rank FROM rebound_return_orders WHERE rebound_order_id = ?');
        return waiting.filter((ro) => ((rank.get(ro.reboundOrderId) as { status_rank: number } | undefined)?.status_rank ?? 0) < returnOrderStatusRank.ITEMS_REGISTERED).length;
      } finally {
        reader.close();
      }
    };
    await expect.poll(unread, { timeout: 40_000, interval: 500 }).toBe(0);
    await expect.poll(() => sandbox.miraklServer.counters['RT25']?.calls ?? 0, { timeout: 20_000, interval: 500 }).toBeGreaterThan(receivedBefore);
    expect(writes(sandbox)).toBeGreaterThan(before);
    process.kill(next.pid, 'SIGTERM');
    expect(await next.exited(10_000)).toMatchObject({ code: 0 });

    const reader = db();
    try {
      expect(checkInvariants(sandbox, reader).violations).toEqual([]);
    } finally {
      reader.close();
    }
  }, 120_000);
});
