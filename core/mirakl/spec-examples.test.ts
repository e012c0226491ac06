import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFakeClock } from '../adapters/fake-clock';
import { createMemoryBudgetStore } from '../net/budget-guard';
import { memoryJournal } from '../net/journal';
import { createMiraklClient, type MiraklClient } from './client';

// Every response example Mirakl publishes for an operation the engine calls is an answer the client must read: the
// examples are the best evidence of what Mirakl sends (nulls, older placements, deprecated fields alone). One `it`
// per example, named after it, so a refreshed spec that adds or changes an example shows up here by name.
// STO03 answers CSV and is read by csv-parse, not by a schema: it is left out.

const examplesFile = new URL('../sandbox/mirakl/openapi/mirakl-seller-examples.json', import.meta.url);

const examplesDocument = z.object({
  operations: z.record(
    z.string(),
    z.object({
      responses: z.record(z.string(), z.record(z.string(), z.object({ mediaType: z.string(), summary: z.string().nullable(), value: z.unknown() }))),
    }),
  ),
});

const document = examplesDocument.parse(JSON.parse(readFileSync(examplesFile, 'utf8')));

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Reads `value` as the client does for `operation` and checks that every record in it was read. */
type Reader = (client: MiraklClient, value: unknown) => Promise<void>;

const batchRead =
  (call: (client: MiraklClient) => Promise<{ return_success: { id: string }[]; return_errors: { id: string; message: string }[] }>): Reader =>
  async (client, value) => {
    const answer = await call(client);
    expect(answer.return_success.map((s) => s.id)).toEqual(asList(asObject(value)['return_success']).map((s) => asObject(s)['id']));
    expect(answer.return_errors).toEqual(asList(asObject(value)['return_errors']).map((e) => ({ id: asObject(e)['id'], message: asObject(e)['message'] })));
  };

const readers: Record<string, Reader> = {
  RT11: async (client, value) => {
    const page = await client.listReturns({ limit: 100 });
    expect(page.quarantined).toEqual([]);
    const raw = asList(asObject(value)['data']);
    expect(page.data.map((r) => r.id)).toEqual(raw.map((r) => asObject(r)['id']));
    expect(page.data.map((r) => r.return_lines.length)).toEqual(raw.map((r) => asList(asObject(r)['return_lines']).length));
  },
  OR11: async (client, value) => {
    const read = await client.ordersById(['Order_00010-A'], 'TAX_EXCLUDED');
    expect(read.quarantined).toEqual([]);
    const raw = asList(asObject(value)['orders']);
    expect(read.orders.map((o) => o.order_id)).toEqual(raw.map((o) => asObject(o)['order_id']));
    // Lines and their refunds are read inside their order: none may be dropped on the way.
    const shape = (lines: unknown[]) => lines.map((l) => asList(asObject(l)['refunds']).length);
    expect(read.orders.map((o) => o.order_lines.map((l) => l.refunds.length))).toEqual(raw.map((o) => shape(asList(asObject(o)['order_lines']))));
    // The customer's anonymised address is the only email Mirakl gives a shop; CS finds a customer's returns by it.
    expect(read.orders.map((o) => o.customer_notification_email ?? null)).toEqual(raw.map((o) => asObject(o)['customer_notification_email'] ?? null));
  },
  OR28: async (client, value) => {
    const refund = { order_line_id: 'Order_00010-A-1', amount: 1.5, shipping_amount: 2, reason_code: '15', quantity: 1, currency_iso_code: 'USD', taxes: [], shipping_taxes: [] };
    const answer = await client.refund([refund], 'TAX_EXCLUDED');
    expect(answer.refunds.map((r) => r.refund_id)).toEqual(asList(asObject(value)['refunds']).map((r) => asObject(r)['refund_id']));
  },
  RE01: async (client, value) => {
    const reasons = await client.reasons();
    expect(reasons.map((r) => r.code)).toEqual(asList(asObject(value)['reasons']).map((r) => asObject(r)['code']));
  },
  OF21: async (client, value) => {
    // OF21 is asked for one shop SKU: each offer of the example is asked for by its own shop_sku.
    const offers = asList(asObject(value)['offers']);
    expect(offers.length).toBeGreaterThan(0);
    for (const raw of offers) {
      const sku = String(asObject(raw)['shop_sku']);
      const offer = await client.offerBySku(sku);
      expect(offer).toMatchObject({ shop_sku: sku, offer_id: String(asObject(raw)['offer_id']), quantity: asObject(raw)['quantity'] });
    }
  },
  STO01: async (client, value) => {
    expect(await client.importStock([{ sku: 'S2002', quantity: 3 }])).toBe(String(asObject(value)['import_id']));
  },
  STO02: async (client, value) => {
    const status = await client.importStatus('2019');
    expect(status).toMatchObject({ import_id: String(asObject(value)['import_id']), status: asObject(value)['status'] });
  },
  RT04: batchRead((client) => client.patch([{ id: '2dc4f7d7-da59-4588-bec7-ce62daab2f93', rma: 'RETURN_RMA' }])),
  RT21: batchRead((client) => client.accept([{ id: 'b77907cb-f72e-4f69-aac3-14df566311de', accepted: true }])),
  RT25: batchRead((client) => client.receive(['b77907cb-f72e-4f69-aac3-14df566311de'])),
  RT26: batchRead((client) =>
    client.compliance([{ id: 'b77907cb-f72e-4f69-aac3-14df566311de', return_lines: [{ order_line_id: 'ORDER-1-A-1', compliant: true }] }]),
  ),
  RT27: batchRead((client) => client.close(['b77907cb-f72e-4f69-aac3-14df566311de'])),
};

