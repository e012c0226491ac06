import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../adapters/fake-clock';
import { fetchHttp, NetworkError, type HttpRequest } from '../../net/http';
import { defaultScenario, startSandbox, type Sandbox } from '../index';
import { socketlessHttp, toRawRequest } from './in-process';

// The in-process transport must be the loopback server minus the socket: the same answers (status, headers, body)
// from the same pipeline, multipart bodies encoded as fetch encodes them, and cut connections failing as fetch fails.
describe('socketless HTTP port', () => {
  let sandbox: Sandbox;
  afterEach(() => sandbox.close());

  const start = async (faults = {}) => {
    const clock = createFakeClock(defaultScenario.startMs);
    sandbox = await startSandbox({
      seed: 3,
      clock,
      scenario: { ordersPerDay: 40, historyDays: 3 },
      miraklFaults: faults,
      // No budgets: each request below is sent twice, once per transport.
      miraklBudgets: {},
      reboundBudgets: {},
    });
    return socketlessHttp([sandbox.miraklServer, sandbox.reboundServer]);
  };

  it('answers as the loopback server does', async () => {
    const http = await start();
    const requests: HttpRequest[] = [
      { method: 'GET', url: `${sandbox.mirakl.baseUrl}/api/returns?limit=5&sort=date_created,ASC`, headers: { Authorization: sandbox.mirakl.apiKey } },
      { method: 'GET', url: `${sandbox.mirakl.baseUrl}/api/returns`, headers: { Authorization: 'wrong key' } },
      { method: 'GET', url: `${sandbox.mirakl.baseUrl}/api/nothing-here`, headers: { Authorization: sandbox.mirakl.apiKey } },
      {
        method: 'POST',
        url: `${sandbox.rebound.baseUrl}/oauth/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sandbox.rebound.clientId, client_secret: 'wrong' }).toString(),
      },
    ];
    for (const request of requests) {
      const [overLoopback, inProcess] = [await fetchHttp(request), await http(request)];
      expect(inProcess.status).toBe(overLoopback.status);
      expect(inProcess.body).toBe(overLoopback.body);
      expect(inProcess.headers['content-type']).toBe(overLoopback.headers['content-type']);
      expect(inProcess.headers.date).toBe(overLoopback.headers.date);
    }
  });

  it('names the host, as fetch does (the simulators build links from it)', async () => {
    const { raw } = await toRawRequest({ method: 'GET', url: 'http://127.0.0.1:4567/api/offers?max=1', headers: { Authorization: 'k' } });
    expect(raw).toMatchObject({ method: 'GET', url: '/api/offers?max=1', headers: { host: '127.0.0.1:4567', authorization: 'k' } });
  });

  it('sends a FormData body as multipart, as fetch does', async () => {
    const http = await start();
    const sku = sandbox.world.offers()[0]?.shopSku ?? '';
    const form = new FormData();
    form.append('file', new Blob([`"offer-sku";"quantity";"warehouse-code";"update-delete"\n"${sku}";"7";"";""\n`], { type: 'text/csv' }), 'stock.csv');
    const res = await http({ method: 'POST', url: `${sandbox.mirakl.baseUrl}/api/offers/stock/imports`, headers: { Authorization: sandbox.mirakl.apiKey }, body: form });
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(/\/api\/offers\/stock\/imports\/\d+\/status$/);
    expect(sandbox.world.truth().stockImports).toHaveLength(1);
  });

  it('fails a cut connection as a NetworkError that may have been sent, and an unknown address as never sent', async () => {
    const http = await start({ '*': { resetRate: 1 } });
    const read = { method: 'GET', url: `${sandbox.mirakl.baseUrl}/api/returns`, headers: { Authorization: sandbox.mirakl.apiKey } };
    await expect(http(read)).rejects.toMatchObject({ name: 'NetworkError', maybeSent: true });
    sandbox.setFaults('mirakl', { '*': { lostResponseRate: 1 } });
    await expect(http(read)).rejects.toMatchObject({ name: 'NetworkError', maybeSent: true });
    const elsewhere = http({ method: 'GET', url: 'http://127.0.0.1:9/api/returns' });
    await expect(elsewhere).rejects.toBeInstanceOf(NetworkError);
    await expect(elsewhere).rejects.toMatchObject({ maybeSent: false });
    expect(sandbox.miraklServer.counters.RT11?.faults).toEqual({ reset: 1, lostResponse: 1 });
  });
});
