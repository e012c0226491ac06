import { describe, expect, it } from 'vitest';
import { ApiError } from '../net/api-error';
import { batchRelease, createCallWindow, flowLookbackMs, paced, releaseBatches } from './pacing';
import { createTouched } from './touched';

// The pacing rules on their own, driven by counts and a clock the test moves: when a stage's writes go (a full call
// at once, an unfull one only while more are coming, never later than the window), how ReBound's per-minute budget is
// counted, and what the planners are given to look at.

const second = 1000;
const minute = 60 * second;
const t0 = Date.UTC(2026, 10, 2, 9);

describe('batchRelease: a stage waits for a fuller call only while more writes are coming', () => {
  const base = { max: 100, windowMs: minute, lookbackMs: flowLookbackMs, now: t0, oldestAt: t0 };

  it('sends a full call at once', () => {
    expect(batchRelease({ ...base, size: 100, recentlySent: 5000 })).toEqual({ send: true });
  });

  it('sends a lone write at once when nothing else is flowing (a receipt in a quiet hour)', () => {
    expect(batchRelease({ ...base, size: 1, recentlySent: 0 })).toEqual({ send: true });
    // One every two or three minutes: waiting a minute would not fill the call.
    expect(batchRelease({ ...base, size: 1, recentlySent: 2 })).toEqual({ send: true });
  });

  it('holds an unfull call while the flow says more will join it before the window closes, and no longer', () => {
    // 60 writes in the last five minutes: twelve a minute, so waiting fills the call further.
    expect(batchRelease({ ...base, size: 10, recentlySent: 60 })).toEqual({ send: false, until: t0 + minute });
    expect(batchRelease({ ...base, size: 10, recentlySent: 60, now: t0 + 50 * second })).toEqual({ send: false, until: t0 + minute });
    // Too little of the window left for another write to be expected: it goes.
    expect(batchRelease({ ...base, size: 10, recentlySent: 60, now: t0 + 58 * second })).toEqual({ send: true });
    expect(batchRelease({ ...base, size: 10, recentlySent: 60, now: t0 + minute })).toEqual({ send: true });
  });

  it('counts the writes already waiting as flow: a burst planned at once waits for the rest of its burst', () => {
    expect(batchRelease({ ...base, size: 40, recentlySent: 0 })).toEqual({ send: false, until: t0 + minute });
  });

  it('holds longer, up to the fill window, while the flow would fill the call before it closes', () => {
    const busy = { ...base, fillWindowMs: 5 * minute };
    // 20 a minute (accepts in a backlog): 20 waiting now and 100 more expected in five minutes.
    expect(batchRelease({ ...busy, size: 20, recentlySent: 80 })).toEqual({ send: false, until: t0 + 5 * minute });
    // Past the short window, still filling: it waits on.
    expect(batchRelease({ ...busy, size: 60, recentlySent: 80, now: t0 + 3 * minute })).toEqual({ send: false, until: t0 + 5 * minute });
    // A flow that cannot fill the call within the fill window gets only the short window.
    expect(batchRelease({ ...busy, size: 2, recentlySent: 20, now: t0 + 30 * second })).toEqual({ send: false, until: t0 + minute });
    expect(batchRelease({ ...busy, size: 2, recentlySent: 20, now: t0 + 2 * minute })).toEqual({ send: true });
    // A receipt in a quiet hour still goes at once.
    expect(batchRelease({ ...busy, size: 1, recentlySent: 1 })).toEqual({ send: true });
  });

  it('never holds when the window is zero', () => {
    expect(batchRelease({ ...base, size: 10, recentlySent: 5000, windowMs: 0 })).toEqual({ send: true });
  });
});

describe('releaseBatches', () => {
  const intent = (createdAt: number, nextAttemptAt: number | null = null) => ({
    createdAt: new Date(createdAt).toISOString(),
    nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
  });

  it('sends every full call and holds only the remainder', () => {
    const due = Array.from({ length: 250 }, (_, i) => intent(t0 + i));
    const { send, heldUntil } = releaseBatches(due, { max: 100, now: t0 + 1000, windowMs: minute, recentlySent: 0 });
    expect(send).toHaveLength(200);
    expect(heldUntil).toBe(t0 + 200 + minute);
  });

  it('measures a retried write from when it became due again', () => {
    const due = [intent(t0 - 10 * minute, t0)];
    expect(releaseBatches(due, { max: 100, now: t0 + 30 * second, windowMs: minute, recentlySent: 50 })).toEqual({ send: [], heldUntil: t0 + minute });
  });
});

describe('createCallWindow: a per-minute budget counted on the injected clock', () => {
  it('counts calls in a sliding minute and says when the next may go', () => {
    const window = createCallWindow(() => 3, minute);
    expect(window.left(t0)).toBe(3);
    window.spend(t0);
    window.spend(t0 + 10 * second);
    window.spend(t0 + 20 * second);
    expect(window.left(t0 + 30 * second)).toBe(0);
    expect(window.freeAt(t0 + 30 * second)).toBe(t0 + minute);
    expect(window.left(t0 + minute)).toBe(1);
    expect(window.left(t0 + minute + 20 * second)).toBe(3);
  });

  it('forgets calls a clock that moved back places in the future', () => {
    const window = createCallWindow(() => 1, minute);
    window.spend(t0);
    expect(window.left(t0 - 5 * minute)).toBe(1);
  });

  it('follows a limit that changes (the policy file edited)', () => {
    let max = 1;
    const window = createCallWindow(() => max, minute);
    window.spend(t0);
    expect(window.left(t0)).toBe(0);
    max = 300;
    expect(window.left(t0)).toBe(299);
  });
});

describe('paced: the backstop behind the stages', () => {
  it('refuses a call over the budget without making it, and counts the ones it makes', async () => {
    const window = createCallWindow(() => 1, minute);
    let made = 0;
    const api = paced({ read: async () => ++made }, 'rebound', window, { now: () => t0 });
    await expect(api.read()).resolves.toBe(1);
    const refused = await api.read().then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ kind: 'rate_limited', retryAfterMs: minute });
    expect(made).toBe(1);
  });
});

describe('touched: what the planners look at', () => {
  it('sweeps every return in flight at the first look and then every period; in between, only what was touched', () => {
    const touched = createTouched(15 * minute);
    expect(touched.take('pushes', t0)).toEqual({ all: true });
    touched.touch('R-1');
    touched.touch('R-2');
    touched.touch('R-1');
    expect(touched.take('pushes', t0 + minute)).toEqual({ all: false, ids: ['R-1', 'R-2'] });
    expect(touched.take('pushes', t0 + 2 * minute)).toEqual({ all: false, ids: [] });
    // Each planner keeps its own list: the refunds planner still has what the pushes planner already took.
    expect(touched.take('refunds', t0 + 2 * minute)).toEqual({ all: true });
    expect(touched.take('pushes', t0 + 15 * minute)).toEqual({ all: true });
  });

  it('sweeps when the clock moved back, rather than waiting for a time that may not come again', () => {
    const touched = createTouched(15 * minute);
    touched.take('closes', t0);
    expect(touched.take('closes', t0 - minute)).toEqual({ all: true });
  });
});
