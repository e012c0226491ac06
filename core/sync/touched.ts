// What the planners look at. A planner (Mirakl status pushes, refunds, closes) needs to look at a return again only
// when something about it changed: ReBound moved its units, Mirakl confirmed one of our calls, OR11 read its order, RT11
// showed it changed. Those places touch it; each planner takes what was touched since it last looked. As a safety net
// — and at the first look after a start, when nothing in memory says what changed — a planner sweeps every return in
// flight at most every `sweepEveryMs`, so nothing waits on a touch that was missed for longer than that.

export type Planner = 'pushes' | 'refunds' | 'closes';
const planners: readonly Planner[] = ['pushes', 'refunds', 'closes'];

export function createTouched(sweepEveryMs: number) {
  const touched = new Map<Planner, Set<string>>(planners.map((p) => [p, new Set<string>()]));
  const sweptAt = new Map<Planner, number>();
  return {
    touch(returnId: string): void {
      for (const set of touched.values()) set.add(returnId);
    },
    /** The returns `planner` should look at now: every return in flight (`all`) when a sweep is due, else those touched. */
    take(planner: Planner, now: number): { all: true } | { all: false; ids: string[] } {
      const set = touched.get(planner) as Set<string>;
      const last = sweptAt.get(planner);
      // A clock that moved back counts as due too: the next sweep must never wait on a time that may not come again.
      if (last === undefined || now - last >= sweepEveryMs || now < last) {
        sweptAt.set(planner, now);
        set.clear();
        return { all: true };
      }
      const ids = [...set];
      set.clear();
      return { all: false, ids };
    },
  };
}

export type Touched = ReturnType<typeof createTouched>;

/**
 * What `planner` should look at now. A context without the engine's memory of what changed (a person's action run
 * through a domain context, a test) looks at every return in flight, as a sweep does.
 */
export function takeTouched(ctx: { touched?: Touched; clock: { now(): number } }, planner: Planner): { all: true } | { all: false; ids: string[] } {
  return ctx.touched ? ctx.touched.take(planner, ctx.clock.now()) : { all: true };
}
