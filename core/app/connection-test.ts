import { z } from 'zod';
import { callApi, parseJson, type ApiContext } from '../net/api-call';
import { isApiError } from '../net/api-error';
import { requestReboundToken } from '../rebound/client';
import { createMemoryBudgetStore } from '../net/budget-guard';
import type { HttpPort } from '../net/http';
import { memoryJournal } from '../net/journal';
import type { Clock } from '../ports';

// "Test connection": one cheap authenticated read per system, with the values typed in Settings or the stored ones.
// Mirakl: A01 (GET /api/account), which needs the shop key and answers the shop it selects. ReBound: its token
// endpoint (POST /oauth/token, client credentials), which every other call depends on. Neither call is charged to
// the engine's call budgets or journal: it is a person's occasional check, not part of the sync.

export interface ConnectionTestResult {
  ok: boolean;
  message: string;
  status?: number;
}

const accountSchema = z.object({ shop_id: z.number(), shop_name: z.string(), shop_state: z.string().optional() });

function context(system: 'mirakl' | 'rebound', baseUrl: string, http: HttpPort, clock: Clock): ApiContext {
  return { system, baseUrl, http, clock, journal: memoryJournal(), budgets: createMemoryBudgetStore(), timeoutMs: 15_000 };
}

function explainFailure(system: string, error: unknown): ConnectionTestResult {
  if (!isApiError(error)) return { ok: false, message: `${system}: ${(error as Error).message}` };
  const status = error.status !== undefined ? { status: error.status } : {};
  switch (error.kind) {
    case 'auth':
      return { ok: false, message: `${system} refused the credentials (${error.status}). Check the ${system === 'Mirakl' ? 'API key and shop id' : 'client id and secret'}.`, ...status };
    case 'network':
    case 'uncertain':
      return { ok: false, message: `${system} could not be reached: ${error.message}. Check the address and the network.`, ...status };
    case 'not_found':
      return { ok: false, message: `${system} answered 404 at that address: is it the API's base address?`, ...status };
    case 'invalid_response':
      return { ok: false, message: `The answer does not look like ${system}'s API: ${error.message}.`, ...status };
    case 'rate_limited':
      return { ok: false, message: `${system} asked us to slow down (429); try again in a minute.`, ...status };
    default:
      return { ok: false, message: `${system} refused the request: ${error.message}`, ...status };
  }
}

export async function testMirakl(options: { baseUrl: string; apiKey: string; shopId: number | null; http: HttpPort; clock: Clock }): Promise<ConnectionTestResult> {
  const ctx = context('mirakl', options.baseUrl, options.http, options.clock);
  try {
    const query = new URLSearchParams();
    if (options.shopId !== null) query.set('shop_id', String(options.shopId));
    const res = await callApi(ctx, { operation: 'A01', method: 'GET', path: '/api/account', query, headers: { authorization: options.apiKey } });
    const account = parseJson(ctx, 'A01', res, accountSchema);
    const state = account.shop_state && account.shop_state !== 'OPEN' ? ` Its state is ${account.shop_state}: the sync may be refused.` : '';
    return { ok: true, message: `Connected to Mirakl shop ${account.shop_id} (${account.shop_name}).${state}`, status: res.status };
  } catch (error) {
    return explainFailure('Mirakl', error);
  }
}

export async function testRebound(options: { baseUrl: string; clientId: string; clientSecret: string; http: HttpPort; clock: Clock }): Promise<ConnectionTestResult> {
  const ctx = context('rebound', options.baseUrl, options.http, options.clock);
  try {
    const token = await requestReboundToken(ctx, options.clientId, options.clientSecret);
    return { ok: true, message: `ReBound accepted client ${options.clientId} and issued a token.`, status: token.status };
  } catch (error) {
    return explainFailure('ReBound', error);
  }
}