/**
 * Examples that must NOT be read, and why. Each one lacks something the engine needs to act; the test asserts the
 * record is quarantined with a problem naming that field, and that nothing else in the answer is lost.
 */
const quarantinedByDesign: Record<string, { read: Reader; why: string }> = {
  // "Complete example with value types": Mirakl fills every integer with 0, so its one return has a line of 0 units.
  // A return line is the number of units the customer sends back; the engine expects, receives, refunds and restocks
  // exactly that many, and 0 units would plan nothing while marking the line handled. The business-value example
  // (application/json-0) has quantities 2, 3 and 1 and is read in full.
  'RT11 200 application/json-auto': {
    why: 'its return line has quantity 0 (the placeholder for an integer); a return line needs at least 1 unit',
    read: async (client, value) => {
      const page = await client.listReturns({ limit: 100 });
      expect(page.data).toEqual([]);
      expect(page.quarantined).toHaveLength(1);
      const [quarantined] = page.quarantined;
      expect(quarantined).toMatchObject({ operation: 'RT11', key: 'string' });
      expect(quarantined?.problem).toBe('return string: return_lines[0].quantity: expected a whole number above 0');
      expect(JSON.parse(quarantined?.raw ?? 'null')).toEqual(asList(asObject(value)['data'])[0]);
      // The page itself still reads: its token leads on to the next page.
      expect(page.next_page_token).toBe('string');
    },
  },
};

/** The operations the engine calls through the client (STO03 is CSV: see the top of the file). */
const operations = ['RT11', 'OR11', 'OR28', 'RE01', 'OF21', 'STO01', 'STO02', 'RT04', 'RT21', 'RT25', 'RT26', 'RT27'] as const;

function clientAnswering(value: unknown, status: number): MiraklClient {
  return createMiraklClient({
    baseUrl: 'https://mirakl.test',
    apiKey: async () => 'key',
    clock: createFakeClock(),
    // OR11 follows offset pages: after the example's page, Mirakl answers an empty one.
    http: async (request) => {
      const isLaterPage = Number(new URL(request.url).searchParams.get('offset') ?? '0') > 0;
      return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(isLaterPage ? { orders: [], total_count: 0 } : value) };
    },
    journal: memoryJournal(),
    budgets: createMemoryBudgetStore(),
  });
}

const jsonExamples = operations.flatMap((operation) =>
  Object.entries(document.operations[operation]?.responses ?? {}).flatMap(([status, byName]) =>
    Object.entries(byName)
      .filter(([, example]) => example.mediaType === 'application/json')
      .map(([name, example]) => ({ operation, status, name, value: example.value })),
  ),
);

describe('the response examples of the Mirakl seller spec', () => {
  it('has a JSON response example for every operation the engine reads through the client', () => {
    const covered = new Set(jsonExamples.map((e) => e.operation));
    expect(operations.filter((operation) => !covered.has(operation))).toEqual([]);
  });

  it('names only examples that exist among the ones quarantined by design', () => {
    const names = new Set(jsonExamples.map((e) => `${e.operation} ${e.status} ${e.name}`));
    expect(Object.keys(quarantinedByDesign).filter((key) => !names.has(key))).toEqual([]);
  });

  for (const example of jsonExamples) {
    const key = `${example.operation} ${example.status} ${example.name}`;
    const byDesign = quarantinedByDesign[key];
    const reader = readers[example.operation];
    if (!reader) throw new Error(`no reader for ${example.operation}`);
    if (byDesign) {
      it(`${key} is quarantined: ${byDesign.why}`, async () => {
        await byDesign.read(clientAnswering(example.value, Number(example.status)), example.value);
      });
    } else {
      it(`${key} parses`, async () => {
        await reader(clientAnswering(example.value, Number(example.status)), example.value);
      });
    }
  }
});
