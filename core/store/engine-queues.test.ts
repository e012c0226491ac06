import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { createRestockLedger } from '../ledger/restock';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, type Store } from './db';
import { createEngineRepo } from './engine-repo';
import { createIntakeRepo, type IntakeStage } from './intake-repo';
import { sourceMigrationsDir } from './paths';

// The queues the engine reads every cycle: which returns intake works on next, and which ReBound return orders a
// notification told us about. What they hold and in which order is pinned here, so a statement rewritten to cost in
// proportion to what it returns (issue 22) is held to the same rows in the same order.

const minute = 60_000;
const t0 = Date.UTC(2026, 10, 2, 9);
const iso = (ms: number) => new Date(ms).toISOString();

let temp: ReturnType<typeof makeTempDir> | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  temp?.remove();
  store = undefined;
  temp = undefined;
});

function open(): { db: Store['db']; clock: FakeClock } {
  temp = makeTempDir();
  const clock = createFakeClock(t0);
  store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
  return { db: store.db, clock };
}

function addReturn(db: Store['db'], id: string): void {
  db.prepare(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
    VALUES (?, ?, ?, 'WAITING_RECEPTION', 'CARRIER', ?, ?, ?, ?)`).run(id, `O-${id}`, `C-${id}`, iso(t0), iso(t0), iso(t0), iso(t0));
}

function addIntake(db: Store['db'], id: string, stage: IntakeStage, nextAttemptAt: number | null): void {
  addReturn(db, id);
  db.prepare(`INSERT INTO return_intake (return_id, stage, next_attempt_at, updated_at) VALUES (?, ?, ?, ?)`).run(
    id,
    stage,
    nextAttemptAt === null ? null : iso(nextAttemptAt),
    iso(t0),
  );
}

describe('intake: the returns due', () => {
  it('gives those never tried first (by return), then the oldest due (by return on a tie), of the stages before the label only', () => {
    const { db, clock } = open();
    // Written out of order, so neither the table's nor an index's insertion order can pass for the answer.
    addIntake(db, 'R07', 'push_label', t0 - minute);
    addIntake(db, 'R03', 'awaiting_order', null);
    addIntake(db, 'R09', 'sales_order', t0 - 2 * minute);
    addIntake(db, 'R01', 'create_return', null);
    addIntake(db, 'R05', 'blocked', t0 - minute);
    addIntake(db, 'R02', 'awaiting_acceptance', t0 + minute);
    addIntake(db, 'R04', 'in_flight', null);
    addIntake(db, 'R06', 'done', t0 - 5 * minute);
    addIntake(db, 'R08', 'find_return', null);
    addIntake(db, 'R10', 'awaiting_order', t0);
    addIntake(db, 'R11', 'skipped', null);
    const intake = createIntakeRepo(db, clock);
    const ids = (limit: number) => intake.due(limit).map((r) => r.return_id);

    expect(ids(100)).toEqual(['R01', 'R03', 'R09', 'R05', 'R07', 'R10']);
    // The limit cuts among those never tried, at the edge between them and the due, and among the due.
    expect(ids(1)).toEqual(['R01']);
    expect(ids(2)).toEqual(['R01', 'R03']);
    expect(ids(4)).toEqual(['R01', 'R03', 'R09', 'R05']);
    expect(intake.due(1)[0]).toMatchObject({ return_id: 'R01', stage: 'create_return', next_attempt_at: null, attempts: 0 });

    // A minute on, the one parked until then is due too, behind every return that waited longer.
    clock.advance(minute);
    expect(ids(100)).toEqual(['R01', 'R03', 'R09', 'R05', 'R07', 'R10', 'R02']);
  });
});

describe('ReBound: the return orders a notification told us about', () => {
  it('gives each return order we hold with a pending hint once, the longest waiting first (by id on a tie)', () => {
    const { db, clock } = open();
    const addOrder = (id: string) => {
      addReturn(db, `R-${id}`);
      db.prepare(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, created_at, updated_at, synced_at)
        VALUES (?, ?, ?, 'CREATED', 1, ?, ?, ?)`).run(id, `CO-${id}`, `R-${id}`, iso(t0), iso(t0), iso(t0));
    };
    let n = 0;
    const addEvent = (orderId: string | null, at: number, outcome: 'pending' | 'applied' | 'no_change') =>
      db.prepare(`INSERT INTO rebound_events (key, source, type, rebound_order_id, status, occurred_at, received_at, payload, outcome)
        VALUES (?, 'webhook', 'returnOrder.updated', ?, NULL, NULL, ?, '{}', ?)`).run(`k${++n}`, orderId, iso(at), outcome);
    for (const id of ['RO-d', 'RO-b', 'RO-c', 'RO-a', 'RO-e']) addOrder(id);
    addEvent('RO-b', t0 + 5 * minute, 'pending');
    addEvent('RO-b', t0 + minute, 'pending');
    addEvent('RO-a', t0 + minute, 'pending');
    addEvent('RO-c', t0 - 10 * minute, 'applied');
    addEvent('RO-c', t0, 'pending');
    addEvent('RO-c', t0 + 9 * minute, 'pending');
    addEvent('RO-d', t0 - 20 * minute, 'applied');
    addEvent('RO-e', t0 - 20 * minute, 'no_change');
    addEvent('RO-e', t0 + 2 * minute, 'pending');
    // Not ours (yet): waits, but is not read.
    addEvent('RO-x', t0 - 30 * minute, 'pending');
    addEvent(null, t0 - 30 * minute, 'pending');
    const repo = createEngineRepo(db, clock);

    expect(repo.hintedReturnOrders(100)).toEqual(['RO-c', 'RO-a', 'RO-b', 'RO-e']);
    expect(repo.hintedReturnOrders(2)).toEqual(['RO-c', 'RO-a']);
    expect(repo.hintedReturnOrders(0)).toEqual([]);

    // Read back: its hints are acted on, and it leaves the queue; a new hint brings it back at its own time.
    expect(repo.markEventsApplied('RO-c')).toBe(2);
    expect(repo.hasPendingEvents('RO-c')).toBe(false);
    expect(repo.hintedReturnOrders(100)).toEqual(['RO-a', 'RO-b', 'RO-e']);
    addEvent('RO-c', t0 + 3 * minute, 'pending');
    expect(repo.hasPendingEvents('RO-c')).toBe(true);
    expect(repo.hintedReturnOrders(100)).toEqual(['RO-a', 'RO-b', 'RO-e', 'RO-c']);
  });
});

