import { afterEach, expect } from 'vitest';
import { createMiraklClient } from '../../core/mirakl/client';
import { createMemoryBudgetStore } from '../../core/net/budget-guard';
import { fetchHttp } from '../../core/net/http';
import { memoryJournal } from '../../core/net/journal';
import { startHarness, type Harness, type HarnessOptions } from './engine-harness';
import { makeTempDir } from './temp-dir';

// The stock tests' world: the real engine against the sandbox on a fake clock, where nothing sells unless a test sells
// it (the sandbox's sell hook: an order OR11 shows, and the stock goes down) and the units waiting to be restocked are
// planted as pending increments, the state a sellable unit reaches after grading. What each test checks is Mirakl's
// own ground truth: what the offer holds against initial − sold + units restocked.

export const minute = 60_000;
const quietWorld = { historyDays: 0, ordersPerDay: 0 };

/** One harness per test in the quiet world, closed and its folder removed after each test (registers the afterEach). */
export function useQuietStockWorld(): { start(seed: number, options?: Omit<HarnessOptions, 'seed' | 'dataDir' | 'scenario'>): Promise<Harness>; dir(): string } {
  let temp: ReturnType<typeof makeTempDir> | null = null;
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    temp?.remove();
    h = null;
    temp = null;
  });
  return {
    async start(seed, options = {}) {
      temp = makeTempDir();
      h = await startHarness({ ...options, seed, dataDir: temp.dir, scenario: quietWorld });
      return h;
    },
    dir: () => {
      if (!temp) throw new Error('no harness started');
      return temp.dir;
    },
  };
}

/** A sellable unit waiting to be restocked on this offer, as grading leaves it. */
export function plantPending(h: Harness, unitId: string, sku: string, createdAt = h.clock.now()): void {
  const at = new Date(createdAt).toISOString();
  h.store.db.prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?)`).run(unitId, sku, at, at);
}

export const incrementState = (h: Harness, unitId: string): string | undefined =>
  (h.store.db.prepare('SELECT state FROM stock_increments WHERE unit_id = ?').get(unitId) as { state: string } | undefined)?.state;

/** Our stock imports as the engine recorded them. */
export const ourImports = (h: Harness) =>
  (h.store.db.prepare(`SELECT outcome FROM intents WHERE kind = 'stock.import' ORDER BY id`).all() as { outcome: string | null }[]).map(
    (r) => JSON.parse(r.outcome ?? '{}') as { status?: string; toCheck?: string[]; settledAfterExport?: number },
  );

/** When (the engine's clock) each export the engine read was applied, by id. */
export const exportsRead = (h: Harness) =>
  h.store.db.prepare(`SELECT id, applied_at FROM offer_exports WHERE state = 'applied' ORDER BY id`).all() as { id: number; applied_at: string }[];

/** One engine cycle a minute until `done` holds; fails the test after `max` minutes. */
export async function stepUntil(h: Harness, what: string, done: () => boolean, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (done()) return;
    await h.step(minute);
  }
  if (!done()) throw new Error(`after ${max} minutes of sandbox time: ${what} never happened`);
}

/** Through the sandbox's test hook, as a customer would: an order now, the stock down by `quantity`, listed in OR11 `listedAfterMinutes` later. */
export async function sell(h: Harness, sku: string, quantity: number, listedAfterMinutes = 0): Promise<void> {
  const res = await fetch(`${h.sandbox.mirakl.baseUrl}/_sim/offers/${encodeURIComponent(sku)}/sell`, {
    method: 'POST',
    body: JSON.stringify({ quantity, listedAfterMinutes }),
  });
  expect(res.status).toBe(200);
}

/**
 * Another writer to the shop's stock (a second installation of the app, another tool, a person in the back office): its
 * own STO01 setting `quantity`, run to completion. Mirakl runs it within a minute; the engine's cycles meanwhile are
 * those of a minute of sandbox time.
 */
export async function importElsewhere(h: Harness, sku: string, quantity: number): Promise<void> {
  const other = createMiraklClient({
    baseUrl: h.sandbox.mirakl.baseUrl,
    apiKey: async () => h.sandbox.mirakl.apiKey,
    shopId: h.sandbox.mirakl.shopId,
    clock: h.clock,
    http: fetchHttp,
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
  });
  const importId = await other.importStock([{ sku, quantity }]);
  await stepUntil(h, `the other writer's import ${importId} ran`, () => h.sandbox.world.getImport(importId)?.status === 'COMPLETE', 5);
}

/** What Mirakl really holds of an offer, with its initial quantity and the units sold. */
export const stockOf = (h: Harness, sku: string) => {
  const s = h.sandbox.truth().mirakl.stock[sku];
  if (!s) throw new Error(`no offer ${sku}`);
  return s;
};
