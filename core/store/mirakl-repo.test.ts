import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import type { MiraklReturnDto } from '../mirakl/schemas';
import { makeTempDir } from '../../test/support/temp-dir';
import { openStore, type Store } from './db';
import { createMiraklStore } from './mirakl-repo';
import { sourceMigrationsDir } from './paths';

// RT11 shows a return again each time its state moves (ours and the customer's doings bump last_updated): a backlog
// of 10,000 returns is saved nearly 40,000 times. Its lines almost never change between those reads, and every line
// written again re-runs the triggers behind it (the grid's search index, the reconcile marks), so a save writes the
// lines only when they differ from what is stored.

let temp: ReturnType<typeof makeTempDir> | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  temp?.remove();
});

function open() {
  temp = makeTempDir();
  const clock = createFakeClock(Date.parse('2026-11-02T09:00:00Z'));
  store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
  return { db: store.db, mirakl: createMiraklStore(store.db, clock) };
}

function rt11(overrides: Partial<MiraklReturnDto> = {}): MiraklReturnDto {
  return {
    id: 'R-1',
    state: 'WAITING_ACCEPTANCE',
    order_id: 'O-1',
    order_commercial_id: 'C-1',
    method_code: 'POST',
    date_created: '2026-11-01T10:00:00Z',
    last_updated: '2026-11-01T10:00:00Z',
    return_lines: [
      { order_line_id: 'O-1-1', quantity: 1, reason_code: 'TOO_SMALL' },
      { order_line_id: 'O-1-2', quantity: 2, reason_code: 'DAMAGED' },
    ],
    ...overrides,
  } as MiraklReturnDto;
}

describe('saving a return read from RT11', () => {
  it('keeps its stored lines when a newer read shows the same lines, and replaces them when they differ', () => {
    const { db, mirakl } = open();
    // Every line written, counted.
    db.exec(`CREATE TEMP TABLE line_writes (order_line_id TEXT);
      CREATE TEMP TRIGGER line_written AFTER INSERT ON main.mirakl_return_lines BEGIN INSERT INTO line_writes VALUES (NEW.order_line_id); END;`);
    const lineWrites = () => (db.prepare('SELECT count(*) AS n FROM line_writes').get() as { n: number }).n;
    expect(mirakl.saveReturn(rt11())).toBe(true);
    expect(lineWrites()).toBe(2);

    // The state moved; the lines (in another order) did not.
    expect(mirakl.saveReturn(rt11({ state: 'ACCEPTED', last_updated: '2026-11-01T11:00:00Z', return_lines: [...rt11().return_lines].reverse() }))).toBe(false);
    expect(mirakl.getReturn('R-1')?.state).toBe('ACCEPTED');
    expect(lineWrites(), 'the lines were written again though none changed').toBe(2);

    // A line's quantity changed and one line went: the stored lines are exactly the newer read's.
    mirakl.saveReturn(rt11({ state: 'ACCEPTED', last_updated: '2026-11-01T12:00:00Z', return_lines: [{ order_line_id: 'O-1-2', quantity: 1, reason_code: 'DAMAGED' }] }));
    expect(mirakl.returnLines('R-1')).toEqual([{ returnId: 'R-1', orderLineId: 'O-1-2', quantity: 1, reasonCode: 'DAMAGED' }]);

    // A changed reason alone is a change too.
    mirakl.saveReturn(rt11({ state: 'ACCEPTED', last_updated: '2026-11-01T13:00:00Z', return_lines: [{ order_line_id: 'O-1-2', quantity: 1, reason_code: 'NOT_AS_DESCRIBED' }] }));
    expect(mirakl.returnLines('R-1').map((l) => l.reasonCode)).toEqual(['NOT_AS_DESCRIBED']);

    // An older snapshot never overwrites the newer one, lines included.
    mirakl.saveReturn(rt11({ last_updated: '2026-11-01T10:30:00Z' }));
    expect(mirakl.returnLines('R-1').map((l) => l.orderLineId)).toEqual(['O-1-2']);
  });
});
