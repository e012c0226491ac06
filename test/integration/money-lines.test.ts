import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { defaultScenario } from '../../core/sandbox/scenario';
import { createRng, type Rng } from '../../core/sandbox/rng';
import { openStore, type Store } from '../../core/store/db';
import { createMoneyFigures } from '../../core/store/money-figures';
import { sourceMigrationsDir } from '../../core/store/paths';
import { arrived } from '../../core/store/reconcile/detectors';
import { harnessPerTest } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// The dashboard's "receipts not refunded" now is read from money_lines (migration 0020), which triggers keep as units,
// refunds and order lines are written; a figure as at a past moment is still counted from the base tables. One
// definition: on random worlds changed at random, and on a sandbox world the engine synced, the kept lines are what the
// base tables say, line by line, and the figures read both ways are equal.

/** What each line holds by the definition, counted from the base tables now. */
function linesFromBaseTables(db: Database) {
  return db
    .prepare(
      `SELECT k.order_line_id,
        (SELECT count(*) FROM units u WHERE u.order_line_id = k.order_line_id AND ${arrived}) AS verified,
        COALESCE((SELECT price_unit_minor FROM mirakl_order_lines ol WHERE ol.order_line_id = k.order_line_id), 0) AS price_unit_minor,
        (SELECT COALESCE(sum(amount_minor), 0) FROM mirakl_refunds f WHERE f.order_line_id = k.order_line_id) AS refunded_minor
      FROM (SELECT order_line_id FROM units UNION SELECT order_line_id FROM mirakl_refunds) k ORDER BY 1`,
    )
    .all() as { order_line_id: string; verified: number; price_unit_minor: number; refunded_minor: number }[];
}
type Line = ReturnType<typeof linesFromBaseTables>[number];
/** Paid refunds per currency and UTC day by the definition (the order's currency through the line), from the base tables. */
function paidDaysFromBaseTables(db: Database) {
  return db
    .prepare(
      `SELECT COALESCE(o.currency, '?') AS currency, substr(f.date_created, 1, 10) AS day, count(*) AS refunds, sum(f.amount_minor) AS amount_minor
      FROM mirakl_refunds f LEFT JOIN mirakl_order_lines ol ON ol.order_line_id = f.order_line_id LEFT JOIN mirakl_orders o ON o.order_id = ol.order_id
      WHERE f.refund_state = 'REFUNDED' GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    .all();
}
/** A line with no verified unit and no refund holds nothing, whether it has a row or not (a unit lost after it counted). */
const holding = (lines: Line[]) => lines.filter((l) => l.verified !== 0 || l.refunded_minor !== 0);
function expectKeptEqualsBaseTables(db: Database, context: string) {
  const kept = db.prepare('SELECT order_line_id, verified, price_unit_minor, refunded_minor FROM money_lines ORDER BY 1').all() as Line[];
  expect(holding(kept), context).toEqual(holding(linesFromBaseTables(db)));
  // A day whose paid refunds all went (refunded again in another state, moved, removed) keeps a row of zeros.
  const paidDays = db.prepare('SELECT currency, day, refunds, amount_minor FROM money_paid_days WHERE refunds != 0 OR amount_minor != 0 ORDER BY 1, 2').all();
  expect(paidDays, context).toEqual(paidDaysFromBaseTables(db));
  const figures = createMoneyFigures(db);
  // Far ahead of every fact, `at` reads the kept lines; the base tables must give the same, for every figure.
  const later = '2999-01-01T00:00:00.000Z';
  expect(figures.at(later, '2000-01-01T00:00:00.000Z'), context).toEqual(figures.atFromBaseTables(later, '2000-01-01T00:00:00.000Z'));
}

const currencies = ['GBP', 'EUR', 'USD'] as const;
const dayMs = 86_400_000;
const start = Date.UTC(2026, 9, 1);
const iso = (ms: number) => new Date(ms).toISOString();
/** Stored timestamps come with and without milliseconds; half of them at midnight, the edge of a day. */
const stamp = (rng: Rng, ms: number) => {
  const at = rng.chance(0.5) ? ms : ms + rng.int(0, dayMs - 1);
  return rng.chance(0.5) ? iso(at) : `${iso(at).slice(0, 19)}Z`;
};
/** A moment inside the world or after it: at midnight, at any millisecond of a day, or a second off a stored date. */
const moment = (rng: Rng) => {
  const day = start + rng.int(0, 62) * dayMs;
  return iso(rng.pick([day, day + rng.int(0, dayMs - 1), day + 1000, day - 1000, day + 999]));
};

/** A random world: orders in three currencies (one line with no order line at all), units at every stage, refunds. */
function randomWorld(db: Database, rng: Rng) {
  const lines: string[] = [];
  const units: { id: string; line: string }[] = [];
  const refunds: string[] = [];
  const orders = rng.int(3, 12);
  for (let o = 1; o <= orders; o++) {
    const t = iso(start + rng.int(0, 20) * dayMs);
    db.prepare(`INSERT INTO mirakl_orders (order_id, commercial_id, state, currency, customer_id, customer_name, customer_address, date_created, last_updated, synced_at)
      VALUES (?, ?, 'SHIPPED', ?, 'CU', 'Ann', '{}', ?, ?, ?)`).run(`O-${o}`, `C-${o}`, rng.pick(currencies), t, t, t);
    for (let l = 1; l <= rng.int(1, 3); l++) {
      const line = `L-${o}-${l}`;
      lines.push(line);
      // A line Mirakl has not shown us yet: its units count at no price until it is read.
      if (!rng.chance(0.1)) addOrderLine(db, line, `O-${o}`, rng.int(0, 60) * 100);
    }
  }
  for (const line of lines) {
    for (let n = 1; n <= rng.int(0, 4); n++) {
      const id = `R-${line}:${line}:${n}`;
      units.push({ id, line });
      const registered = rng.chance(0.6);
      const registeredAt = registered ? stamp(rng, start + rng.int(0, 60) * dayMs) : null;
      const stage = registered ? rng.pick(['registered', 'graded'] as const) : rng.pick(['requested', 'in_transit', 'missing', 'lost'] as const);
      db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, received_sku, registered_at, updated_at)
        VALUES (?, ?, ?, 'SKU', ?, 4, ?, ?, ?)`).run(id, `R-${line}`, line, stage, registered && rng.chance(0.15) ? 'OTHER' : registered ? 'SKU' : null, registeredAt, iso(start));
    }
    for (let n = 1; n <= rng.int(0, 3); n++) {
      const id = `F-${line}-${n}`;
      refunds.push(id);
      addRefund(db, id, line, rng);
    }
  }
  return { lines, units, refunds };
}
function addOrderLine(db: Database, line: string, order: string, priceMinor: number) {
  db.prepare(`INSERT INTO mirakl_order_lines (order_line_id, order_id, offer_id, offer_sku, product_sku, product_title, quantity, price_unit_minor, price_minor,
    shipping_minor, tax_minor, shipping_tax_minor, state, can_refund) VALUES (?, ?, 1, 'SKU', 'P', 'Shirt', 4, ?, ?, 0, 0, 0, 'SHIPPED', 1)
    ON CONFLICT (order_line_id) DO UPDATE SET price_unit_minor = excluded.price_unit_minor`).run(line, order, priceMinor, priceMinor * 4);
}
function addRefund(db: Database, id: string, line: string, rng: Rng) {
  // Dated anywhere in two months: before or after the units' registration, some in the future of any moment asked.
  const t = stamp(rng, start + rng.int(0, 60) * dayMs);
  db.prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
    VALUES (?, ?, ?, ?, 0, 1, '11', ?, ?, ?, ?)`).run(id, line, `OR-${id}`, rng.int(1, 80) * 50, rng.pick(['REFUNDED', 'WAITING_REFUND', 'REFUSED']), t, t, t);
}

/** One random change, as the ledger and the feeds make them (and a few they never make, which must still be kept). */
function randomChange(db: Database, rng: Rng, world: ReturnType<typeof randomWorld>, k: number): string {
  const unit = world.units.length ? rng.pick(world.units) : null;
  const line = rng.pick(world.lines);
  switch (rng.int(0, 11)) {
    case 0:
      if (!unit) return 'none';
      db.prepare(`UPDATE units SET stage = 'registered', received_sku = COALESCE(received_sku, 'SKU'), registered_at = COALESCE(registered_at, ?) WHERE id = ?`).run(
        stamp(rng, start + rng.int(0, 60) * dayMs),
        unit.id,
      );
      return `register ${unit.id}`;
    case 1:
      if (!unit) return 'none';
      // Registered, then reported lost: it counts one way only (core/ledger/units.ts).
      db.prepare(`UPDATE units SET stage = 'lost', stage_rank = 5, registered_at = NULL, received_sku = NULL WHERE id = ?`).run(unit.id);
      return `lose ${unit.id}`;
    case 2:
      if (!unit) return 'none';
      db.prepare(`UPDATE units SET received_sku = ? WHERE id = ?`).run(rng.pick(['SKU', 'OTHER', null]), unit.id);
      return `received sku ${unit.id}`;
    case 3: {
      const id = `F-new-${k}`;
      world.refunds.push(id);
      addRefund(db, id, line, rng);
      return `refund ${id} on ${line}`;
    }
    case 4: {
      if (!world.refunds.length) return 'none';
      const id = rng.pick(world.refunds);
      db.prepare(`UPDATE mirakl_refunds SET amount_minor = ?, refund_state = 'REFUNDED' WHERE id = ?`).run(rng.int(0, 80) * 50, id);
      return `refund amount ${id}`;
    }
    case 5: {
      if (!world.refunds.length) return 'none';
      const id = rng.pick(world.refunds);
      db.prepare(`UPDATE mirakl_refunds SET date_created = ? WHERE id = ?`).run(stamp(rng, start + rng.int(0, 60) * dayMs), id);
      return `refund date ${id}`;
    }
    case 6: {
      const order = (db.prepare('SELECT order_id FROM mirakl_orders ORDER BY random() LIMIT 1').pluck().get() as string) ?? 'O-1';
      addOrderLine(db, line, order, rng.int(0, 60) * 100);
      return `order line ${line} read (again)`;
    }
    case 7: {
      const id = `R-${line}:${line}:new-${k}`;
      world.units.push({ id, line });
      db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, received_sku, registered_at, updated_at)
        VALUES (?, ?, ?, 'SKU', 'registered', 4, 'SKU', ?, ?)`).run(id, `R-${line}-new`, line, stamp(rng, start + rng.int(0, 60) * dayMs), iso(start));
      return `late unit ${id}`;
    }
    case 8: {
      if (!world.refunds.length) return 'none';
      const id = rng.pick(world.refunds);
      db.prepare('UPDATE mirakl_refunds SET refund_state = ? WHERE id = ?').run(rng.pick(['REFUNDED', 'WAITING_REFUND', 'REFUSED']), id);
      return `refund state ${id}`;
    }
    case 9: {
      // Not what a feed does (an order's currency is read once), but the figure must follow it.
      const order = (db.prepare('SELECT order_id FROM mirakl_orders ORDER BY random() LIMIT 1').pluck().get() as string) ?? 'O-1';
      db.prepare('UPDATE mirakl_orders SET currency = ? WHERE order_id = ?').run(rng.pick(currencies), order);
      return `order ${order} currency`;
    }
    case 10: {
      db.prepare('DELETE FROM mirakl_order_lines WHERE order_line_id = ?').run(line);
      return `order line ${line} removed`;
    }
    default: {
      if (!world.refunds.length) return 'none';
      const id = rng.pick(world.refunds);
      db.prepare('DELETE FROM mirakl_refunds WHERE id = ?').run(id);
      world.refunds.splice(world.refunds.indexOf(id), 1);
      return `refund ${id} removed`;
    }
  }
}

