// Money and stock have one writer at a time. Sync cycles and people's actions are both commands on this one serial
// queue: a feed that awaits Mirakl holds its place until it is done, so a person's skip, remap or refund can never
// land between a feed's read and its send, and a command's guards are checked with nothing else in flight.

export interface CommandQueue {
  /** Runs `command` once every command queued before it has finished (failed or not), first in, first out. */
  run<T>(label: string, command: () => T | Promise<T>): Promise<T>;
  /** What is running now, if anything (for status and diagnostics). */
  readonly current: string | null;
  /** Commands waiting behind the one running. */
  readonly waiting: number;
}

export function createCommandQueue(): CommandQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let current: string | null = null;
  let waiting = 0;
  return {
    run<T>(label: string, command: () => T | Promise<T>): Promise<T> {
      waiting++;
      const result = tail.then(async () => {
        waiting--;
        current = label;
        try {
          return await command();
        } finally {
          current = null;
        }
      });
      // The next command waits for this one whatever its outcome; the caller still sees the failure.
      tail = result.catch(() => undefined);
      return result;
    },
    get current() {
      return current;
    },
    get waiting() {
      return waiting;
    },
  };
}
