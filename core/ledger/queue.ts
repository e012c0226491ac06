import type { ChangeLog } from '../store/changes';

// Money and stock have one writer at a time. Sync cycles and people's actions are both commands on this one serial
// queue: a feed that awaits Mirakl holds its place until it is done, so a person's skip, remap or refund can never
// land between a feed's read and its send, and a command's guards are checked with nothing else in flight.
// Once a command has finished, the tables its writes changed are announced once (`data.changed`); a write made
// outside any command (a webhook recorded, a report's pass) is announced as soon as the current turn of work is done.

export interface CommandQueue {
  /** Runs `command` once every command queued before it has finished (failed or not), first in, first out. */
  run<T>(label: string, command: () => T | Promise<T>): Promise<T>;
  /** What is running now, if anything (for status and diagnostics). */
  readonly current: string | null;
  /** Commands waiting behind the one running. */
  readonly waiting: number;
}

export interface QueueOptions {
  /** The connection's change log (core/store/changes.ts): what the writes of each command changed. */
  changes?: ChangeLog;
  /** Told the tables a command (or writes outside any command) changed; never called with none. */
  announce?: (tables: string[]) => void;
}

export function createCommandQueue(options: QueueOptions = {}): CommandQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let current: string | null = null;
  let waiting = 0;
  let isFlushScheduled = false;
  const { changes, announce } = options;
  const flush = (): void => {
    if (!changes || !announce) return;
    const tables = changes.take();
    if (tables.length) announce(tables);
  };
  changes?.onFirstChange(() => {
    // Inside a command, the command's end announces; outside, the end of this turn of work does (once for a batch).
    if (current !== null || isFlushScheduled) return;
    isFlushScheduled = true;
    setImmediate(() => {
      isFlushScheduled = false;
      if (current === null) flush();
    });
  });
  return {
    run<T>(label: string, command: () => T | Promise<T>): Promise<T> {
      waiting++;
      const result = tail.then(async () => {
        waiting--;
        // Writes made before this command began are theirs, not this command's: announced now, on their own.
        flush();
        current = label;
        try {
          return await command();
        } finally {
          current = null;
          flush();
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
