// Scheduled world events in time order; equal times keep insertion order, so replays are identical.
export interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

export function createEventQueue() {
  const items: Scheduled[] = [];
  let seq = 0;
  return {
    schedule(at: number, run: () => void): void {
      const item = { at, seq: seq++, run };
      let lo = 0;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const m = items[mid] as Scheduled;
        if (m.at < at || (m.at === at && m.seq < item.seq)) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, item);
    },
    /** Runs every event due at or before `now`, including ones scheduled by the events themselves. */
    runUntil(now: number): void {
      while (items.length > 0 && (items[0] as Scheduled).at <= now) (items.shift() as Scheduled).run();
    },
    get size() {
      return items.length;
    },
  };
}
