import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import { createRng } from '../rng';
import { defaultScenario, type Scenario } from '../scenario';
import { createReboundSim, type ReboundSim, type ReboundSimOptions } from './sim';

// Shared by the ReBound simulator's tests: a world with no surprises unless a test asks for them.

export const credentials = { clientId: 'workbench', clientSecret: 'sandbox-secret' };

export const calmScenario: Scenario = {
  ...defaultScenario,
  parcelNeverSentRate: 0,
  shortReceiptRate: 0,
  unexpectedItemRate: 0,
  wrongSkuRate: 0,
  damagedRate: 0,
  nonSellableRate: 0,
  duplicateNotificationRate: 0,
  outOfOrderNotificationRate: 0,
};

export function buildSim(overrides: Partial<ReboundSimOptions> & { seed?: number; clock?: FakeClock } = {}): { sim: ReboundSim; clock: FakeClock } {
  const clock = overrides.clock ?? createFakeClock(Date.UTC(2026, 9, 1));
  const sim = createReboundSim({
    clock,
    rng: createRng(overrides.seed ?? 42),
    scenario: calmScenario,
    credentials,
    pickOtherSku: (rng, notSku) => `${notSku}-OTHER-${rng.int(1, 3)}`,
    ...overrides,
  });
  return { sim, clock };
}

export function salesOrder(clientOrderId: string, lines: { clientItemId: string; sku: string; quantity: string }[] = [{ clientItemId: 'LINE-1', sku: 'SKU-1', quantity: '1' }]) {
  return {
    clientOrderId,
    clientOrderCreatedDate: '2026-09-20T10:00:00Z',
    businessUnit: 'asos-marketplace',
    customerAddress: { name: 'A Customer', postcode: 'NN1 1AA', countryCode: 'GB' },
    salesItems: lines.map((l) => ({ ...l, ean: '5000000000001', articleDescription: `Item ${l.sku}`, commercialValue: '19.99', commercialValueCurrency: 'GBP' })),
    clientMetadata: [{ key: 'miraklShopId', value: '2001' }],
  };
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
