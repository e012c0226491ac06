import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createRng } from '../sandbox/rng';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, type Store } from './db';
import { createEngineRepo, type EngineRepo } from './engine-repo';
import { sourceMigrationsDir } from './paths';

// Two money-safety questions the engine asks every cycle: which refunds in Mirakl's ledger nobody of ours accounts for
// (FOREIGN_WRITE pauses refunds and stock imports for the shop) and which orders' refunds are still on their way (read
// again by OR11). They are asked in a way that does not read the whole backlog each cycle; what they find must not
// change for it. The statements below are the questions as first written (every refund, every recent refund intent
// read each time): the specification the repository's answers are compared with.

const foreignReference = `SELECT f.id, f.order_line_id, min(l.return_id) AS return_id, f.amount_minor + f.shipping_minor AS amount_minor, f.date_created
  FROM mirakl_refunds f
  JOIN mirakl_return_lines l ON l.order_line_id = f.order_line_id
  JOIN mirakl_returns r ON r.id = l.return_id
  WHERE f.date_created >= @since AND f.date_created >= r.date_created
    AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.refund_id = f.id AND i.kind = 'mirakl.refund' AND i.state = 'confirmed'
      AND coalesce(json_extract(i.outcome, '$.via'), '') != 'ledger')
    AND NOT EXISTS (SELECT 1 FROM recon_matches m WHERE m.kind = 'refund_line' AND m.subject = f.id AND m.status = 'confirmed')
    AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.kind = 'mirakl.refund' AND i.order_line_id = f.order_line_id AND i.state IN ('sending', 'uncertain'))
    AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.type = 'FOREIGN_WRITE' AND e.subject_key = 'refund:' || f.id)
  GROUP BY f.id ORDER BY f.date_created LIMIT @limit`;

const inFlightReference = `SELECT w.order_id, max(c.updated_at) AS read_at FROM (
     SELECT l.order_id, NULL AS since FROM mirakl_refunds f JOIN mirakl_order_lines l ON l.order_line_id = f.order_line_id
       WHERE f.refund_state != 'REFUNDED'
     UNION ALL
     SELECT l.order_id, i.updated_at AS since FROM intents i JOIN mirakl_order_lines l ON l.order_line_id = i.order_line_id
       WHERE i.kind = 'mirakl.refund' AND i.state = 'confirmed' AND i.updated_at >= @recent
         AND NOT EXISTS (SELECT 1 FROM mirakl_refunds f WHERE f.id = i.refund_id)
   ) AS w
   LEFT JOIN sync_cursors c ON c.feed = 'or11:' || w.order_id
   GROUP BY w.order_id
   HAVING max(c.updated_at) IS NULL OR max(c.updated_at) <= @stale OR max(c.updated_at) <= max(w.since)
   ORDER BY max(c.updated_at) LIMIT @limit`;

const t0 = Date.UTC(2026, 10, 1, 12);
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

let temp: ReturnType<typeof makeTempDir>;
let store: Store;
let repo: EngineRepo;
beforeEach(() => {
  temp = makeTempDir();
  const clock = createFakeClock(t0);
  store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
  repo = createEngineRepo(store.db, clock);
});
afterEach(() => {
  store.close();
  temp.remove();
});

