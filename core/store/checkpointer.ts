import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Folding the write-ahead log back into the database (a checkpoint) is work SQLite normally does inside whichever
// commit pushes the log past 1,000 pages: every few reconciliation passes one pays 30–60 ms more, and a full pass
// over a year of returns pays seconds. Here one worker thread per process keeps a second connection to each open
// database and checkpoints its log every second instead, so commits stay small and the copy runs on the other core.
// PASSIVE checkpoints never block the connection that writes and never wait for it (a busy one is tried again at the
// next tick). If the thread cannot run (the driver cannot load there, it fails), every connection it served gets
// SQLite's own automatic checkpoints back: the log is never left to grow.

export interface Checkpointer {
  /** Ends this database's second connection before returning, so the caller's close is the last one. */
  stop(): void;
}

export interface CheckpointerOptions {
  file: string;
  /** better-sqlite3 binary for the running runtime (Electron's ABI), as given to the main connection. */
  nativeBinding?: string;
  /** Memory settings of the database's connections (db.ts), applied to the thread's connection too. */
  pragmas?: readonly string[];
  /** Called when checkpoints moved back into commits because the thread failed. */
  onFailure?: (error: Error) => void;
}

/** SQLite's default: checkpoint at the commit that takes the log past this many pages. */
export const automaticCheckpointPages = 1000;
const intervalMs = 1000;

// Each database's state, shared with the thread: waiting for the thread (0), being opened there (5), open there (1),
// asked to stop (2), stopped (3), failed (4). Either side moves it with compare-and-swap. A store closed before the
// thread got to it costs no wait: the thread sees 'asked to stop' and never opens the database. A store closed while
// the thread is opening it waits for the open to end and then for the close, so that once stop returns nothing in
// this process touches the database's files again (a folder removed or copied right after close stays as it was).
const waiting = 0;
const open = 1;
const stopping = 2;
const stopped = 3;
const failed = 4;
const opening = 5;

// The thread's code (CommonJS, evaluated).
const workerSource = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const connections = new Map();
const settle = (state, to) => { Atomics.store(state, 0, to); Atomics.notify(state, 0); };
const close = (id) => {
  const c = connections.get(id);
  if (!c) return;
  connections.delete(id);
  if (c.db.open) c.db.close();
  settle(c.state, ${stopped});
};
parentPort.on('message', (m) => {
  if (m.type === 'add') {
    const state = new Int32Array(m.state);
    if (Atomics.compareExchange(state, 0, ${waiting}, ${opening}) !== ${waiting}) return settle(state, ${stopped});
    let db = null;
    try {
      db = new Database(m.file, { fileMustExist: true, ...(m.nativeBinding ? { nativeBinding: m.nativeBinding } : {}) });
      db.pragma('busy_timeout = 0');
      for (const pragma of m.pragmas || []) db.pragma(pragma);
      connections.set(m.id, { db, state });
      settle(state, ${open});
    } catch (error) {
      try { if (db && db.open) db.close(); } catch {}
      settle(state, ${failed});
      parentPort.postMessage({ id: m.id, failed: String(error && error.message) });
    }
  } else if (m.type === 'remove') close(m.id);
});
setInterval(() => {
  for (const [id, c] of connections) {
    try {
      c.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED') continue;
      connections.delete(id);
      try { c.db.close(); } catch {}
      if (Atomics.compareExchange(c.state, 0, ${open}, ${failed}) === ${open}) parentPort.postMessage({ id, failed: String(error.message) });
      else settle(c.state, ${stopped});
    }
  }
}, ${intervalMs});
`;

const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');

interface Served {
  state: Int32Array;
  fail(message: string): void;
}

let thread: { worker: Worker; served: Map<number, Served> } | null = null;
let nextId = 1;

function checkpointThread(): NonNullable<typeof thread> {
  if (thread) return thread;
  const worker = new Worker(workerSource, { eval: true, workerData: { driver: driverPath } });
  const served = new Map<number, Served>();
  const current = { worker, served };
  const failAll = (message: string) => {
    if (thread === current) thread = null;
    for (const s of served.values()) s.fail(message);
    served.clear();
  };
  worker.on('message', (m: { id: number; failed: string }) => {
    served.get(m.id)?.fail(m.failed);
    served.delete(m.id);
  });
  worker.on('error', (error) => failAll(error.message));
  worker.on('exit', (code) => failAll(`the checkpoint thread ended (exit code ${code})`));
  // Open stores never keep the process alive because of this thread (after the listeners: adding one refs it again).
  worker.unref();
  thread = current;
  return current;
}

/**
 * Checkpoints `file` from the process's checkpoint thread. `setAutomaticPages` sets the main connection's automatic
 * checkpoints: off from now on (the thread runs on its own core whatever the main thread is busy with), and back on
 * if the thread fails.
 */
export function startCheckpointer(options: CheckpointerOptions, setAutomaticPages: (pages: number) => void): Checkpointer {
  const { worker, served } = checkpointThread();
  const id = nextId++;
  const shared = new SharedArrayBuffer(4);
  const state = new Int32Array(shared);
  let isFailed = false;
  served.set(id, {
    state,
    fail(message) {
      if (isFailed) return;
      isFailed = true;
      Atomics.store(state, 0, failed);
      setAutomaticPages(automaticCheckpointPages);
      options.onFailure?.(new Error(`background checkpoints stopped: ${message}`));
    },
  });
  setAutomaticPages(0);
  worker.postMessage({ type: 'add', id, file: options.file, nativeBinding: options.nativeBinding, pragmas: options.pragmas ?? [], state: shared });
  return {
    stop() {
      served.delete(id);
      // Not opened yet: the thread will see this and leave the database alone.
      if (Atomics.compareExchange(state, 0, waiting, stopping) === waiting) return;
      // Being opened: wait for the open to end (open, or failed), then close it as below.
      Atomics.wait(state, 0, opening, 5000);
      if (Atomics.compareExchange(state, 0, open, stopping) !== open) return;
      worker.postMessage({ type: 'remove', id });
      // Its connection closes within one checkpoint at most; never wait forever, whatever happens to the thread.
      Atomics.wait(state, 0, stopping, 5000);
    },
  };
}