describe('money lines: the kept figure is the definition', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock(start + 61 * dayMs) });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('equals the base tables, line by line and figure by figure, on random worlds changed at random', () => {
    const db = store.db;
    for (let seed = 1; seed <= 40; seed++) {
      const rng = createRng(seed);
      db.exec('SAVEPOINT world');
      try {
        const world = randomWorld(db, rng);
        expectKeptEqualsBaseTables(db, `seed ${seed}, as made`);
        const figures = createMoneyFigures(db);
        for (let k = 0; k < 30; k++) {
          const change = randomChange(db, rng, world, k);
          expectKeptEqualsBaseTables(db, `seed ${seed}, after change ${k}: ${change}`);
          // At a moment inside the world (some facts dated after it), `at` counts from the base tables; after every
          // fact, from the kept lines: either way the figure as at that moment.
          const asOf = moment(rng);
          const from = rng.pick([iso(start), `${asOf.slice(0, 7)}-01T00:00:00.000Z`, moment(rng)]);
          expect(figures.at(asOf, from), `seed ${seed}, change ${k}, as at ${asOf}, paid from ${from}`).toEqual(figures.atFromBaseTables(asOf, from));
        }
      } finally {
        db.exec('ROLLBACK TO world; RELEASE world');
      }
    }
  });

  it('reads the figures from the kept lines and days, and the receipts and refunds through index ranges alone', () => {
    const plan = createMoneyFigures(store.db).planAt(iso(start + 61 * dayMs), iso(start + 31 * dayMs));
    expect(plan).toContain('SCAN m USING COVERING INDEX money_lines_owed');
    expect(plan).toContain('SEARCH u USING COVERING INDEX units_registered_at (registered_at>?)');
    // The refunds dated after the moment, then the paid ones of the period's first and last day.
    expect(plan.filter((d) => d.includes('mirakl_refunds_paid'))).toEqual([
      'SEARCH f USING COVERING INDEX mirakl_refunds_paid (date_created>?)',
      'SEARCH f USING COVERING INDEX mirakl_refunds_paid (date_created>? AND date_created<?)',
      'SEARCH f USING COVERING INDEX mirakl_refunds_paid (date_created>? AND date_created<?)',
    ]);
    // No walk of the units or of the refunds by date or by state (the refunds awaiting payment are read through their
    // partial index, the exceptions by their own; neither is this figure's).
    expect(plan.filter((d) => /^SCAN (u|f)\b/.test(d) && d !== 'SCAN f USING INDEX mirakl_refunds_open')).toEqual([]);
    expect(plan.filter((d) => d.includes('mirakl_refunds_state'))).toEqual([]);
  });

  it("keeps to the kept figures when Mirakl's clock runs seconds ahead of ours, and still leaves out what is dated after the moment", () => {
    const db = store.db;
    const rng = createRng(99);
    const world = randomWorld(db, rng);
    const figures = createMoneyFigures(db);
    const now = start + 61 * dayMs + 12 * 3_600_000;
    const month = iso(Date.UTC(2026, 10, 1));
    const before = figures.at(iso(now), month);
    // Refunds dated up to five seconds after our now (paid, awaiting) and a unit registered in the same seconds, on
    // lines that owe money and lines that do not.
    for (let k = 1; k <= 12; k++) {
      const line = rng.pick(world.lines);
      const t = iso(now + rng.int(0, 5000));
      db.prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
        VALUES (?, ?, ?, ?, 0, 1, '11', ?, ?, ?, ?)`).run(`F-skew-${k}`, line, `OR-skew-${k}`, rng.int(1, 80) * 50, rng.pick(['REFUNDED', 'WAITING_REFUND']), t, t, t);
      db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, received_sku, registered_at, updated_at)
        VALUES (?, ?, ?, 'SKU', 'registered', 4, 'SKU', ?, ?)`).run(`U-skew-${k}`, `R-skew-${k}`, line, t, t);
    }
    expect(db.prepare('SELECT count(*) FROM mirakl_refunds WHERE date_created >= ?').pluck().get(iso(now).slice(0, 19))).toBe(12);
    // As at our now the facts dated after it do not count yet: the figures are those before they were written, and
    // the base tables say the same.
    expect(figures.at(iso(now), month)).toEqual(before);
    expect(figures.at(iso(now), month)).toEqual(figures.atFromBaseTables(iso(now), month));
    // Six seconds later they all count.
    const later = iso(now + 6000);
    expect(figures.at(later, month)).toEqual(figures.atFromBaseTables(later, month));
    expect(figures.at(later, month)).not.toEqual(before);
  });
});

