import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createIntents } from '../ledger/intents';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, type Store } from './db';
import { createEngineRepo } from './engine-repo';
import { sourceMigrationsDir } from './paths';

// Reads the engine makes every cycle must cost what they return, not what the database holds: with a backlog of
// thousands of returns a read that scans or sorts the whole table runs O(N) per cycle, O(N²) over the drain (issue 22).
// Each read is caught as the code prepares it and its plan is checked, so the test follows the code's SQL.

let temp: ReturnType<typeof makeTempDir> | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  temp?.remove();
});

/** Opens a store whose prepared statements are recorded, in order. */
function openRecording(): { store: Store; prepared: string[] } {
  temp = makeTempDir();
  store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock() });
  const prepared: string[] = [];
  const prepare = store.db.prepare.bind(store.db);
  store.db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof store.db.prepare;
  return { store, prepared };
}

function plan(store: Store, sql: string): string[] {
  return (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ kind: 'k', now: 'x', limit: 1 }) as { detail: string }[]).map((r) => r.detail);
}

describe('the engine reads it makes every cycle', () => {
  it('finds the due intents of a kind in id order from an index, without sorting every planned intent', () => {
    const { store, prepared } = openRecording();
    createIntents(store.db, createFakeClock()).due('mirakl.refund', 10);
    const sql = prepared.find((s) => /state = 'planned'/.test(s) && /UNION ALL/.test(s));
    expect(sql, 'no read of the due intents was prepared').toBeDefined();
    const steps = plan(store, sql!);
    // The planned arm is the large one: it must come in id order from its index (no temp b-tree of its own).
    const left = steps.findIndex((s) => s === 'LEFT');
    const right = steps.findIndex((s) => s === 'RIGHT');
    expect(steps.slice(left, right), steps.join('\n')).not.toContain('USE TEMP B-TREE FOR ORDER BY');
    expect(steps.slice(left, right).join('\n')).toMatch(/USING INDEX intents_planned/);
  });

  it('finds when this database first saw a return from an index', () => {
    const { store, prepared } = openRecording();
    createEngineRepo(store.db, createFakeClock()).firstSeenAt();
    const sql = prepared.find((s) => /min\(first_seen_at\)/.test(s));
    expect(sql).toBeDefined();
    expect(plan(store, sql!).join('\n')).toMatch(/USING COVERING INDEX mirakl_returns_first_seen/);
  });
});