function world(db: Store['db']) {
  const order = db.prepare(`INSERT OR IGNORE INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
    VALUES (?, 'C', 'SHIPPED', 'EUR', 'cu', 'n', 'a', ?, ?, ?)`);
  const line = db.prepare(`INSERT OR IGNORE INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor,
      price_minor, shipping_minor, tax_minor, shipping_tax_minor, state, can_refund) VALUES (?, ?, 1, 'sku', 'p', 't', 2, 1000, 2000, 0, 0, 0, 'SHIPPED', 1)`);
  const ret = db.prepare(`INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
    VALUES (@id, @orderId, 'C', 'WAITING_ACCEPTANCE', 'm', @created, @created, @created, @created)
    ON CONFLICT (id) DO UPDATE SET date_created = excluded.date_created`);
  const retLine = db.prepare(`INSERT OR IGNORE INTO mirakl_return_lines (return_id, order_line_id, quantity, reason_code) VALUES (?, ?, 1, 'R')`);
  const refund = db.prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state,
      date_created, first_seen_at, synced_at) VALUES (@id, @line, 'o', @amount, 5, 1, 'R', @state, @created, @created, @created)
    ON CONFLICT (id) DO UPDATE SET refund_state = excluded.refund_state, date_created = excluded.date_created`);
  const intent = db.prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at)
    VALUES (@kind, @key, @subject, @payload, @state, @outcome, @at, @at)`);
  let intents = 0;
  return {
    line(orderLineId: string, orderId: string): void {
      order.run(orderId, at(0), at(0), at(0));
      line.run(orderLineId, orderId);
    },
    ret(id: string, orderId: string, created: string, lines: string[]): void {
      ret.run({ id, orderId, created });
      for (const l of lines) retLine.run(id, l);
    },
    refund(id: string, orderLineId: string, created: string, state = 'REFUNDED', amount = 100): void {
      refund.run({ id, line: orderLineId, amount, state, created });
    },
    intent(o: { orderLineId: string; state: string; refundId?: string | null; via?: string; kind?: string; at?: string }): number {
      const outcome = o.refundId === undefined ? null : JSON.stringify({ refundId: o.refundId, ...(o.via ? { via: o.via } : {}) });
      return Number(
        intent.run({
          kind: o.kind ?? 'mirakl.refund',
          key: `k${++intents}`,
          subject: 'ret',
          payload: JSON.stringify({ order_line_id: o.orderLineId, units: [] }),
          state: o.state,
          outcome,
          at: o.at ?? at(0),
        }).lastInsertRowid,
      );
    },
    setIntent(id: number, state: string, outcome: unknown): void {
      db.prepare('UPDATE intents SET state = ?, outcome = ? WHERE id = ?').run(state, outcome === null ? null : JSON.stringify(outcome), id);
    },
    match(refundId: string, status: string): void {
      db.prepare(`INSERT INTO recon_matches (kind, subject, candidate, status, basis, rank) VALUES ('refund_line', ?, 'c', ?, 'b', 1)
        ON CONFLICT (kind, subject, candidate) DO UPDATE SET status = excluded.status`).run(refundId, status);
    },
    raised(subjectKey: string, state: string): void {
      db.prepare(`INSERT OR IGNORE INTO exceptions (type, subject_key, severity, owner_team, state, cause, next_action, detected_at, updated_at)
        VALUES ('FOREIGN_WRITE', ?, 'critical', 'ops', ?, 'c', 'n', ?, ?)`).run(subjectKey, state, at(0), at(0));
    },
    read(orderId: string, when: string): void {
      db.prepare(`INSERT INTO sync_cursors (feed, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (feed) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run(
        `or11:${orderId}`,
        when,
        when,
      );
    },
  };
}

describe('foreign refunds (FOREIGN_WRITE)', () => {
  it('finds exactly the refunds on a line of a return we hold that nothing of ours accounts for', () => {
    const w = world(store.db);
    for (const l of ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9']) w.line(l, `O-${l}`);
    w.ret('R1', 'O-L1', at(10), ['L1', 'L2', 'L3', 'L4', 'L5', 'L6']);
    w.ret('R0', 'O-L1', at(5), ['L1']); // L1 is on two returns: reported once, under the first
    w.ret('R9', 'O-L9', at(500), ['L9']);
    w.refund('F-alone', 'L1', at(20)); // nobody's: foreign
    w.refund('F-ours', 'L2', at(21));
    w.intent({ orderLineId: 'L2', state: 'confirmed', refundId: 'F-ours', via: 'OR28' });
    w.refund('F-ledger', 'L3', at(22)); // found already made by someone else: still foreign
    w.intent({ orderLineId: 'L3', state: 'confirmed', refundId: 'F-ledger', via: 'ledger' });
    w.refund('F-matched', 'L4', at(23));
    w.match('F-matched', 'confirmed');
    w.refund('F-suggested', 'L4', at(24)); // a suggestion is not a person's match: foreign
    w.match('F-suggested', 'suggested');
    w.refund('F-inflight', 'L5', at(25)); // ours on the line is on its way: it may be that one
    w.intent({ orderLineId: 'L5', state: 'sending' });
    w.refund('F-raised', 'L6', at(26));
    w.raised('refund:F-raised', 'resolved');
    w.refund('F-old', 'L6', at(1)); // before `since`
    w.refund('F-before-return', 'L9', at(400)); // before its return was opened
    w.refund('F-no-return', 'L7', at(27)); // on no return of ours
    w.intent({ orderLineId: 'L8', state: 'confirmed', refundId: 'F-later', via: 'OR28' }); // claimed before the ledger shows it
    w.refund('F-later', 'L8', at(28));

    expect(repo.foreignRefunds(at(2), 100)).toEqual([
      { id: 'F-alone', order_line_id: 'L1', return_id: 'R0', amount_minor: 105, date_created: at(20) },
      { id: 'F-ledger', order_line_id: 'L3', return_id: 'R1', amount_minor: 105, date_created: at(22) },
      { id: 'F-suggested', order_line_id: 'L4', return_id: 'R1', amount_minor: 105, date_created: at(24) },
    ]);
    expect(repo.foreignRefunds(at(2), 2).map((f) => f.id)).toEqual(['F-alone', 'F-ledger']);
    expect(repo.foreignRefunds(at(22), 100).map((f) => f.id)).toEqual(['F-ledger', 'F-suggested']);
  });

  it('sees a refund become foreign, and stop being so, as our intents change after it was read', () => {
    const w = world(store.db);
    w.line('L1', 'O1');
    w.ret('R1', 'O1', at(0), ['L1']);
    const ours = w.intent({ orderLineId: 'L1', state: 'confirmed', refundId: 'F1', via: 'OR28' });
    w.refund('F1', 'L1', at(10));
    expect(repo.foreignRefunds(at(0), 100)).toEqual([]);
    // A later look recorded it as found already made (someone else's), not sent by us.
    w.setIntent(ours, 'confirmed', { refundId: 'F1', via: 'ledger' });
    expect(repo.foreignRefunds(at(0), 100).map((f) => f.id)).toEqual(['F1']);
    w.setIntent(ours, 'confirmed', { refundId: 'F1', via: 'OR28' });
    expect(repo.foreignRefunds(at(0), 100)).toEqual([]);
    // The intent that claimed it points at another refund now.
    w.setIntent(ours, 'confirmed', { refundId: 'F2', via: 'OR28' });
    expect(repo.foreignRefunds(at(0), 100).map((f) => f.id)).toEqual(['F1']);
    store.db.prepare('UPDATE intents SET outcome = ? WHERE id = ?').run(JSON.stringify({ refundId: 'F1' }), ours);
    expect(repo.foreignRefunds(at(0), 100)).toEqual([]);
    // Back to uncertain (a restore): the line's refund is unsettled, so not foreign; then failed: foreign.
    w.setIntent(ours, 'uncertain', { refundId: 'F1' });
    expect(repo.foreignRefunds(at(0), 100)).toEqual([]);
    w.setIntent(ours, 'failed', { refundId: 'F1' });
    expect(repo.foreignRefunds(at(0), 100).map((f) => f.id)).toEqual(['F1']);
    // A second claim of the same refund, then the first one gone: still claimed.
    const second = w.intent({ orderLineId: 'L1', state: 'confirmed', refundId: 'F1' });
    expect(repo.foreignRefunds(at(0), 100)).toEqual([]);
    store.db.prepare('DELETE FROM intents WHERE id = ?').run(second);
    expect(repo.foreignRefunds(at(0), 100).map((f) => f.id)).toEqual(['F1']);
    // A refund deleted and read again keeps being judged afresh.
    store.db.prepare(`DELETE FROM mirakl_refunds WHERE id = 'F1'`).run();
    expect(repo.foreignRefunds(at(0), 100)).toEqual([]);
    w.refund('F1', 'L1', at(10));
    expect(repo.foreignRefunds(at(0), 100).map((f) => f.id)).toEqual(['F1']);
  });
});

describe('orders with refunds in flight', () => {
  it('finds the orders with a refund Mirakl has not paid, or one we sent that its ledger does not show yet, stalest read first', () => {
    const w = world(store.db);
    for (const [l, o] of [['L1', 'O1'], ['L2', 'O2'], ['L3', 'O3'], ['L4', 'O4'], ['L5', 'O5'], ['L6', 'O6']] as const) w.line(l, o);
    w.refund('F1', 'L1', at(0), 'WAITING_REFUND'); // unpaid, never read
    w.refund('F2', 'L2', at(0), 'WAITING_REFUND');
    w.read('O2', at(100)); // unpaid, read recently: not yet
    w.intent({ orderLineId: 'L3', state: 'confirmed', refundId: 'F3', at: at(90) }); // sent, not in the ledger, read before it was confirmed
    w.read('O3', at(80));
    w.intent({ orderLineId: 'L4', state: 'confirmed', refundId: 'F4', at: at(90) });
    w.refund('F4', 'L4', at(90)); // sent and seen, paid
    w.intent({ orderLineId: 'L5', state: 'confirmed', refundId: 'F5', at: at(-2000) }); // sent long ago: no longer looked after here
    w.refund('F6', 'L6', at(0), 'WAITING_REFUND');
    w.read('O6', at(50)); // unpaid, read before `stale`

    expect(repo.ordersWithRefundsInFlight(t0 + 60 * 60_000, t0 - 24 * 60 * 60_000, 100)).toEqual(['O1', 'O6', 'O3']);
    expect(repo.ordersWithRefundsInFlight(t0 + 60 * 60_000, t0 - 24 * 60 * 60_000, 2)).toEqual(['O1', 'O6']);
  });
});

/** Rows equal to the reference's, up to the order of rows the reference's ORDER BY does not tell apart. */
function expectSameUpToTies<R>(got: R[], everyRef: R[], limit: number, orderKey: (r: R) => string | null, id: (r: R) => string): void {
  const key = (r: R) => orderKey(r) ?? '';
  expect(got.map(key)).toEqual(everyRef.slice(0, limit).map(key));
  const byId = new Map(everyRef.map((r) => [id(r), r]));
  for (const r of got) expect(byId.get(id(r))).toEqual(r);
  expect(new Set(got.map(id)).size).toBe(got.length);
}

describe('both questions against their first statement, on random histories', () => {
  it('answer exactly what the every-row statements answer after each change', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = createRng(seed);
      const rng = () => random.float();
      const pick = <T>(xs: readonly T[]): T => random.pick(xs);
      const db = store.db;
      db.exec(`DELETE FROM intents; DELETE FROM mirakl_refunds; DELETE FROM recon_matches; DELETE FROM exceptions; DELETE FROM sync_cursors;
        DELETE FROM mirakl_return_lines; DELETE FROM mirakl_return_states; DELETE FROM mirakl_returns;`);
      const w = world(db);
      const lines = Array.from({ length: 8 }, (_, i) => `S${seed}L${i}`);
      const orderOf = (l: string) => `O${Number(l.slice(l.lastIndexOf('L') + 1)) % 5}`;
      for (const l of lines) w.line(l, orderOf(l));
      const refunds = Array.from({ length: 14 }, (_, i) => `S${seed}F${i}`);
      const intents: number[] = [];
      const states = ['planned', 'sending', 'confirmed', 'confirmed', 'confirmed', 'failed', 'uncertain'] as const;
      const outcome = () =>
        rng() < 0.15 ? null : { refundId: rng() < 0.1 ? null : pick(refunds), ...(rng() < 0.3 ? { via: pick(['ledger', 'OR28', 'probe']) } : {}) };
      const minute = () => Math.floor(rng() * 200) - 20;
      const foreignRef = db.prepare(foreignReference);
      const inFlightRef = db.prepare(inFlightReference);
      for (let step = 0; step < 250; step++) {
        const r = rng();
        if (r < 0.2) w.refund(pick(refunds), pick(lines), at(minute()), pick(['REFUNDED', 'REFUNDED', 'WAITING_REFUND', 'REFUSED']), 100 + step);
        else if (r < 0.35) {
          const o = outcome();
          intents.push(w.intent({ orderLineId: pick(lines), state: pick(states), refundId: o?.refundId ?? null, ...(o?.via ? { via: o.via } : {}), kind: rng() < 0.1 ? 'mirakl.close' : 'mirakl.refund', at: at(minute()) }));
        } else if (r < 0.52 && intents.length > 0) w.setIntent(pick(intents), pick(states), outcome());
        // Touched without a change of state or outcome (a retry rescheduled, an outcome's note): when it counts from moves.
        else if (r < 0.56 && intents.length > 0) db.prepare('UPDATE intents SET updated_at = ? WHERE id = ?').run(at(minute()), pick(intents));
        else if (r < 0.6 && intents.length > 0) db.prepare('DELETE FROM intents WHERE id = ?').run(pick(intents));
        else if (r < 0.65) db.prepare('DELETE FROM mirakl_refunds WHERE id = ?').run(pick(refunds));
        else if (r < 0.75) {
          const l = pick(lines);
          w.ret(`S${seed}R${Math.floor(rng() * 6)}`, orderOf(l), at(minute()), [l]);
        } else if (r < 0.82) w.match(pick(refunds), pick(['confirmed', 'suggested', 'rejected']));
        else if (r < 0.88) w.raised(`refund:${pick(refunds)}`, pick(['open', 'resolved']));
        else if (r < 0.95) w.read(pick(['O0', 'O1', 'O2', 'O3', 'O4']), at(minute()));
        else db.prepare(`UPDATE exceptions SET state = 'resolved' WHERE type = 'FOREIGN_WRITE'`).run();

        const since = at(minute());
        const limit = 1 + Math.floor(rng() * 6);
        const everyForeign = foreignRef.all({ since, limit: 1000 }) as { id: string; date_created: string }[];
        expectSameUpToTies(repo.foreignRefunds(since, 1000), everyForeign, 1000, (f) => f.date_created, (f) => f.id);
        expectSameUpToTies(repo.foreignRefunds(since, limit), everyForeign, limit, (f) => f.date_created, (f) => f.id);

        const stale = t0 + minute() * 60_000;
        const recent = t0 + minute() * 60_000;
        const everyInFlight = inFlightRef.all({ stale: new Date(stale).toISOString(), recent: new Date(recent).toISOString(), limit: 1000 }) as {
          order_id: string;
          read_at: string | null;
        }[];
        const readAt = new Map(everyInFlight.map((o) => [o.order_id, o.read_at]));
        const got = repo.ordersWithRefundsInFlight(stale, recent, 1000);
        expect(new Set(got), `seed ${seed} step ${step}`).toEqual(new Set(readAt.keys()));
        expectSameUpToTies(
          repo.ordersWithRefundsInFlight(stale, recent, limit).map((o) => ({ order_id: o, read_at: readAt.get(o) ?? null })),
          everyInFlight,
          limit,
          (o) => o.read_at,
          (o) => o.order_id,
        );
      }
    }
  });
});

describe('a database from before the refund reads were kept (migration 0029)', () => {
  it('gets each refund claimed, and each sent refund the ledger does not show, as the every-row statements find them', () => {
    // The database as the release before 0029 left it: its migrations only, with refunds, claims and sends in it.
    const before = makeTempDir();
    const older = join(before.dir, 'migrations');
    mkdirSync(older);
    for (const f of readdirSync(sourceMigrationsDir).filter((f) => f < '0029')) copyFileSync(join(sourceMigrationsDir, f), join(older, f));
    const data = join(before.dir, 'data');
    const old = openStore({ dataDir: data, migrationsDir: older, clock: createFakeClock(t0) });
    const w = world(old.db);
    for (const [l, o] of [['L1', 'O1'], ['L2', 'O1'], ['L3', 'O2'], ['L4', 'O3']] as const) w.line(l, o);
    w.ret('R1', 'O1', at(-60), ['L1', 'L2']);
    w.ret('R2', 'O2', at(-60), ['L3']);
    w.ret('R3', 'O3', at(-60), ['L4']);
    w.refund('F1', 'L1', at(10)); // ours, confirmed: claimed
    w.intent({ orderLineId: 'L1', state: 'confirmed', refundId: 'F1', at: at(10) });
    w.refund('F2', 'L2', at(20)); // found already made (via the ledger): not ours, not claimed
    w.intent({ orderLineId: 'L2', state: 'confirmed', refundId: 'F2', via: 'ledger', at: at(20) });
    w.refund('F3', 'L3', at(30)); // someone else's
    w.intent({ orderLineId: 'L4', state: 'confirmed', refundId: 'F4', at: at(40) }); // sent, not in the ledger yet
    old.close();

    const migrated = openStore({ dataDir: data, migrationsDir: sourceMigrationsDir, clock: createFakeClock(t0) });
    try {
      const claimed = migrated.db.prepare('SELECT id FROM mirakl_refunds WHERE is_claimed = 1 ORDER BY id').pluck().all();
      expect(claimed).toEqual(['F1']);
      const migratedRepo = createEngineRepo(migrated.db, createFakeClock(t0));
      const every = migrated.db.prepare(foreignReference).all({ since: at(-1000), limit: 100 }) as { id: string }[];
      expect(migratedRepo.foreignRefunds(at(-1000), 100).map((f) => f.id)).toEqual(every.map((f) => f.id));
      expect(every.map((f) => f.id)).toEqual(['F2', 'F3']);
      const recent = t0 - 24 * 60 * 60_000;
      const stale = t0 + 60 * 60_000;
      const inFlight = (migrated.db.prepare(inFlightReference).all({ stale: new Date(stale).toISOString(), recent: new Date(recent).toISOString(), limit: 100 }) as { order_id: string }[]).map((o) => o.order_id);
      expect(inFlight).toEqual(['O3']);
      expect(migratedRepo.ordersWithRefundsInFlight(stale, recent, 100)).toEqual(inFlight);
    } finally {
      migrated.close();
      before.remove();
    }
  });
});
