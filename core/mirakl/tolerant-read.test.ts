import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { isApiError } from '../net/api-error';
import { createMemoryBudgetStore } from '../net/budget-guard';
import type { HttpRequest, HttpResponse } from '../net/http';
import { memoryJournal } from '../net/journal';
import { createMiraklClient } from './client';

// Mirakl answers the way its published examples do, not the way its schemas say. These records are copied from
// the response examples of the seller OpenAPI (RT11 "Example with business values", OR11 likewise): nulls for what
// is not set, the reason on the return instead of on each line, tracking in camelCase, refunds with the deprecated
// `state` alone. The client must read them, and one unreadable record must never cost the rest of its page.

const rt11Example = {
  data: [
    {
      date_created: '2023-02-27T16:14:52Z',
      description: 'Description of return',
      documents: [{ id: 1337, type: 'SYSTEM_RETURN_LABEL' }],
      id: 'f61b5db8-d8f5-4715-b05f-aa4432c0e9e2',
      label_url: null,
      last_updated: '2023-02-27T16:14:52Z',
      method_code: 'RETURN_METHOD_BY_MAIL',
      order_commercial_id: 'ORDER-1',
      order_id: 'ORDER-1-A',
      reason_code: 'RETURN_CHANGED_MIND',
      rejection_reason_code: null,
      return_address: { city: 'New York', country_iso_code: 'USA', state: 'Manhattan', street1: '30, Prince Street', street2: '1st floor', zip_code: 'NY 10012' },
      return_lines: [
        {
          compliance: [{ compliant: false, non_compliance_additional_info: 'There is a missing item', non_compliance_reason_code: 'RETURN_NON_COMPLIANT_MISSING_ITEM' }],
          order_line_id: 'ORDER-1-A-1',
          quantity: 2,
        },
        { compliance: null, order_line_id: 'ORDER-1-A-2', quantity: 3 },
      ],
      rma: 'RETURN_RMA',
      state: 'WAITING_ACCEPTANCE',
      tracking: { carrierCode: 'UPS', carrierName: 'UPS', carrier_standard_code: 'ups', tracking_number: '35H8O95K', tracking_url: 'https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums=35H8O95K' },
    },
    {
      date_created: '2023-02-27T16:32:52Z',
      documents: [],
      id: '2dc4f7d7-da59-4588-bec7-ce62daab2f93',
      label_url: 'https://www.label-url.com',
      last_updated: '2023-02-27T16:37:19Z',
      method_code: 'RETURN_METHOD_DROP_OFF',
      order_commercial_id: 'ORDER-2',
      order_id: 'ORDER-2-A',
      reason_code: 'RETURN_COUNTERFEIT_ITEM',
      rejection_reason_code: 'RETURN_REJECTION_NOT_ELIGIBLE',
      return_address: { city: 'New York', country_iso_code: 'USA', state: 'Manhattan', street1: '30, Prince Street', street2: '1st floor', zip_code: 'NY 10012' },
      return_lines: [{ compliance: [{ compliant: true, non_compliance_additional_info: null, non_compliance_reason_code: null }], order_line_id: 'ORDER-2-A-1', quantity: 1 }],
      rma: null,
      state: 'REFUSED',
      tracking: null,
    },
  ],
  next_page_token: 'dGhpcy1pcy1hLWZha2UtcGFnZS10b2tlbi1wbGVhc2UtcmVseS1vbi10aGUtdG9rZW4tcHJvdmlkZWQtYnktdGhlLWFwaS1yZXNwb25zZQo=',
  previous_page_token: null,
};

