import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createSteppedClock } from './clock';
import { defaultScenario, startSandbox } from './index';

const hour = 3_600_000;

// A scripted client drives both systems through sandbox days: every return Mirakl shows becomes a ReBound return
// order, and the warehouse moves parcels on sandbox time. The ground truth after N days must depend on the seed only.
async function runDays(seed: number, days: number): Promise<string> {
  const clock = createFakeClock(defaultScenario.startMs);
  const sandbox = await startSandbox({ seed, clock, scenario: { ordersPerDay: 60, historyDays: 4 } });
  try {
    const advised = new Set<string>();
    for (let h = 0; h < days * 24; h += 6) {
      clock.advance(6 * hour);
      sandbox.advance();
      for (const ret of sandbox.world.returnsList()) {
        if (advised.has(ret.id)) continue;
        const order = sandbox.world.findLine(ret.lines[0]?.orderLineId ?? '')?.order;
        if (!order) continue;
        advised.add(ret.id);
        const sim = sandbox.rebound.sim;
        sim.createSalesOrder(
          {
            clientOrderId: order.orderId,
            salesItems: order.lines.map((l) => ({ clientItemId: l.orderLineId, sku: l.shopSku, quantity: String(l.quantity) })),
          },
          { flowKey: null, overwrite: false },
        );
        const created = sim.createReturnOrder(
          { clientOrderId: order.orderId, items: ret.lines.map((l) => ({ clientItemId: l.orderLineId, quantity: String(l.quantity), reasonCode: 'Too small' })) },
          { flowKey: null },
        );
        expect(created.ok).toBe(true);
      }
    }
    sandbox.advance();
    return sandbox.truthHash();
  } finally {
    await sandbox.close();
  }
}

describe('sandbox', () => {
  it('gives an identical world for the same seed and a different one for another', async () => {
    const a = await runDays(2026, 6);
    expect(await runDays(2026, 6)).toBe(a);
    expect(await runDays(2027, 6)).not.toBe(a);
  });

  it('serves ground truth under /_sim/ without credentials, and not on the API', async () => {
    const clock = createFakeClock(defaultScenario.startMs);
    const sandbox = await startSandbox({ seed: 5, clock, scenario: { ordersPerDay: 30, historyDays: 3 } });
    try {
      const truth = (await (await fetch(`${sandbox.mirakl.baseUrl}/_sim/truth`)).json()) as { returns: unknown[] };
      expect(truth.returns.length).toBe(sandbox.world.returnsList().length);
      const summary = (await (await fetch(`${sandbox.mirakl.baseUrl}/_sim/summary`)).json()) as { returns: number; returnsByState: Record<string, number> };
      expect(summary.returns).toBe(truth.returns.length);
      expect(Object.values(summary.returnsByState).reduce((a, b) => a + b, 0)).toBe(truth.returns.length);
      const calls = await fetch(`${sandbox.mirakl.baseUrl}/_sim/calls`);
      expect(calls.status).toBe(200);
      expect((await fetch(`${sandbox.rebound.baseUrl}/_sim/truth`)).status).toBe(200);
      expect((await fetch(`${sandbox.mirakl.baseUrl}/api/returns`)).status).toBe(401);
    } finally {
      await sandbox.close();
    }
  });

  it('moves a stepped clock only on POST /_sim/clock, forward, and says when ReBound acts next', async () => {
    const clock = createSteppedClock(defaultScenario.startMs);
    const sandbox = await startSandbox({ seed: 5, clock, scenario: { ordersPerDay: 30, historyDays: 3 } });
    const post = (body: unknown) => fetch(`${sandbox.mirakl.baseUrl}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      expect(await (await fetch(`${sandbox.mirakl.baseUrl}/_sim/clock`)).json()).toEqual({ now: defaultScenario.startMs, isStepped: true, nextEventAt: null });
      const moved = await post({ by: hour });
      expect(await moved.json()).toMatchObject({ now: defaultScenario.startMs + hour });
      expect(clock.now()).toBe(defaultScenario.startMs + hour);
      expect((await post({ to: defaultScenario.startMs })).status).toBe(400);
      expect((await post({ to: defaultScenario.startMs + 2 * hour })).status).toBe(200);

      // A return order in ReBound gives it something to do on its own: its parcel's first move.
      for (let day = 0; day < 5 && sandbox.world.returnsList().length === 0; day++) await post({ by: 24 * hour });
      const order = sandbox.world.returnsList()[0];
      const line = sandbox.world.findLine(order?.lines[0]?.orderLineId ?? '');
      if (!order || !line) throw new Error('the scenario made no return');
      const sim = sandbox.rebound.sim;
      sim.createSalesOrder(
        { clientOrderId: line.order.orderId, salesItems: line.order.lines.map((l) => ({ clientItemId: l.orderLineId, sku: l.shopSku, quantity: String(l.quantity) })) },
        { flowKey: null, overwrite: false },
      );
      sim.createReturnOrder({ clientOrderId: line.order.orderId, items: order.lines.map((l) => ({ clientItemId: l.orderLineId, quantity: String(l.quantity), reasonCode: 'Too small' })) }, { flowKey: null });
      const next = ((await (await fetch(`${sandbox.mirakl.baseUrl}/_sim/clock`)).json()) as { nextEventAt: number | null }).nextEventAt;
      expect(next).toBeGreaterThan(clock.now());
      expect(sandbox.nextEventAt()).toBe(next);
    } finally {
      await sandbox.close();
    }
    const free = await startSandbox({ seed: 5, clock: createFakeClock(defaultScenario.startMs), scenario: { ordersPerDay: 30, historyDays: 3 } });
    try {
      expect((await fetch(`${free.mirakl.baseUrl}/_sim/clock`, { method: 'POST', body: '{"by":1}' })).status).toBe(409);
    } finally {
      await free.close();
    }
  });
});
