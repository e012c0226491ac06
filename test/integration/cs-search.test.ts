import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../../core/app/create-core';
import { returnsListInput, type ReturnRow } from '../../core/contract';
import { createQueries } from '../../core/store/reconcile/queries-repo';
import { makeTestCore } from '../support/core';
import { seedOctober } from '../support/report-fixture';
import { makeTempDir } from '../support/temp-dir';

// Issue 24, CS lookup: a customer-service lead types part of an id as the customer reads it out — lower case, the
// last digits — or the customer's name, and finds the return. The search stays an index lookup (no scan of returns).

type Page = { rows: ReturnRow[]; total: number };

describe('CS lookup in the returns grid', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core } = await makeTestCore(temp.dir));
    seedOctober(core.store.db);
    const db = core.store.db;
    db.prepare(`UPDATE mirakl_returns SET commercial_id = 'MP202609260402', rma = 'RMA-77123', tracking_number = 'JD0002219876GB' WHERE id = 'R-2'`).run();
    db.prepare(`UPDATE rebound_return_orders SET tracking_number = 'RB-TRK-445566' WHERE return_id = 'R-2'`).run();
    db.prepare(`UPDATE mirakl_orders SET customer_name = 'Zoë Hartley-Smith' WHERE order_id = 'O-2'`).run();
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  const search = async (text: string) => {
    const r = await core.dispatch('returns.list', { filter: { search: text } });
    if (!r.ok) throw new Error(r.error.message);
    return (r.data as Page).rows.map((row) => row.returnId).sort();
  };

  it('finds a return by a partial, lower-case order id, return id, RMA, tracking or SKU', async () => {
    expect(await search('260402')).toEqual(['R-2']);
    expect(await search('mp202609260402')).toEqual(['R-2']);
    expect(await search('mp2026')).toEqual(['R-2']);
    expect(await search('rma-77')).toEqual(['R-2']);
    expect(await search('2219876')).toEqual(['R-2']);
    expect(await search('trk-4455')).toEqual(['R-2']);
    expect(await search('sku-b')).toEqual(['R-2']);
    expect(await search('r-4')).toEqual(['R-4']);
    // Exact ids still work, whatever their length.
    expect(await search('R-1')).toEqual(['R-1']);
  });

  it("finds a return by the customer's name, and shows the customer masked", async () => {
    expect(await search('hartley')).toEqual(['R-2']);
    expect(await search('zoë hart')).toEqual(['R-2']);
    const r = await core.dispatch('returns.list', { filter: { search: 'hartley' } });
    const row = r.ok ? (r.data as Page).rows[0] : undefined;
    expect(row?.customer).toBe('Z** H************');
  });

  it("finds a return by the customer's email (Mirakl's anonymised address), in any case, and shows it masked", async () => {
    const email = 'notification+ec1riop21ju4rfynl0helvzou.e0z0r7cj2@notification.mirakl.net';
    core.store.db.prepare(`UPDATE mirakl_orders SET customer_email = ? WHERE order_id = 'O-2'`).run(email);
    expect(await search(email)).toEqual(['R-2']);
    expect(await search('EC1RIOP21JU4')).toEqual(['R-2']);
    const r = await core.dispatch('returns.list', { filter: { search: email } });
    const row = r.ok ? (r.data as Page).rows[0] : undefined;
    expect(row?.customerEmail).toBe('no**…@notification.mirakl.net');
    // An email the store has never seen finds nothing.
    expect(await search('nobody@example.com')).toEqual([]);
  });

  it('answers from the search index, not a scan of every return', () => {
    const plan = createQueries(core.store.db, { now: () => Date.now() }).plan.returns(returnsListInput.parse({ filter: { search: '260402' } }));
    expect(plan.join('\n')).not.toMatch(/SCAN (r|mirakl_returns)\b(?! USING)/);
    expect(plan.join('\n')).toMatch(/VIRTUAL TABLE/);
  });
});
