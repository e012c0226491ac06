import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stubEngineContext } from '../../test/support/engine-context';
import { createFakeClock } from '../adapters/fake-clock';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { writeFreezeOf } from '../store/write-freeze-repo';
import { makeTempDir } from '../../test/support/temp-dir';
import type { EngineContext } from './context';
import { sendIntents } from './execute';

// The write freeze is kept at the one place calls that change Mirakl or ReBound go out. An engine given no freeze of
// its own (`npm run sync` on the main database) reads the one kept in its database's settings.

describe('sendIntents under a write freeze', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let ctx: EngineContext;
  const clock = createFakeClock(Date.UTC(2026, 10, 30, 18));

  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    ctx = stubEngineContext(store.db, clock);
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('makes no call and leaves the intent as it was while frozen; sends it once lifted', async () => {
    const intent = ctx.intents.plan({ kind: 'mirakl.receive', key: 'rt25:R-1', subject: 'R-1', payload: { id: 'R-1' } });
    const freeze = writeFreezeOf(store.db, clock);
    freeze.set({ at: new Date(clock.now()).toISOString(), by: 'ana', reason: 'month-end close' });
    let calls = 0;
    const send = () =>
      sendIntents(ctx, [intent], {
        point: 'rt25',
        isUnsafeWrite: false,
        call: async () => ++calls,
        onResult: () => ctx.intents.confirm(intent.id, {}),
      });
    expect(await send()).toBeNull();
    expect(calls).toBe(0);
    expect(ctx.intents.get(intent.id)).toMatchObject({ state: 'planned', attempts: 0 });
    freeze.set(null);
    await send();
    expect(calls).toBe(1);
    expect(ctx.intents.get(intent.id)).toMatchObject({ state: 'confirmed', attempts: 1 });
  });

  it('counts an unreadable freeze as frozen', async () => {
    store.db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('writes.freeze', 'not json', ?)`).run(new Date(clock.now()).toISOString());
    expect(ctx.writes.current()).toMatchObject({ by: 'unknown' });
  });
});
