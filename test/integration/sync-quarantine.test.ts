import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueries } from '../../core/store/reconcile/queries-repo';
import { startHarness, type Harness } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

const minute = 60_000;

// One return Mirakl sends in a form nobody can act on, in the middle of several RT11 pages: the rest of the page and
// the later pages are read, the cursor moves on, a person sees MALFORMED_RECORD with the record as it was sent, and
// once Mirakl sends it readable again it goes through on the next read.
describe('an RT11 page holding one record that cannot be read', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: Harness;
  let brokenId: string;
  let visible: number;
  const cursor = () => (h.store.db.prepare(`SELECT value FROM sync_cursors WHERE feed = 'rt11.last_updated'`).get() as { value: string } | undefined)?.value;
  const stored = (id: string) => Boolean(h.store.db.prepare('SELECT 1 FROM mirakl_returns WHERE id = ?').get(id));
  const malformed = () =>
    h.store.db.prepare(`SELECT id, state, subject_key, cause, resolution FROM exceptions WHERE type = 'MALFORMED_RECORD' ORDER BY id`).all() as {
      id: number;
      state: string;
      subject_key: string;
      cause: string;
      resolution: string | null;
    }[];

  beforeAll(async () => {
    temp = makeTempDir();
    // A month of history: a few hundred returns, several RT11 pages of 100 on the first read.
    h = await startHarness({ seed: 19, dataDir: temp.dir, scenario: { historyDays: 30, ordersPerDay: 120 } });
    const returns = h.sandbox.world.returnsList().sort((a, b) => a.createdAt - b.createdAt);
    visible = returns.length;
    const broken = returns[Math.floor(returns.length / 3)];
    if (!broken) throw new Error('the scenario made no returns');
    brokenId = broken.id;
    h.sandbox.world.setUnreadable(brokenId, 'quantityWord');
    await h.step(minute);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    temp?.remove();
  });

  it('reads every other record of that page and of the later pages, and moves the cursor on', () => {
    expect(visible).toBeGreaterThan(200);
    const count = (h.store.db.prepare('SELECT count(*) AS n FROM mirakl_returns').get() as { n: number }).n;
    expect(count).toBe(visible - 1);
    expect(stored(brokenId)).toBe(false);
    // The cursor is the newest update read, past the unreadable record: it does not hold the feed back.
    const newestRead = (h.store.db.prepare('SELECT max(last_updated) AS t FROM mirakl_returns').get() as { t: string }).t;
    expect(cursor()).toBe(newestRead);
    // Returns created after the broken one (later RT11 pages, sorted by creation) were all read.
    const later = h.sandbox.world.returnsList().filter((r) => r.createdAt > (h.sandbox.world.returnsList().find((x) => x.id === brokenId)?.createdAt ?? 0));
    expect(later.length).toBeGreaterThan(100);
    expect(later.every((r) => stored(r.id))).toBe(true);
  });

  it('shows MALFORMED_RECORD in the queue with the record as Mirakl sent it', () => {
    const [raised] = malformed();
    expect(raised).toMatchObject({ state: 'open', subject_key: `RT11:${brokenId}` });
    expect(raised?.cause).toContain('return_lines[0].quantity');
    const detail = createQueries(h.store.db, h.clock).getException(raised?.id ?? 0);
    expect(detail?.owner).toBe('ops');
    expect(JSON.parse(detail?.rawRecord ?? '{}')).toMatchObject({ id: brokenId, return_lines: [{ quantity: 'two' }] });
  });

  it('lets the record through on the next read once Mirakl sends it readable again', async () => {
    h.sandbox.world.setUnreadable(brokenId, null);
    // RT11 is polled every 15 minutes (Mirakl's recommended cadence): the next incremental poll sees the mended record
    // (its last_updated moved).
    await h.step(16 * minute);
    expect(stored(brokenId)).toBe(true);
    expect(h.store.db.prepare('SELECT stage FROM return_intake WHERE return_id = ?').get(brokenId)).toBeDefined();
    const [resolved] = malformed();
    expect(resolved).toMatchObject({ state: 'resolved' });
    expect(resolved?.resolution).toMatch(/readable copy/);
  });
});
