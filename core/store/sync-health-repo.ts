import type { Database } from 'better-sqlite3';
import type { FeedHealth, FeedStatus } from '../contract';

// Health per feed for the integration owner: calls that failed and 429 answers in the last hour, from the request
// journal. The journal records calls by operation, so each feed is credited with the operations it makes.

export const feedOperations: Record<string, { system: 'mirakl' | 'rebound'; operations: string[] }[]> = {
  'mirakl.returns': [{ system: 'mirakl', operations: ['RT11'] }],
  'mirakl.orders': [{ system: 'mirakl', operations: ['OR11'] }],
  intake: [
    { system: 'mirakl', operations: ['RT21', 'RT04'] },
    { system: 'rebound', operations: ['oauth.token', 'salesOrders.create', 'salesOrders.get', 'returnOrders.create', 'returnOrders.list', 'webhookSubscriptions.put'] },
  ],
  rebound: [{ system: 'rebound', operations: ['returnOrders.get', 'returnOrders.events', 'returnOrders.cancel'] }],
  'mirakl.push': [{ system: 'mirakl', operations: ['RT25', 'RT26', 'RT27', 'RT29'] }],
  refunds: [{ system: 'mirakl', operations: ['OR28'] }],
  stock: [{ system: 'mirakl', operations: ['OF21', 'STO01', 'STO02', 'STO03'] }],
};

/** Outcomes that are not a failure of the call: a 404 answers a lookup ("not there yet"), a 429 is counted apart. */
const notErrors = ['ok', 'rate_limited', 'not_found'];

export function createSyncHealth(db: Database) {
  const perOperation = db.prepare(`SELECT system, operation,
      sum(CASE WHEN outcome NOT IN (${notErrors.map((o) => `'${o}'`).join(', ')}) THEN 1 ELSE 0 END) AS errors,
      sum(CASE WHEN outcome = 'rate_limited' THEN 1 ELSE 0 END) AS waits
    FROM request_journal WHERE at >= ? GROUP BY system, operation`);

  return {
    /** Adds each feed's API errors and rate-limit waits since `sinceMs` (the last hour of the core's clock). */
    withHealth(feeds: FeedStatus[], sinceMs: number): FeedHealth[] {
      const rows = perOperation.all(new Date(sinceMs).toISOString()) as { system: string; operation: string; errors: number; waits: number }[];
      const byOperation = new Map(rows.map((r) => [`${r.system}:${r.operation}`, r]));
      return feeds.map((f) => {
        let apiErrors = 0;
        let rateLimitWaits = 0;
        for (const group of feedOperations[f.feed] ?? []) {
          for (const operation of group.operations) {
            const row = byOperation.get(`${group.system}:${operation}`);
            apiErrors += row?.errors ?? 0;
            rateLimitWaits += row?.waits ?? 0;
          }
        }
        return { ...f, apiErrors, rateLimitWaits };
      });
    },
  };
}