describe('money lines on a sandbox world the engine synced', () => {
  const harness = harnessPerTest();

  it('are what the base tables say, and the dashboard figure now equals the figure counted from them', async () => {
    // Parcels move within hours, so five days see returns registered, refunded and still owed, wrong SKUs and short
    // receipts among them.
    const scenario = {
      historyDays: 0,
      ordersPerDay: 150,
      returnRate: 0.6,
      returnAfterDays: [0, 1] as [number, number],
      hoursToNetwork: [1, 12] as [number, number],
      hoursToHub: [4, 24] as [number, number],
      hoursToRegistered: [1, 6] as [number, number],
      hoursToProcessed: [2, 12] as [number, number],
    };
    const h = await harness.start({ seed: 7, scenario });
    const db = h.store.db;
    const figures = createMoneyFigures(db);
    const owed = db.prepare('SELECT count(*) FROM money_lines m WHERE m.verified > 0 AND m.verified * m.price_unit_minor - m.refunded_minor > 0').pluck();
    let mostOwed = 0;
    while (h.clock.now() < defaultScenario.startMs + 5 * dayMs) {
      await h.step(2 * 60 * 60_000);
      expectKeptEqualsBaseTables(db, `sandbox world at ${iso(h.clock.now())}`);
      const now = iso(h.clock.now());
      const month = `${now.slice(0, 7)}-01T00:00:00.000Z`;
      expect(figures.at(now, month), `dashboard figures at ${now}`).toEqual(figures.atFromBaseTables(now, month));
      mostOwed = Math.max(mostOwed, owed.get() as number);
    }
    // A world with money owed and money refunded, so the comparisons compared something.
    expect(mostOwed).toBeGreaterThan(0);
    expect(db.prepare('SELECT count(*) FROM mirakl_refunds').pluck().get()).toBeGreaterThan(20);
  }, 300_000);
});
