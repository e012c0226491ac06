import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { isApiError } from '../net/api-error';
import { createMemoryBudgetStore } from '../net/budget-guard';
import type { HttpRequest, HttpResponse } from '../net/http';
import { memoryJournal } from '../net/journal';
import { createReboundClient } from './client';

// ReBound answers that cannot be read are shown to a person, not retried in silence; a create whose answer cannot be
// read may still have created the return, so it is uncertain.

function clientAnswering(answer: (request: HttpRequest) => HttpResponse) {
  return createReboundClient({
    baseUrl: 'https://rebound.test',
    clientId: 'client',
    clientSecret: async () => 'secret',
    clock: createFakeClock(),
    http: async (request) =>
      request.url.endsWith('/oauth/token') ? { status: 200, headers: {}, body: JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 1800 }) } : answer(request),
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
  });
}

const returnOrder = {
  reboundOrderId: '(00)687000000000000001',
  clientOrderId: 'ORDER-1-A',
  status: 'AT_HUB',
  createdAt: '2026-11-01T10:00:00Z',
  updatedAt: '2026-11-02T10:00:00Z',
  location: null,
  parcels: [{ trackingNumber: 'ZZ1GB', carrier: null, label: null, qrCodeUrl: null }],
  items: [{ reboundItemId: '(00)9870001', clientItemId: 'ORDER-1-A-1', sku: 'S1', quantity: '1', reasonCode: 'Too large', received: null }],
};

describe('reading ReBound as it answers', () => {
  it('reads a return order with nulls where nothing is known yet', async () => {
    const client = clientAnswering(() => ({ status: 200, headers: {}, body: JSON.stringify(returnOrder) }));
    const ro = await client.getReturnOrder(returnOrder.reboundOrderId);
    expect(ro?.parcels[0]?.carrier).toBeNull();
    expect(ro?.items[0]?.quantity).toBe(1);
  });

  it('hands back a return order it cannot read, raw, so it can be held aside', async () => {
    const broken = { ...returnOrder, items: [{ ...returnOrder.items[0], quantity: 'one' }] };
    const client = clientAnswering(() => ({ status: 200, headers: {}, body: JSON.stringify(broken) }));
    const error = await client.getReturnOrder(returnOrder.reboundOrderId).catch((e: unknown) => e);
    expect(isApiError(error) && error.kind).toBe('invalid_response');
    const held = isApiError(error) ? error.quarantined : undefined;
    expect(held?.key).toBe(returnOrder.reboundOrderId);
    expect(held?.problem).toContain('items[0].quantity');
    expect(JSON.parse(held?.raw ?? '{}')).toMatchObject({ clientOrderId: 'ORDER-1-A' });
  });

  it('treats a 2xx create answer it cannot read as uncertain', async () => {
    const client = clientAnswering(() => ({ status: 201, headers: {}, body: '{"reboundOrderId": ' }));
    const error = await client.createReturnOrder({ clientOrderId: 'ORDER-1-A', items: [{ clientItemId: 'ORDER-1-A-1', sku: 'S1', quantity: 1, reasonCode: 'Too large', wish: 'REFUND' }] }).catch((e: unknown) => e);
    expect(isApiError(error) && error.kind).toBe('uncertain');
  });
});