const or11Refund = {
  amount: 6.82,
  commission_amount: 1.69,
  commission_tax_amount: 0,
  commission_taxes: [{ amount: 0, code: 'TAXZERO' }],
  commission_total_amount: 1.69,
  created_date: '2022-08-04T09:40:41Z',
  id: '1106',
  order_refund_id: 'f029dc92-e5ae-4b89-b342-cf254ddd4b4d',
  quantity: 0,
  reason_code: '19',
  shipping_amount: 1.79,
  shipping_taxes: [{ amount: 2.24, code: 'tax1', rate: 17.5 }, { amount: 2.24, code: 'tax2', rate: 17.5 }],
  state: 'WAITING_REFUND_PAYMENT',
  taxes: [{ amount: 0.41, code: 'tax1', rate: 17.5 }, { amount: 0.41, code: 'tax2', rate: 17.5 }],
};

const or11Example = {
  orders: [
    {
      commercial_id: 'Order_00010',
      created_date: '2019-04-02T14:18:43Z',
      currency_iso_code: 'USD',
      customer: { customer_id: 'Customer_id_001', firstname: 'Smith', lastname: 'Taylor', shipping_address: { city: 'New York', country_iso_code: 'USA', street_1: '113 MacDougal Street', zip_code: 'NY 10012' } },
      last_updated_date: '2019-04-02T14:59:58Z',
      order_id: 'Order_00010-A',
      order_state: 'RECEIVED',
      order_state_reason_code: null,
      order_tax_mode: 'TAX_EXCLUDED',
      order_lines: [
        {
          can_refund: true,
          description: null,
          offer_id: 2130,
          offer_sku: 'S2000',
          order_line_id: 'Order_00010-A-1',
          order_line_state: 'RECEIVED',
          price: 165,
          price_unit: 55,
          product_sku: 'MKP100000000037254',
          product_title: 'Breville Cafe Roma Stainless Espresso/Cappuccino Machine - ESP8C',
          quantity: 3,
          refunds: [or11Refund],
          shipping_price: 8,
          shipping_taxes: [{ amount: 10, code: 'tax1', rate: 17.5 }, { amount: 10, code: 'tax2', tax_calculation_rule: 'PROPORTIONAL_TO_AMOUNT' }],
          taxes: [{ amount: 10, code: 'tax1', rate: 17.5, tax_calculation_rule: 'NONE' }, { amount: 10, code: 'tax2' }],
        },
      ],
    },
  ],
  total_count: 1,
};

function clientAnswering(answer: (request: HttpRequest) => HttpResponse) {
  const requests: HttpRequest[] = [];
  const client = createMiraklClient({
    baseUrl: 'https://mirakl.test',
    apiKey: async () => 'key',
    clock: createFakeClock(),
    http: async (request) => {
      requests.push(request);
      return answer(request);
    },
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
  });
  return { client, requests };
}

const json = (body: unknown, status = 200): HttpResponse => ({ status, headers: {}, body: JSON.stringify(body) });