/** The plan of each statement the code prepares while `run` runs, SQLite's words joined by lines. */
function plansOf(run: (db: Store['db'], clock: FakeClock) => void): { sql: string; plan: string }[] {
  const { db, clock } = open();
  const prepared: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  run(db, clock);
  db.prepare = prepare;
  const params = (sql: string) => Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1], '[]']));
  const positional = (sql: string) => [...sql.matchAll(/\?/g)].map(() => 'x');
  return prepared
    .filter((sql) => /^\s*SELECT/i.test(sql))
    .map((sql) => {
      const explain = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      const rows = (/@\w+/.test(sql) ? explain.all(params(sql)) : explain.all(...positional(sql))) as { detail: string }[];
      return { sql, plan: rows.map((r) => r.detail).join('\n') };
    });
}

describe('what these reads cost: what they return, not the backlog waiting (issue 22)', () => {
  it("reads intake's due returns bounded by when each is due, never every return waiting at the stages", () => {
    const plans = plansOf((db, clock) => createIntakeRepo(db, clock).due(10)).filter((p) => /next_attempt_at (IS NULL|<=)/.test(p.sql) && /stage IN/.test(p.sql));
    expect(plans).toHaveLength(2);
    for (const p of plans) expect(p.plan, p.sql).toMatch(/USING INDEX return_intake_due \(stage=\? AND next_attempt_at[=<]\?\)/);
  });

  it('reads the earliest pending hint of each return order from the pending-hint index alone', () => {
    const [p] = plansOf((db, clock) => createEngineRepo(db, clock).hintedReturnOrders(10)).filter((x) => /rebound_events/.test(x.sql));
    expect(p?.plan).toMatch(/SCAN rebound_events USING COVERING INDEX rebound_events_pending/);
  });

  it('asks whether a pending restock unit was lost among the lost units only', () => {
    const plans = plansOf((db, clock) => createRestockLedger(db, clock).pendingOffers()).filter((x) => /stock_increments WHERE state = 'pending'/.test(x.sql));
    expect(plans).toHaveLength(1);
    expect(plans[0]!.plan).toMatch(/SEARCH u USING COVERING INDEX units_lost_id/);
  });

  it("finds a return's refund intents, to see whether one covers a unit, among refund intents only", () => {
    const plans = plansOf((db, clock) => {
      const repo = createEngineRepo(db, clock);
      repo.linesWithUnrefundedUnits('all');
      repo.linesWithUnrefundedUnits(['R1']);
    }).filter((x) => /linesWith|json_each\(f\.payload/.test(x.sql));
    expect(plans).toHaveLength(2);
    for (const p of plans) expect(p.plan, p.sql).toMatch(/SEARCH f USING INDEX intents_refund_subject/);
  });
});
