import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/sandbox/rng';
import { fitsTarget, type CallInfo } from './chaos-http';
import { drawPlan, faultKinds, lateUnitArrivals, secondEngineOrders, type FaultKind } from './plan';
import { taxModeFor } from './simulation';

// The harness's draws, without running an engine: the shapes fault is planned like the other sandbox faults and
// aimed only at calls whose answers it can reshape, late units come both ways, and some seeds run a TAX_EXCLUDED shop.

const call = (operation: string, isShaped: boolean): CallInfo => ({ system: 'mirakl', operation, isWrite: false, isUnsafeWrite: false, hasUnknownEnum: false, isShaped });

/** Every fault of one kind in the standard plans of seeds 0–39. */
const drawnOf = (kind: FaultKind) =>
  Array.from({ length: 40 }, (_, seed) => drawPlan(createRng(seed).fork('plan'), { fromMs: 0, toMs: 1000 }, 33))
    .flat()
    .filter((f) => f.kind === kind);

describe('chaos plan', () => {
  it('draws shapes faults aimed at reshaped answers', () => {
    expect(faultKinds).toContain('shapes');
    const shapes = drawnOf('shapes');
    expect(shapes.length).toBeGreaterThan(10);
    expect(new Set(shapes.map((f) => f.target))).toEqual(new Set(['shaped']));
    expect(fitsTarget('shaped', call('RT11', true))).toBe(true);
    expect(fitsTarget('shaped', call('STO03', false))).toBe(false);
  });

  it('draws sales during stock imports, before or after the import leaves, of 1 to 3 units', () => {
    const sales = drawnOf('salesDuringImport');
    expect(sales.length).toBeGreaterThan(10);
    expect(new Set(sales.map((f) => f.target))).toEqual(new Set(['unsafeWrite']));
    expect(new Set(sales.map((f) => f.variant))).toEqual(new Set(['before', 'after']));
    expect(sales.every((f) => f.amount >= 1 && f.amount <= 3)).toBe(true);
  });

  it('draws stock imports Mirakl\'s queue stalls on, for 2 to 8 hours', () => {
    const stalls = drawnOf('importStalled');
    expect(stalls.length).toBeGreaterThan(10);
    expect(new Set(stalls.map((f) => f.target))).toEqual(new Set(['unsafeWrite']));
    expect(stalls.every((f) => f.amount >= 2 * 3600 && f.amount <= 8 * 3600)).toBe(true);
  });

  it('draws late units, arriving in a parcel of their own or found at the hub', () => {
    expect(faultKinds).toContain('lateUnit');
    const late = drawnOf('lateUnit');
    expect(late.length).toBeGreaterThan(10);
    expect(new Set(late.map((f) => f.variant))).toEqual(new Set(lateUnitArrivals));
  });

  it('draws a second installation with its own database in the standard plans, open 2 to 12 steps, before or after the engine', () => {
    const second = drawnOf('secondEngineOwnDb');
    expect(second.length).toBeGreaterThan(10);
    expect(new Set(second.map((f) => f.variant))).toEqual(new Set(secondEngineOrders));
    expect(second.every((f) => f.amount >= 2 && f.amount <= 12)).toBe(true);
  });

  it('draws a restore from an older backup in the standard plans, put back 1 to 8 steps after the backup', () => {
    const restores = drawnOf('restoreBackup');
    expect(restores.length).toBeGreaterThan(10);
    expect(restores.every((f) => f.amount >= 1 && f.amount <= 8)).toBe(true);
  });

  it('runs a TAX_EXCLUDED shop for some seeds, the same one for a seed every time', () => {
    const modes = Array.from({ length: 40 }, (_, i) => taxModeFor(i + 1));
    expect(modes.filter((m) => m === 'TAX_EXCLUDED').length).toBeGreaterThan(4);
    expect(modes.filter((m) => m === 'TAX_INCLUDED').length).toBeGreaterThan(20);
    expect(Array.from({ length: 40 }, (_, i) => taxModeFor(i + 1))).toEqual(modes);
  });
});
