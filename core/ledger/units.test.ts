import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createExceptionStore } from './exceptions';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { createPhysicalStore, type ReturnOrderSnapshot } from './units';

const sellable = ['A_SELLABLE', 'B_SELLABLE_MINOR'];

function snapshot(status: string, items: Partial<ReturnOrderSnapshot['items'][number]>[]): ReturnOrderSnapshot {
  return {
    reboundOrderId: '(00)687000000000000001',
    clientOrderId: 'O-1',
    status,
    createdAt: '2026-10-01T00:00:00Z',
    updatedAt: '2026-10-02T00:00:00Z',
    parcels: [{ trackingNumber: 'RB1GB', carrier: 'ROYAL_MAIL' }],
    items: items.map((i, n) => ({
      reboundItemId: `(00)98700000000000000${n + 1}`,
      clientItemId: 'O-1-1',
      sku: 'TEE-RED-S',
      quantity: '1',
      reasonCode: 'Too small',
      received: null,
      grade: null,
      disposition: null,
      ...i,
    })),
  };
}

describe('unit state machine', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  const clock = createFakeClock();
  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('moves units forward only: a late, older snapshot never moves one back', () => {
    const exceptions = createExceptionStore(store.db, clock);
    const physical = createPhysicalStore(store.db, clock, exceptions);
    physical.createUnits('R-1', [{ orderLineId: 'O-1-1', quantity: 2, offerSku: 'TEE-RED-S' }]);
    physical.applySnapshot('R-1', snapshot('LABEL_ISSUED', [{}, {}]), sellable);
    physical.applySnapshot('R-1', snapshot('PROCESSED', [{ received: '1', grade: 'A_SELLABLE' }, { received: '1', grade: 'D_DAMAGED' }]), sellable);
    const graded = physical.units('R-1').map((u) => [u.stage, u.grade, u.is_sellable]);
    expect(graded).toEqual([
      ['graded', 'A_SELLABLE', 1],
      ['graded', 'D_DAMAGED', 0],
    ]);
    // A notification from the carrier, delivered late, arrives after the grading.
    const late = physical.applySnapshot('R-1', snapshot('IN_CARRIER_NETWORK', [{}, {}]), sellable);
    expect(late.unitsAdvanced).toBe(0);
    expect(physical.units('R-1').map((u) => [u.stage, u.grade, u.is_sellable])).toEqual(graded);
    expect(physical.returnOrderOf('R-1')?.status).toBe('PROCESSED');
  });

  it('marks units that never arrived missing and extra items unexpected, raising one exception each', () => {
    const exceptions = createExceptionStore(store.db, clock);
    const physical = createPhysicalStore(store.db, clock, exceptions);
    physical.createUnits('R-2', [{ orderLineId: 'O-1-1', quantity: 2, offerSku: 'TEE-RED-S' }]);
    physical.applySnapshot('R-2', snapshot('LABEL_ISSUED', [{}, {}]), sellable);
    const registered = snapshot('ITEMS_REGISTERED', [{ received: '1' }, { received: '0' }]);
    registered.items.push({ ...registered.items[0]!, reboundItemId: '(00)987999', clientItemId: 'Not available', sku: 'Not available', received: '1' });
    physical.applySnapshot('R-2', registered, sellable);
    physical.applySnapshot('R-2', registered, sellable);
    expect(physical.units('R-2').map((u) => u.stage)).toEqual(['registered', 'missing']);
    expect(exceptions.listOpen().map((e) => e.type).sort()).toEqual(['SHORT_RECEIPT', 'UNEXPECTED_ITEM']);
  });

  it('lets a unit ReBound first reported missing be registered when it turns up, and keeps the first registration', () => {
    const exceptions = createExceptionStore(store.db, clock);
    const physical = createPhysicalStore(store.db, clock, exceptions);
    physical.createUnits('R-4', [{ orderLineId: 'O-1-1', quantity: 2, offerSku: 'TEE-RED-S' }]);
    physical.applySnapshot('R-4', snapshot('ITEMS_REGISTERED', [{ received: '1' }, { received: '0' }]), sellable);
    expect(physical.units('R-4').map((u) => u.stage)).toEqual(['registered', 'missing']);
    clock.advance(60_000);
    physical.applySnapshot('R-4', snapshot('ITEMS_REGISTERED', [{ received: '1' }, { received: '1' }]), sellable);
    const units = physical.units('R-4');
    expect(units.map((u) => u.stage)).toEqual(['registered', 'registered']);
    const at = store.db.prepare('SELECT registered_at FROM units WHERE return_id = ? ORDER BY id').pluck().all('R-4') as string[];
    expect(at[1]! > at[0]!).toBe(true);
    // A snapshot that still says missing, delivered late, does not move the found unit back.
    physical.applySnapshot('R-4', snapshot('ITEMS_REGISTERED', [{ received: '1' }, { received: '0' }]), sellable);
    expect(physical.units('R-4').map((u) => u.stage)).toEqual(['registered', 'registered']);
  });

  it('marks the units of an expired return order lost, never registered (nothing came back)', () => {
    const exceptions = createExceptionStore(store.db, clock);
    const physical = createPhysicalStore(store.db, clock, exceptions);
    physical.createUnits('R-5', [{ orderLineId: 'O-1-1', quantity: 1, offerSku: 'TEE-RED-S' }]);
    physical.applySnapshot('R-5', snapshot('LABEL_ISSUED', [{}]), sellable);
    physical.applySnapshot('R-5', snapshot('EXPIRED', [{}]), sellable);
    expect(store.db.prepare(`SELECT stage, registered_at FROM units WHERE return_id = 'R-5'`).all()).toEqual([{ stage: 'lost', registered_at: null }]);
  });

  it('records an unknown status without moving anything', () => {
    const exceptions = createExceptionStore(store.db, clock);
    const physical = createPhysicalStore(store.db, clock, exceptions);
    physical.createUnits('R-3', [{ orderLineId: 'O-1-1', quantity: 1, offerSku: 'TEE-RED-S' }]);
    const changes = physical.applySnapshot('R-3', snapshot('TELEPORTED', [{}]), sellable);
    expect(changes.unitsAdvanced).toBe(0);
    expect(physical.units('R-3')[0]?.stage).toBe('requested');
  });
});
