import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createMemoryBudgetStore } from '../net/budget-guard';
import { fetchHttp } from '../net/http';
import { memoryJournal } from '../net/journal';
import { isApiError } from '../net/api-error';
import { defaultScenario, startSandbox, type Sandbox } from '../sandbox/index';
import { createMiraklClient, type MiraklClient } from './client';

describe('Mirakl client', () => {
  let sandbox: Sandbox;
  let client: MiraklClient;
  let journal: ReturnType<typeof memoryJournal>;
  const clock = createFakeClock(defaultScenario.startMs + 60_000);

  beforeEach(async () => {
    sandbox = await startSandbox({ seed: 3, clock, scenario: { ordersPerDay: 60, historyDays: 6, returnAfterDays: [0, 2] } });
    journal = memoryJournal();
    client = createMiraklClient({
      baseUrl: sandbox.mirakl.baseUrl,
      apiKey: async () => sandbox.mirakl.apiKey,
      shopId: sandbox.mirakl.shopId,
      clock,
      http: fetchHttp,
      journal,
      budgets: createMemoryBudgetStore(),
    });
  });
  afterEach(() => sandbox.close());

  it('parses answers with unknown enum values and extra fields', async () => {
    sandbox.setFaults('mirakl', { '*': { unknownEnumRate: 1, extraFieldsRate: 1 } });
    const page = await client.listReturns({ limit: 20 });
    expect(page.data[0]?.state).toBe('SANDBOX_UNANNOUNCED_VALUE');
    expect(page.data[0]).not.toHaveProperty('sandbox_extra_field');
    const { orders } = await client.ordersById(page.data.slice(0, 5).map((r) => r.order_id), 'TAX_INCLUDED');
    expect(orders.length).toBeGreaterThan(0);
  });

  it('keeps its own call budget: a second RT11 within five minutes is not sent', async () => {
    await client.listReturns({});
    const error = await client.listReturns({}).catch((e: unknown) => e);
    expect(isApiError(error) && error.kind).toBe('rate_limited');
    expect(sandbox.miraklServer.counters.RT11?.calls).toBe(1);
    clock.advance(5 * 60_000);
    await client.listReturns({});
    expect(sandbox.miraklServer.counters.RT11?.calls).toBe(2);
  });

  it('reports a refund whose answer was lost as uncertain, and 5xx on a refund too', async () => {
    const line = sandbox.world.returnsList()[0]?.lines[0]?.orderLineId ?? '';
    const refund = { order_line_id: line, amount: 1, shipping_amount: 0, reason_code: '11', quantity: 1, currency_iso_code: 'GBP', taxes: [], shipping_taxes: [] };
    sandbox.setFaults('mirakl', { OR28: { lostResponseRate: 1 } });
    const lost = await client.refund([refund], 'TAX_INCLUDED').catch((e: unknown) => e);
    expect(isApiError(lost) && lost.kind).toBe('uncertain');
    sandbox.setFaults('mirakl', { OR28: { serverErrorRate: 1 } });
    const failed = await client.refund([refund], 'TAX_INCLUDED').catch((e: unknown) => e);
    expect(isApiError(failed) && failed.kind).toBe('uncertain');
    sandbox.setFaults('mirakl', { RE01: { serverErrorRate: 1 } });
    const read = await client.reasons().catch((e: unknown) => e);
    expect(isApiError(read) && read.kind).toBe('server');
  });

  it('honours Retry-After from a 429 and never journals the API key', async () => {
    sandbox.setFaults('mirakl', { RE01: { rateLimitStormRate: 1, rateLimitStormSeconds: 42 } });
    const error = await client.reasons().catch((e: unknown) => e);
    expect(isApiError(error) && error.kind).toBe('rate_limited');
    expect(isApiError(error) && error.retryAfterMs).toBe(42_000);
    expect(JSON.stringify(journal.entries)).not.toContain(sandbox.mirakl.apiKey);
  });
});
