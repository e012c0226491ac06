// Decides when the desktop shows a notification: for critical exceptions that are new since the app started
// (money left without proof, credentials refused) and for sync failing again and again. A person gets one
// notification per burst, never a stream: notices inside the quiet interval are gathered into one summary.

/** What main asks the core for after exceptions changed: the open critical ones, newest first. */
export const criticalExceptionsQuery = {
  filter: { severity: 'critical', states: ['open', 'in_review'] },
  sort: { field: 'detectedAt', direction: 'desc' },
  page: { offset: 0, limit: 200 },
} as const;

export interface CriticalExceptionSeen {
  id: number;
  type: string;
  title: string;
  returnId: string | null;
}

export interface DesktopNotice {
  kind: 'critical' | 'syncFailing' | 'syncRecovered';
  title: string;
  body: string;
  /** The app section a click on the notice opens. */
  opens: 'exceptions' | 'dashboard';
}

export interface NotifierOptions {
  now: () => number;
  /** At most one critical-exception notice per interval; what arrives in between is summarised at its end. */
  criticalIntervalMs?: number;
  /** A feed counts as failing repeatedly after this many failed runs in a row. */
  failuresInARow?: number;
  /** At most one "sync is failing" notice per interval. */
  syncFailingIntervalMs?: number;
}

const maxBodyLength = 240;
const clip = (text: string) => (text.length > maxBodyLength ? `${text.slice(0, maxBodyLength - 1)}…` : text);
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function createNotifier(options: NotifierOptions) {
  const criticalIntervalMs = options.criticalIntervalMs ?? 10 * 60_000;
  const failuresInARow = options.failuresInARow ?? 3;
  const syncFailingIntervalMs = options.syncFailingIntervalMs ?? 60 * 60_000;

  let seen: Set<number> | null = null;
  let pending: CriticalExceptionSeen[] = [];
  let lastCriticalAt = Number.NEGATIVE_INFINITY;

  const failures = new Map<string, { label: string; count: number; lastMessage: string; isAnnounced: boolean }>();
  let lastFailingAt = Number.NEGATIVE_INFINITY;
  let hasWarnedFailing = false;

  function criticalNotice(items: CriticalExceptionSeen[]): DesktopNotice {
    const first = items[0] as CriticalExceptionSeen;
    if (items.length === 1) {
      return {
        kind: 'critical',
        title: `Critical: ${first.title}`,
        body: clip(first.returnId ? `Return ${first.returnId} needs attention now. Open the exception queue to see why.` : 'Open the exception queue to see why.'),
        opens: 'exceptions',
      };
    }
    const byTitle = new Map<string, number>();
    for (const item of items) byTitle.set(item.title, (byTitle.get(item.title) ?? 0) + 1);
    const summary = [...byTitle].map(([title, n]) => `${n} × ${title}`).join('; ');
    return { kind: 'critical', title: `${items.length} new critical exceptions`, body: clip(summary), opens: 'exceptions' };
  }

  function releaseCritical(): DesktopNotice[] {
    if (pending.length === 0 || options.now() - lastCriticalAt < criticalIntervalMs) return [];
    const notice = criticalNotice(pending);
    pending = [];
    lastCriticalAt = options.now();
    return [notice];
  }

  return {
    /**
     * The open critical exceptions as of now. The first call only records what is already open when the app
     * starts (the queue shows those); later calls notify for exceptions not seen before.
     */
    observeCritical(open: readonly CriticalExceptionSeen[]): DesktopNotice[] {
      if (seen === null) {
        seen = new Set(open.map((e) => e.id));
        return [];
      }
      for (const e of open) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        pending.push(e);
      }
      return releaseCritical();
    },

    /** One run of one feed finished or failed (the `sync.progressed` event). */
    observeFeed(feed: string, label: string, outcome: { isFailure: boolean; message?: string | undefined }): DesktopNotice[] {
      if (!outcome.isFailure) {
        failures.delete(feed);
        const stillFailing = [...failures.values()].some((f) => f.count >= failuresInARow);
        if (hasWarnedFailing && !stillFailing) {
          hasWarnedFailing = false;
          return [{ kind: 'syncRecovered', title: 'Sync is working again', body: `${label} went through.`, opens: 'dashboard' }];
        }
        return [];
      }
      const entry = failures.get(feed) ?? { label, count: 0, lastMessage: '', isAnnounced: false };
      entry.count += 1;
      entry.lastMessage = outcome.message ?? 'no reason given';
      failures.set(feed, entry);
      if (entry.count < failuresInARow || entry.isAnnounced || options.now() - lastFailingAt < syncFailingIntervalMs) return [];
      lastFailingAt = options.now();
      hasWarnedFailing = true;
      const failing = [...failures.values()].filter((f) => f.count >= failuresInARow);
      for (const f of failing) f.isAnnounced = true;
      const title = failing.length === 1 ? `Sync failing: ${entry.label}` : `Sync failing: ${failing.length} feeds`;
      const body =
        failing.length === 1
          ? `Failed ${plural(entry.count, 'time', 'times')} in a row: ${entry.lastMessage}`
          : failing.map((f) => `${f.label} (${plural(f.count, 'failure', 'failures')} in a row)`).join('; ');
      return [{ kind: 'syncFailing', title, body: clip(body), opens: 'dashboard' }];
    },

    /** Summarises critical exceptions held back by the quiet interval, once it has passed. */
    flush: (): DesktopNotice[] => releaseCritical(),

    /** When `flush` will have something to say, for a timer; null when nothing is held back. */
    nextFlushAt: (): number | null => (pending.length === 0 ? null : lastCriticalAt + criticalIntervalMs),
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
