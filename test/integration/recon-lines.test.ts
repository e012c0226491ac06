import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createRng, type Rng } from '../../core/sandbox/rng';
import { openStore, type Store } from '../../core/store/db';
import { sourceMigrationsDir } from '../../core/store/paths';
import { arrived, lineRefunds } from '../../core/store/reconcile/detectors';
import { makeTempDir } from '../support/temp-dir';

// The verdicts read each return line's verified units and linked REFUNDED refunds from recon_lines (migration 0026),
// which triggers keep as units, refund intents, matches and refunds are written. One definition: on random worlds
// changed at random, the kept lines are what the base tables say, line by line.

type Line = { return_id: string; order_line_id: string; verified: number; first_verified_at: string | null; refunded_minor: number | null };

/** What each line holds by the definition the detectors use, counted from the base tables now. */
function linesFromBaseTables(db: Database): Line[] {
  return db
    .prepare(
      `SELECT p.return_id, p.order_line_id,
        (SELECT count(*) FROM units u WHERE u.return_id = p.return_id AND u.order_line_id = p.order_line_id AND ${arrived}) AS verified,
        (SELECT min(u.registered_at) FROM units u WHERE u.return_id = p.return_id AND u.order_line_id = p.order_line_id AND ${arrived}) AS first_verified_at,
        (SELECT sum(f.amount_minor) FROM ${lineRefunds('p.return_id', 'p.order_line_id')} WHERE f.refund_state = 'REFUNDED') AS refunded_minor
      FROM (SELECT return_id, order_line_id FROM units UNION SELECT subject, order_line_id FROM intents WHERE order_line_id IS NOT NULL
            UNION SELECT return_id, substr(candidate, length(return_id) + 2) FROM recon_matches WHERE return_id IS NOT NULL) p
      ORDER BY 1, 2`,
    )
    .all() as Line[];
}
/** A line with no verified unit and no linked REFUNDED refund holds nothing, whether it has a row or not. */
const holding = (lines: Line[]) => lines.filter((l) => l.verified !== 0 || l.refunded_minor !== null);
/** Compares the two, and returns how many lines had both verified units and linked REFUNDED refunds. */
function expectKeptEqualsBaseTables(db: Database, context: string): number {
  const kept = db.prepare('SELECT return_id, order_line_id, verified, first_verified_at, refunded_minor FROM recon_lines ORDER BY 1, 2').all() as Line[];
  const counted = holding(linesFromBaseTables(db));
  expect(holding(kept), context).toEqual(counted);
  return counted.filter((l) => l.verified > 0 && l.refunded_minor !== null).length;
}

const iso = (ms: number) => new Date(ms).toISOString();
const start = Date.UTC(2026, 9, 1);
const at = (rng: Rng) => iso(start + rng.int(0, 60) * 86_400_000 + rng.int(0, 86_399_999));
const refundStates = ['REFUNDED', 'WAITING_REFUND', 'REFUSED'] as const;

interface World {
  pairs: [string, string][];
  units: string[];
  refunds: string[];
  intents: number[];
  matches: { subject: string; candidate: string }[];
}