describe('reading Mirakl as it answers', () => {
  it("reads the RT11 example Mirakl publishes: nulls, the reason on the return, tracking in camelCase", async () => {
    const { client } = clientAnswering(() => json(rt11Example));
    const page = await client.listReturns({ limit: 10 });
    expect(page.data.map((r) => r.id)).toEqual(['f61b5db8-d8f5-4715-b05f-aa4432c0e9e2', '2dc4f7d7-da59-4588-bec7-ce62daab2f93']);
    const [first, second] = page.data;
    expect(first?.return_lines.map((l) => l.reason_code)).toEqual(['RETURN_CHANGED_MIND', 'RETURN_CHANGED_MIND']);
    expect(first?.tracking?.carrier_code).toBe('UPS');
    expect(first?.label_url ?? null).toBeNull();
    expect(second?.rma ?? null).toBeNull();
    expect(second?.tracking ?? null).toBeNull();
  });

  it('reads OR11 refunds that carry only the deprecated state', async () => {
    const { client } = clientAnswering(() => json(or11Example));
    const read = await client.ordersById(['Order_00010-A'], 'TAX_EXCLUDED');
    const refund = read.orders[0]?.order_lines[0]?.refunds[0];
    expect(refund?.refund_state).toBe('WAITING_REFUND_PAYMENT');
    expect(refund?.taxes.map((t) => t.code)).toEqual(['tax1', 'tax2']);
  });

  it('quarantines one unreadable return and keeps the rest of the page', async () => {
    const broken = { ...rt11Example.data[0], id: 'broken-1', return_lines: [{ order_line_id: 'L-1', quantity: 'two' }] };
    const { client } = clientAnswering(() => json({ ...rt11Example, data: [broken, rt11Example.data[1]] }));
    const page = await client.listReturns({ limit: 10 });
    expect(page.data.map((r) => r.id)).toEqual(['2dc4f7d7-da59-4588-bec7-ce62daab2f93']);
    expect(page.quarantined).toHaveLength(1);
    expect(page.quarantined[0]?.key).toBe('broken-1');
    expect(page.quarantined[0]?.problem).toContain('return_lines[0].quantity');
    expect(JSON.parse(page.quarantined[0]?.raw ?? '{}')).toMatchObject({ id: 'broken-1' });
    expect(page.next_page_token).toBe(rt11Example.next_page_token);
  });

  it('refuses a record without what the engine needs to act, naming the record and the field', async () => {
    const noCurrency = { ...or11Example.orders[0], currency_iso_code: null };
    const { client } = clientAnswering(() => json({ orders: [noCurrency], total_count: 1 }));
    const read = await client.ordersById(['Order_00010-A'], 'TAX_INCLUDED');
    expect(read.orders).toEqual([]);
    expect(read.quarantined[0]?.problem).toMatch(/^order Order_00010-A: currency_iso_code/);
  });

  it('reads decimals Mirakl sends as strings', async () => {
    const line = { ...or11Example.orders[0]?.order_lines[0], price: '165.00', price_unit: '55', quantity: '3' };
    const { client } = clientAnswering(() => json({ orders: [{ ...or11Example.orders[0], order_lines: [line] }], total_count: 1 }));
    const read = await client.ordersById(['Order_00010-A'], 'TAX_INCLUDED');
    expect(read.orders[0]?.order_lines[0]).toMatchObject({ price: 165, price_unit: 55, quantity: 3 });
  });

  it('asks OR11 and sends OR28 in the tax mode it is given', async () => {
    const { client, requests } = clientAnswering((request) =>
      request.method === 'GET'
        ? json(or11Example)
        : json({ refunds: [{ refund_id: '7', order_refund_id: 'r-7', order_line_id: 'Order_00010-A-1', amount: 1.5, shipping_amount: 0, quantity: 1, reason_code: '15' }] }),
    );
    await client.ordersById(['Order_00010-A'], 'TAX_EXCLUDED');
    expect(new URL(requests[0]?.url ?? '').searchParams.get('order_tax_mode')).toBe('TAX_EXCLUDED');
    const refund = { order_line_id: 'Order_00010-A-1', amount: 1.5, shipping_amount: 0, reason_code: '15', quantity: 1, currency_iso_code: 'USD', taxes: [], shipping_taxes: [] };
    await client.refund([refund], 'TAX_EXCLUDED');
    expect(JSON.parse(String(requests[1]?.body))).toMatchObject({ order_tax_mode: 'TAX_EXCLUDED' });
  });

  it('treats a 2xx refund answer it cannot read as uncertain, never as failed', async () => {
    const { client } = clientAnswering(() => ({ status: 200, headers: {}, body: '<html>upstream proxy</html>' }));
    const refund = { order_line_id: 'L-1', amount: 1, shipping_amount: 0, reason_code: '15', quantity: 1, currency_iso_code: 'GBP', taxes: [], shipping_taxes: [] };
    const error = await client.refund([refund], 'TAX_INCLUDED').catch((e: unknown) => e);
    expect(isApiError(error) && error.kind).toBe('uncertain');
  });
});
