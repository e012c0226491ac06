import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { defaultScenario, startSandbox, type Sandbox } from '../../core/sandbox/index';
import { createRng } from '../../core/sandbox/rng';
import { buildEngine, fastWorld, type EngineParts } from '../support/engine-harness';
import { makeTempDir } from '../support/temp-dir';

// ReBound refused this engine's creation of a return order for good (RETURN_NOT_CREATED, waiting for a person), and
// then the return went on without it: another installation created the return order and Mirakl now shows the return
// received. Once Mirakl no longer expects the return to be created, the exception converges — so the engine must look
// for the return order ReBound holds (as for a return received before it reached this database) rather than keep the
// return parked on a create nobody will retry, whose units it would then never refund nor restock. Found by the chaos
// harness (secondEngineOwnDb, seed 19).

const minute = 60_000;

describe('a return whose create ReBound refused, received through a return order made elsewhere', () => {
  const tempA = makeTempDir();
  const tempB = makeTempDir();
  const clock = createFakeClock(defaultScenario.startMs + minute);
  let sandbox: Sandbox;
  let a: EngineParts;
  let b: EngineParts;
  let salesOrders = 0;
  // Every return order create is refused, and every other sales order (then the return never gets as far as its create).
  const refuseCreates: HttpPort = async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === 'POST' && (path === '/return-orders' || (path === '/sales-orders' && salesOrders++ % 2 === 0))) {
      return { status: 422, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'validation_failed', message: 'The request failed validation' } }) };
    }
    return fetchHttp(request);
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ seed: 31, clock, scenario: fastWorld({ historyDays: 1, ordersPerDay: 16, days: 2 }) });
    const build = (dataDir: string, http: HttpPort, key: string) =>
      buildEngine({ dataDir, clock, http, targets: sandbox, random: createRng(31).fork(key), mappings: loadMappings(shippedMappingsDir), webhook: null });
    a = build(tempA.dir, refuseCreates, 'engine-a');
    // A alone for half a day: every create it sends is refused.
    for (let i = 0; i < 36; i++) {
      clock.advance(20 * minute);
      sandbox.advance();
      await a.engine.runCycle();
    }
    b = build(tempB.dir, fetchHttp, 'engine-b');
    // The other installation syncs for two days: it creates the return orders, ReBound receives the parcels, and it
    // tells Mirakl the returns were received.
    for (let i = 0; i < 144; i++) {
      clock.advance(20 * minute);
      sandbox.advance();
      await a.engine.runCycle();
      // Minutes apart: both share the shop's API rate limits (RT11: one first page per 5 minutes).
      clock.advance(7 * minute);
      sandbox.advance();
      await b.engine.runCycle();
    }
    b.store.close();
    // Then A alone for a day.
    for (let i = 0; i < 72; i++) {
      clock.advance(20 * minute);
      sandbox.advance();
      await a.engine.runCycle();
    }
  }, 600_000);

  afterAll(async () => {
    a?.store.close();
    await sandbox?.close();
    tempA.remove();
    tempB.remove();
  });

  it('follows the return order ReBound holds once Mirakl shows the return received, or says why not', () => {
    const db = a.store.db;
    const refused = (kind: string) => new Set((db.prepare(`SELECT subject FROM intents WHERE kind = ? AND state = 'failed' AND next_attempt_at IS NULL`).all(kind) as { subject: string }[]).map((r) => r.subject));
    const refusedReturns = refused('rebound.createReturn');
    const refusedOrders = refused('rebound.salesOrder');
    const truth = sandbox.truth();
    const known = new Set((db.prepare(`SELECT rebound_order_id AS id FROM rebound_return_orders`).all() as { id: string }[]).map((r) => r.id));
    const received = truth.mirakl.returns.filter((r) => ['RECEIVED', 'CLOSED'].includes(r.state) && (refusedReturns.has(r.id) || refusedOrders.has(r.orderId)));
    // Both kinds of refusal are among the returns Mirakl shows received.
    expect(received.filter((r) => refusedReturns.has(r.id)).length).toBeGreaterThan(0);
    expect(received.filter((r) => refusedOrders.has(r.orderId)).length).toBeGreaterThan(0);
    const lost: string[] = [];
    for (const r of received) {
      const ros = truth.rebound.returnOrders.filter((ro) => ro.clientOrderId === r.orderId && ro.status !== 'CANCELLED');
      const isOpen = db.prepare(`SELECT 1 FROM exceptions WHERE return_id = ? AND state != 'resolved'`).get(r.id) !== undefined;
      if (ros.length > 0 && !ros.some((ro) => known.has(ro.reboundOrderId)) && !isOpen) lost.push(`${r.id} (${r.state}; ReBound holds ${ros.map((ro) => ro.reboundOrderId).join(', ')})`);
    }
    expect(lost).toEqual([]);
  });
});
