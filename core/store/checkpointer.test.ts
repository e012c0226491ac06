import { existsSync, mkdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { makeTempDir } from '../../test/support/temp-dir';
import { automaticCheckpointPages, startCheckpointer } from './checkpointer';
import { memoryPragmas, openStore, walLimitBytes } from './db';
import { sourceMigrationsDir } from './paths';

async function waitUntil(what: string, holds: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('background checkpoints', () => {
  let temp: ReturnType<typeof makeTempDir>;
  const clock = createFakeClock(Date.UTC(2026, 11, 2, 12));
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('folds the log back into the database from another thread; commits never checkpoint themselves', async () => {
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const sizeBefore = statSync(store.file).size;
    // About 8 MB in one commit: 2,000 pages in the log, twice what would make SQLite checkpoint inside the commit.
    store.db.exec(`CREATE TABLE filler (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
      INSERT INTO filler SELECT randomblob(4000) FROM n`);
    expect(statSync(store.file).size, 'the commit left its pages in the log').toBe(sizeBefore);
    await waitUntil('the pages to reach the database file', () => statSync(store.file).size > sizeBefore + 7_000_000);
    store.close();
    // The thread's connection closed first, so this close was the last one: SQLite removed the log.
    expect(existsSync(`${store.file}-wal`)).toBe(false);
  });

  it('cuts a log grown past its limit back to it once it is folded back, rather than keeping the file that size', async () => {
    // A writer that never pauses long enough for a checkpoint to catch up grows the log (a month of sandbox time run
    // flat out left a 6 GB log beside a 66 MB database). Here one commit of about 80 MB grows it past the limit.
    const store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    const sizeBefore = statSync(store.file).size;
    store.db.exec(`CREATE TABLE filler (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
      INSERT INTO filler SELECT randomblob(4000) FROM n`);
    expect(statSync(`${store.file}-wal`).size).toBeGreaterThan(walLimitBytes);
    // The writer goes on; the first commit after the thread has folded all of it back starts the log again from its
    // beginning, and cuts the file back to the limit.
    let writes = 0;
    await waitUntil('the log to be cut back', () => {
      store.db.prepare(`INSERT INTO filler VALUES ('after')`).run();
      writes++;
      return statSync(`${store.file}-wal`).size <= walLimitBytes;
    });
    expect(statSync(store.file).size).toBeGreaterThan(sizeBefore + 75_000_000);
    expect(store.db.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 20000 + writes });
    store.close();
  });

  it('touches the database no more once stop returns, however soon after start it is called', async () => {
    // Seen in CI as ENOTEMPTY when a test removed its folder right after closing a core: a store closed before the
    // thread had opened the database returned at once, and the thread then opened it anyway (creating -wal and -shm)
    // and closed it again. Stopping at many points of the thread's opening also covers a stop during the open itself.
    const afterStop: string[] = [];
    const watchers: FSWatcher[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      // A folder each: its watcher sees only what happens there after the watcher was made.
      const folder = join(temp.dir, `attempt-${attempt}`);
      mkdirSync(folder);
      const file = join(folder, 'race.sqlite');
      const setup = new Database(file);
      setup.pragma('journal_mode = WAL');
      setup.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      setup.close();
      const checkpointer = startCheckpointer({ file, pragmas: memoryPragmas }, () => {});
      const until = process.hrtime.bigint() + BigInt(attempt * 100_000);
      while (process.hrtime.bigint() < until);
      checkpointer.stop();
      watchers.push(watch(folder, (event, name) => afterStop.push(`${event} attempt-${attempt}/${name}`)));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const watcher of watchers) watcher.close();
    expect(afterStop, 'files changed after stop returned').toEqual([]);
  });

  it('gives the connection its automatic checkpoints back when the thread cannot run', async () => {
    const pages: number[] = [];
    let failure: Error | null = null;
    startCheckpointer({ file: join(temp.dir, 'no-such.sqlite'), onFailure: (error) => (failure = error) }, (n) => pages.push(n));
    await waitUntil('the thread to fail', () => failure !== null);
    expect(pages).toEqual([0, automaticCheckpointPages]);
    expect(String(failure)).toMatch(/no-such\.sqlite|unable to open/);
  });
});
