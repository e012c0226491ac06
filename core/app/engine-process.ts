// How the core's process is started, wherever it runs: the app's utility process (electron/main/utility-launcher.ts),
// `npm run web`, `npm run serve` and `npm run sync` (package.json), and the benchmarks that stand in for it.
//
// The engine stays open in the background all day, mostly waiting on API budgets, and a desktop app that holds
// hundreds of MB is not one people keep open (issue 23). V8's default heap sizing lets the JavaScript heap grow to
// four times what is live before a full collection: in the 10,000-return backlog the heap was 165 MB for about
// 40 MB live, and the process peaked at 363–430 MB. `--optimize-for-size` makes V8 favour memory over speed (it
// grows the heap in smaller steps and collects sooner): the same run peaked at 262 MB with a 61 MB heap.

/** V8 flags of the process that runs the core (engine, store, reconcile, reports). */
export const engineV8Flags: readonly string[] = ['--optimize-for-size'];
