import type { ReasonLists } from '../contract';
import type { CommandQueue } from '../ledger/queue';
import { specReturnReasons } from '../mirakl/return-reasons';
import { ApiError } from '../net/api-error';
import type { Clock, Logger } from '../ports';
import type { MiraklReason, MiraklReasonsRepo } from '../store/mirakl-reasons-repo';

// Mirakl's own reason lists for the mapping editor (issue 24): read through the Mirakl client (RE01) when they were
// never read or are a day old, or when a person asks, and kept in the store so the editor works offline. The read
// runs on the engine's queue like a feed, so RE01's call budget is charged in turn with the engine's own calls.

/** Reads RE01 through the Mirakl client of the sync engine running now. */
export type ReadReasons = () => Promise<MiraklReason[]>;

const dayMs = 86_400_000;
/** A read that failed by itself is not tried again by itself sooner than this (a person can ask at any time). */
const retryAfterMs = 10 * 60_000;

export interface ReasonListsPorts {
  repo: MiraklReasonsRepo;
  /** The Mirakl client's RE01, or null when no sync engine (so no Mirakl connection) runs in this process. */
  read: () => ReadReasons | null;
  clock: Clock;
  queue: CommandQueue;
  log: Logger;
}

export function createReasonLists(ports: ReasonListsPorts) {
  const { repo, clock } = ports;
  let problem: string | null = null;
  let lastAttempt: number | null = null;

  function view(): ReasonLists {
    const all = repo.list();
    const seen = new Map(repo.seenReturnReasons().map((r) => [r.code, r.returnLines]));
    const returns: ReasonLists['returns'] = [];
    const add = (code: string, label: string, source: 'mirakl' | 'spec' | 'seen') => {
      if (!returns.some((r) => r.code === code)) returns.push({ code, label, source, returnLines: seen.get(code) ?? 0 });
    };
    for (const r of all) if (r.type === 'RETURN') add(r.code, r.label, 'mirakl');
    for (const r of specReturnReasons) add(r.code, r.label, 'spec');
    for (const code of seen.keys()) add(code, 'seen on stored returns', 'seen');
    return {
      refund: all.filter((r) => r.type === 'REFUND').map((r) => ({ code: r.code, label: r.label, isShopRight: r.isShopRight })),
      returns,
      readAt: repo.readAt(),
      problem,
    };
  }

  async function read(reader: ReadReasons): Promise<void> {
    lastAttempt = clock.now();
    try {
      const reasons = await reader();
      repo.replace(reasons, new Date(clock.now()).toISOString());
      problem = null;
    } catch (error) {
      const readAt = repo.readAt();
      const kept = readAt ? ` The lists read on ${readAt.slice(0, 16).replace('T', ' ')} UTC are used.` : '';
      problem =
        error instanceof ApiError && error.kind === 'rate_limited'
          ? `Mirakl allows its reason lists to be read about once a day; try again later.${kept}`
          : `Mirakl's reason lists could not be read: ${(error as Error).message}.${kept}`;
      ports.log.warn('RE01 not read', { error: (error as Error).message });
    }
  }

  return {
    /** The lists as stored (no call). */
    view,

    /**
     * The lists to check a mapping against. Read from Mirakl first when a person asks (`refresh`) or when they were
     * never read; when they are a day old, the stored lists answer now and are read again behind this answer, on the
     * queue, so a preview or a save never waits for Mirakl (a failed read is not retried by itself for ten minutes).
     * Without a Mirakl connection, the stored lists. `onQueue`: the caller already runs on the command queue.
     */
    async current(options: { refresh?: boolean; onQueue?: boolean } = {}): Promise<ReasonLists> {
      const refresh = options.refresh ?? false;
      const readAt = repo.readAt();
      const isStale = readAt === null || clock.now() - Date.parse(readAt) >= dayMs;
      const mayRetry = lastAttempt === null || clock.now() - lastAttempt >= retryAfterMs;
      if (!refresh && !(isStale && mayRetry)) return view();
      const reader = ports.read();
      if (!reader) {
        if (refresh || readAt === null) problem = 'No Mirakl connection is running in this app now, so its reason lists cannot be read.';
        return view();
      }
      const run = () => read(reader);
      if (refresh || readAt === null) {
        // A caller already on the queue (a save) reads in its own turn; waiting for the queue there would wait for itself.
        await (options.onQueue ? run() : ports.queue.run('person:mappings.reasons', run));
        return view();
      }
      lastAttempt = clock.now();
      void ports.queue.run('mappings.reasons', run);
      return view();
    },
  };
}

export type ReasonListsService = ReturnType<typeof createReasonLists>;
