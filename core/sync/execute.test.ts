import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stubEngineContext } from '../../test/support/engine-context';
import { createFakeClock } from '../adapters/fake-clock';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { writeFreezeOf } from '../store/write-freeze-repo';
import { makeTempDir } from '../../test/support/temp-dir';
import { callApi } from '../net/api-call';
import { createMemoryBudgetStore } from '../net/budget-guard';
import type { RequestJournal } from '../net/journal';
import type { EngineContext } from './context';
import { unsafeIntentKinds } from './engine';
import { recoverUnrecorded, sendIntents } from './execute';

let temp: ReturnType<typeof makeTempDir>;
let store: Store;
let ctx: EngineContext;
const clock = createFakeClock(Date.UTC(2026, 10, 30, 18));

// Each test: a fresh database file and an engine context on it.
beforeEach(() => {
  temp = makeTempDir();
  store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
  ctx = stubEngineContext(store.db, clock);
});
afterEach(() => {
  store.close();
  temp.remove();
});

// The write freeze is kept at the one place calls that change Mirakl or ReBound go out. An engine given no freeze of
// its own (`npm run sync` on the main database) reads the one kept in its database's settings.

describe('sendIntents under a write freeze', () => {
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

// A write of our own that fails while a call is out (the request journal's row on a full disk) says nothing about what
// the server did with the call: it is no refusal. Taken for one, a safe call (a sales order) was failed for good, with
// no exception, and its return waited for it for ever (chaos seed 103).
describe('sendIntents when a write of ours fails during the call', () => {
  it('sends a safe call again at a later cycle when the journal could not record its answer', async () => {
    const intent = ctx.intents.plan({ kind: 'rebound.salesOrder', key: 'sales-order:O-1', subject: 'O-1', payload: { orderId: 'O-1' } });
    let requests = 0;
    const api = {
      system: 'rebound' as const,
      baseUrl: 'http://127.0.0.1:1',
      clock,
      budgets: createMemoryBudgetStore(),
      http: async () => {
        requests++;
        return { status: 201, headers: {}, body: '{}' };
      },
      journal: {
        record: () => {
          throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
        },
      } as RequestJournal,
    };
    const send = () =>
      sendIntents(ctx, [intent], {
        point: 'sales-order',
        isUnsafeWrite: false,
        call: () => callApi(api, { operation: 'salesOrders.create', method: 'POST', path: '/sales-orders', body: '{}' }),
        onResult: () => ctx.intents.confirm(intent.id, { created: true }),
      });

    const verdict = await send().catch(() => null);
    expect(requests).toBe(1);
    expect(verdict).toBeNull();
    // The next cycle starts by settling what this process could not record; the disk has room again.
    api.journal.record = () => undefined;
    recoverUnrecorded(ctx, unsafeIntentKinds);
    clock.advance(60 * 60_000);
    expect(ctx.intents.due('rebound.salesOrder').map((i) => i.id)).toEqual([intent.id]);
  });

  it('does not take a bug of ours (a constraint failing) for the disk: the call is not sent again every cycle', async () => {
    const intent = ctx.intents.plan({ kind: 'rebound.salesOrder', key: 'sales-order:O-1', subject: 'O-1', payload: { orderId: 'O-1' } });
    const api = {
      system: 'rebound' as const,
      baseUrl: 'http://127.0.0.1:1',
      clock,
      budgets: createMemoryBudgetStore(),
      http: async () => ({ status: 201, headers: {}, body: '{}' }),
      journal: {
        record: () => {
          throw new Database.SqliteError('UNIQUE constraint failed: request_journal.id', 'SQLITE_CONSTRAINT_UNIQUE');
        },
      } as RequestJournal,
    };
    await sendIntents(ctx, [intent], {
      point: 'sales-order',
      isUnsafeWrite: false,
      call: () => callApi(api, { operation: 'salesOrders.create', method: 'POST', path: '/sales-orders', body: '{}' }),
      onResult: () => ctx.intents.confirm(intent.id, { created: true }),
    }).catch(() => null);
    recoverUnrecorded(ctx, unsafeIntentKinds);
    clock.advance(60 * 60_000);
    expect(ctx.intents.due('rebound.salesOrder')).toEqual([]);
    expect(ctx.intents.get(intent.id)?.lastError).toMatch(/constraint/);
  });
});