function addUnit(db: Database, rng: Rng, world: World, id: string, [returnId, line]: [string, string]) {
  const registered = rng.chance(0.6);
  db.prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, received_sku, registered_at, updated_at)
    VALUES (?, ?, ?, 'SKU', ?, 4, ?, ?, ?)`).run(
    id, returnId, line, registered ? 'registered' : rng.pick(['requested', 'missing', 'lost']),
    registered && rng.chance(0.2) ? 'OTHER' : registered ? rng.pick(['SKU', null]) : null, registered ? at(rng) : null, iso(start),
  );
  world.units.push(id);
}
function addRefund(db: Database, rng: Rng, world: World, id: string, line: string) {
  const t = at(rng);
  db.prepare(`INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
    VALUES (?, ?, ?, ?, 0, 1, '11', ?, ?, ?, ?)`).run(id, line, `OR-${id}`, rng.int(0, 80) * 50, rng.pick(refundStates), t, t, t);
  world.refunds.push(id);
}
/** A refund intent for a line: confirmed with a refund id (one Mirakl may not have shown yet), or still on its way. */
function addIntent(db: Database, rng: Rng, world: World, key: string, [returnId, line]: [string, string]) {
  const refundId = rng.chance(0.8) ? rng.pick([...world.refunds, `F-later-${rng.int(1, 5)}`]) : null;
  // A payload without the line (an older shape) links nothing.
  const payload = JSON.stringify(rng.chance(0.9) ? { returnId, order_line_id: line, units: [] } : { returnId, units: [] });
  const info = db.prepare(`INSERT INTO intents (kind, key, subject, payload, state, outcome, created_at, updated_at) VALUES ('mirakl.refund', ?, ?, ?, ?, ?, ?, ?)`).run(
    key, returnId, payload, rng.pick(['confirmed', 'confirmed', 'failed', 'sending']), refundId ? JSON.stringify({ refundId }) : null, iso(start), iso(start),
  );
  world.intents.push(Number(info.lastInsertRowid));
}
function addMatch(db: Database, rng: Rng, world: World, [returnId, line]: [string, string]) {
  if (!world.refunds.length) return;
  const subject = rng.pick(world.refunds);
  const candidate = `${returnId}:${line}`;
  const added = db.prepare(`INSERT INTO recon_matches (kind, subject, candidate, return_id, status, basis, rank) VALUES ('refund_line', ?, ?, ?, ?, 'same order line', 1)
    ON CONFLICT DO NOTHING`).run(subject, candidate, returnId, rng.pick(['confirmed', 'confirmed', 'suggested', 'rejected']));
  if (added.changes) world.matches.push({ subject, candidate });
}

/** A random world: returns of a few order lines, units at every stage, refunds, our refund intents, people's matches. */
function randomWorld(db: Database, rng: Rng): World {
  const world: World = { pairs: [], units: [], refunds: [], intents: [], matches: [] };
  const lines = Array.from({ length: rng.int(2, 5) }, (_, i) => `L-${i + 1}`);
  for (let r = 1; r <= rng.int(2, 6); r++) for (const line of lines) if (rng.chance(0.5)) world.pairs.push([`R-${r}`, line]);
  if (!world.pairs.length) world.pairs.push(['R-1', 'L-1']);
  for (const line of lines) for (let n = 1; n <= rng.int(0, 3); n++) addRefund(db, rng, world, `F-${line}-${n}`, line);
  for (const pair of world.pairs) {
    for (let n = 1; n <= rng.int(0, 3); n++) addUnit(db, rng, world, `${pair[0]}:${pair[1]}:${n}`, pair);
    if (rng.chance(0.6)) addIntent(db, rng, world, `refund:${pair[0]}:${pair[1]}`, pair);
    if (rng.chance(0.3)) addMatch(db, rng, world, pair);
  }
  return world;
}

/** One random change, as the ledger, the feeds and people make them (and a few they never make, which must still be kept). */
function randomChange(db: Database, rng: Rng, world: World, k: number): string {
  const pair = rng.pick(world.pairs);
  const unit = world.units.length ? rng.pick(world.units) : null;
  const refund = world.refunds.length ? rng.pick(world.refunds) : null;
  const intent = world.intents.length ? rng.pick(world.intents) : null;
  const match = world.matches.length ? rng.pick(world.matches) : null;
  const run = (sql: string, ...params: unknown[]) => db.prepare(sql).run(...params);
  switch (rng.int(0, 17)) {
    case 0:
      if (!unit) return 'none';
      run(`UPDATE units SET stage = 'registered', received_sku = COALESCE(received_sku, 'SKU'), registered_at = COALESCE(registered_at, ?) WHERE id = ?`, at(rng), unit);
      return `register ${unit}`;
    case 1:
      if (!unit) return 'none';
      run(`UPDATE units SET stage = 'lost', registered_at = NULL, received_sku = NULL WHERE id = ?`, unit);
      return `lose ${unit}`;
    case 2:
      if (!unit) return 'none';
      run(`UPDATE units SET received_sku = ?, registered_at = CASE WHEN registered_at IS NULL THEN NULL ELSE ? END WHERE id = ?`, rng.pick(['SKU', 'OTHER', null]), at(rng), unit);
      return `receipt of ${unit} read again`;
    case 3:
      if (!unit) return 'none';
      run(`UPDATE units SET return_id = ?, order_line_id = ? WHERE id = ?`, pair[0], pair[1], unit);
      return `unit ${unit} moved to ${pair.join(':')}`;
    case 4:
      if (!unit) return 'none';
      run(`DELETE FROM units WHERE id = ?`, unit);
      world.units.splice(world.units.indexOf(unit), 1);
      return `unit ${unit} removed`;
    case 5:
      addUnit(db, rng, world, `${pair.join(':')}:new-${k}`, pair);
      return `unit on ${pair.join(':')}`;
    case 6:
      if (intent === null) return 'none';
      run(`UPDATE intents SET state = ? WHERE id = ?`, rng.pick(['confirmed', 'failed', 'uncertain']), intent);
      return `intent ${intent} state`;
    case 7:
      if (intent === null) return 'none';
      run(`UPDATE intents SET outcome = ? WHERE id = ?`, rng.chance(0.8) ? JSON.stringify({ refundId: refund ?? 'F-later-1' }) : null, intent);
      return `intent ${intent} outcome`;
    case 8:
      if (intent === null) return 'none';
      run(`DELETE FROM intents WHERE id = ?`, intent);
      world.intents.splice(world.intents.indexOf(intent), 1);
      return `intent ${intent} removed`;
    case 9:
      addIntent(db, rng, world, `refund:${pair.join(':')}:${k}`, pair);
      return `intent for ${pair.join(':')}`;
    case 10:
      if (!match) return 'none';
      run(`UPDATE recon_matches SET status = ? WHERE kind = 'refund_line' AND subject = ? AND candidate = ?`, rng.pick(['confirmed', 'rejected', 'suggested']), match.subject, match.candidate);
      return `match ${match.subject} ${match.candidate} decided`;
    case 11: {
      if (!match) return 'none';
      const candidate = `${pair[0]}:${pair[1]}`;
      const moved = run(`UPDATE OR IGNORE recon_matches SET candidate = ?, return_id = ? WHERE kind = 'refund_line' AND subject = ? AND candidate = ?`, candidate, pair[0], match.subject, match.candidate);
      if (moved.changes) match.candidate = candidate;
      return `match ${match.subject} moved to ${candidate}`;
    }
    case 12:
      if (!match) return 'none';
      run(`DELETE FROM recon_matches WHERE kind = 'refund_line' AND subject = ? AND candidate = ?`, match.subject, match.candidate);
      world.matches.splice(world.matches.indexOf(match), 1);
      return `match ${match.subject} ${match.candidate} removed`;
    case 13:
      addMatch(db, rng, world, pair);
      return `match for ${pair.join(':')}`;
    case 14: {
      // Sometimes the refund an intent was confirmed with, read only now.
      const id = rng.chance(0.5) ? `F-later-${rng.int(1, 5)}` : `F-new-${k}`;
      if (world.refunds.includes(id)) return 'none';
      addRefund(db, rng, world, id, pair[1]);
      return `refund ${id} read`;
    }
    case 15:
      if (!refund) return 'none';
      run(`UPDATE mirakl_refunds SET refund_state = ? WHERE id = ?`, rng.pick(refundStates), refund);
      return `refund ${refund} state`;
    case 16:
      if (!refund) return 'none';
      run(`UPDATE mirakl_refunds SET amount_minor = ? WHERE id = ?`, rng.int(0, 80) * 50, refund);
      return `refund ${refund} amount`;
    default:
      if (!refund) return 'none';
      run(`DELETE FROM mirakl_refunds WHERE id = ?`, refund);
      world.refunds.splice(world.refunds.indexOf(refund), 1);
      return `refund ${refund} removed`;
  }
}

describe('recon lines: the kept facts are the definition', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock(start + 61 * 86_400_000) });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('equals the base tables, line by line, on random worlds changed at random', () => {
    const db = store.db;
    let held = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rng = createRng(seed);
      db.exec('SAVEPOINT world');
      try {
        const world = randomWorld(db, rng);
        held += expectKeptEqualsBaseTables(db, `seed ${seed}, as made`);
        for (let k = 0; k < 40; k++) {
          const change = randomChange(db, rng, world, k);
          held += expectKeptEqualsBaseTables(db, `seed ${seed}, after change ${k}: ${change}`);
        }
      } finally {
        db.exec('ROLLBACK TO world; RELEASE world');
      }
    }
    // The worlds are not all empty: lines with both verified units and linked REFUNDED refunds were compared.
    expect(held).toBeGreaterThan(200);
  });
});
