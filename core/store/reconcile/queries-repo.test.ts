import { beforeEach, describe, expect, it } from 'vitest';
import type { ExceptionRow, Kpis, ReturnRow } from '../../contract';
import { corePerTest } from '../../../test/support/core';

// The grids' reads through the contract: side-by-side rows with the fields that disagree, filters, sorting, stable
// paging, and the dashboard's figures.

type Page<T> = { rows: T[]; total: number; totalIsCapped: boolean; offset: number };

describe('queries', () => {
  const app = corePerTest();
  const { ok } = app;

  beforeEach(() => {
    // closed in Mirakl while ReBound still shows a label (drift); R-2: received and refunded; R-3: not in ReBound.
    app.fixture.returnOf('R-1', 'CLOSED');
    app.fixture.reboundOrder('R-1', 'LABEL_ISSUED', 1);
    app.clock.advance(60_000);
    app.fixture.returnOf('R-2', 'RECEIVED');
    app.fixture.reboundOrder('R-2', 'ITEMS_REGISTERED', 4);
    app.fixture.unit('R-2', 1);
    app.fixture.unit('R-2', 2);
    app.fixture.ourRefund('R-2', 'F-1', 5000);
    app.clock.advance(60_000);
    app.fixture.returnOf('R-3');
    app.clock.advance(30 * 3_600_000);
    app.core.reconcile();
  });

  it('shows each return side by side, with the fields that disagree', async () => {
    const page = await ok<Page<ReturnRow>>('returns.list', {});
    expect(page.rows.map((r) => r.returnId)).toEqual(['R-3', 'R-2', 'R-1']);
    const [r3, r2, r1] = page.rows;
    expect(r1).toMatchObject({ mirakl: { state: 'CLOSED' }, rebound: { status: 'LABEL_ISSUED' }, drift: true, driftFields: ['state'] });
    expect(r2).toMatchObject({ rebound: { unitsArrived: 2 }, expectedRefundMinor: 5000, refundedMinor: 5000, refundStatus: 'refunded', drift: false });
    expect(r3).toMatchObject({ rebound: { orderId: null, status: null }, refundStatus: 'none', openExceptions: 1 });
    expect(page).toMatchObject({ total: 3, totalIsCapped: false, offset: 0 });
  });

  it('filters, sorts and pages in SQL, with a stable order', async () => {
    const drifting = await ok<Page<ReturnRow>>('returns.list', { filter: { drift: true } });
    expect(drifting.rows.map((r) => r.returnId)).toEqual(['R-1']);
    const oldestFirst = await ok<Page<ReturnRow>>('returns.list', { sort: { field: 'dateCreated', direction: 'asc' }, page: { offset: 1, limit: 1 } });
    expect(oldestFirst.rows.map((r) => r.returnId)).toEqual(['R-2']);
    expect(oldestFirst.total).toBe(3);
    const search = await ok<Page<ReturnRow>>('returns.list', { filter: { search: 'RO-R-2' } });
    expect(search.rows.map((r) => r.returnId)).toEqual(['R-2']);
    // A SKU finds every return with a line of it (all three here), an unknown one nothing.
    const bySku = await ok<Page<ReturnRow>>('returns.list', { filter: { search: 'SKU' } });
    expect(bySku.rows.map((r) => r.returnId)).toEqual(['R-3', 'R-2', 'R-1']);
    expect((await ok<Page<ReturnRow>>('returns.list', { filter: { search: 'SKU-NONE' } })).total).toBe(0);
    const bad = await app.core.dispatch('returns.list', { sort: { field: 'password', direction: 'asc' } });
    expect(bad.ok ? null : bad.error).toMatchObject({ code: 'VALIDATION' });
    expect(bad.ok ? '' : bad.error.message).toMatch(/sort\.field/);
  });

  it('lists exceptions by owner, severity and age, and counts them on the dashboard', async () => {
    const all = await ok<Page<ExceptionRow>>('exceptions.list', { sort: { field: 'severity', direction: 'desc' } });
    expect(all.rows.map((e) => e.type).sort()).toEqual(['RETURN_NOT_CREATED', 'STATUS_DRIFT']);
    expect(all.rows.every((e) => e.ageBucket === 'under_1d')).toBe(true);
    const ops = await ok<Page<ExceptionRow>>('exceptions.list', { filter: { owner: 'ops' } });
    expect(ops.rows.map((e) => e.type)).toEqual(['STATUS_DRIFT']);
    app.clock.advance(2 * 86_400_000);
    const older = await ok<Page<ExceptionRow>>('exceptions.list', { filter: { ageBucket: '1_3d' } });
    expect(older.total).toBe(2);
    const kpis = await ok<Kpis>('dashboard.kpis', {});
    expect(kpis.openByOwner.find((o) => o.owner === 'cs')?.count).toBe(1);
    expect(kpis.ageing.find((a) => a.bucket === '1_3d')?.count).toBe(2);
    expect(kpis.returns).toEqual({ total: 3, drifting: 1, awaitingRefund: 0 });
  });
});
