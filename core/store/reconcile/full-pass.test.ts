import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import { createCommandQueue } from '../../ledger/queue';
import { loadMappings } from '../../mappings/load';
import { openStore, type Store } from '../db';
import { sourceMigrationsDir } from '../paths';
import { createReconFixture, type ReconFixture } from '../../../test/support/recon-fixture';
import { makeTempDir } from '../../../test/support/temp-dir';
import { createReconciler, type Reconciler } from './pass';

const policy = loadMappings().policy;

// A full pass (a new or migrated database) judges everything a chunk at a time, each chunk a command on the queue that
// sync cycles and people's actions share: what a person asks for while it runs waits for one chunk, not for the pass.

describe('a full pass in chunks', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let fixture: ReconFixture;
  const state = () =>
    JSON.stringify([
      store.db.prepare('SELECT * FROM recon_verdicts ORDER BY return_id').all(),
      store.db.prepare('SELECT type, subject_key, state, cause FROM exceptions ORDER BY type, subject_key').all(),
      store.db.prepare('SELECT type, subject_key, due_at, cause, state FROM recon_watch ORDER BY type, subject_key').all(),
      store.db.prepare('SELECT * FROM recon_matches ORDER BY kind, subject, candidate').all(),
    ]);

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 1));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    fixture = createReconFixture(store.db, clock);
    // Seven returns on their own lines: some received, refunded (one short), one stalled in transit, one refunded in
    // the back office with nothing received; and an uncertain call.
    for (let i = 1; i <= 7; i++) {
      const line = `L-${i}`;
      fixture.returnOf(`R-${i}`, i <= 4 ? 'RECEIVED' : 'IN_PROGRESS', line);
      if (i <= 4) fixture.unit(`R-${i}`, 1, 'registered', line);
      if (i <= 3) fixture.ourRefund(`R-${i}`, `F-${i}`, i === 2 ? 2400 : 2500, 'REFUNDED', line);
    }
    fixture.reboundOrder('R-5', 'IN_CARRIER_NETWORK', 2);
    fixture.refund('X-6', 2500, 'REFUNDED', 'L-6');
    store.db.prepare(`INSERT INTO intents (kind, key, subject, payload, state, created_at, updated_at) VALUES ('rebound.create', 'create:R-7', 'R-7', '{}', 'uncertain', ?, ?)`)
      .run(new Date(clock.now()).toISOString(), new Date(clock.now()).toISOString());
    clock.advance(30 * 86_400_000);
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('judges what one pass in one go judges, in chunks of a few returns or refunds', () => {
    const chunked = createReconciler(store.db, clock, { chunkSize: 2 });
    const first = chunked.run(policy);
    expect(first).toMatchObject({ full: true, pending: true, chunks: 1 });
    let report = first;
    let runs = 1;
    while (report.pending) {
      report = chunked.run(policy);
      runs++;
    }
    // 7 returns and 4 refunds, 2 a chunk, then the intents: 4 + 2 + 1 chunks (a short range moves on in the same chunk).
    expect(runs).toBeGreaterThanOrEqual(5);
    expect(chunked.isFullPassPending()).toBe(false);
    const inChunks = state();
    expect(JSON.parse(inChunks)[1].length).toBeGreaterThan(3);

    const whole = createReconciler(store.db, clock).run(policy, { full: true });
    expect(whole).toMatchObject({ full: true, pending: false });
    expect(state()).toBe(inChunks);
  });

  it('lets whatever is queued while it runs go between two chunks', async () => {
    const queue = createCommandQueue();
    const order: string[] = [];
    let person = 0;
    const personActs = () => queue.run('person', () => void order.push(`person ${++person}`));
    let reconciler: Reconciler | null = null;
    reconciler = createReconciler(store.db, clock, {
      chunkSize: 2,
      onFullPassPending: () =>
        void queue.run('reconcile:full-pass', () => {
          order.push('chunk');
          // A click that arrives while this chunk runs.
          if (order.filter((o) => o === 'chunk').length === 1) void personActs();
          reconciler?.run(policy, { fullPass: 'chunk' });
        }),
    });
    const feed = queue.run('feed:reconcile', () => {
      order.push('feed');
      return reconciler?.run(policy);
    });
    const waiting = personActs();
    expect((await feed)?.pending).toBe(true);
    await waiting;
    for (let i = 0; i < 50 && reconciler.isFullPassPending(); i++) await queue.run('probe', () => undefined);
    expect(reconciler.isFullPassPending()).toBe(false);
    expect(order.slice(0, 5)).toEqual(['feed', 'person 1', 'chunk', 'person 2', 'chunk']);
  });
});
