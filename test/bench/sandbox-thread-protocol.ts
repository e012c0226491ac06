import type { Scenario } from '../../core/sandbox/index';

// What the engine's thread and the sandbox thread (sandbox-thread.ts, sandbox-thread-worker.ts) agree on.

export interface ThreadInit {
  seed: number;
  scenario: Partial<Scenario>;
  shared: SharedArrayBuffer;
}

/** The layout of the shared buffer: [state, metaLength, bodyLength] then the bytes (meta JSON, then body). */
export const header = { state: 0, metaLength: 1, bodyLength: 2 } as const;
export const headerBytes = 16;
export const state = { idle: 0, request: 1, response: 2, failed: 3 } as const;

export type ControlRequest = { id: number; op: 'clock'; to: number } | { id: number; op: 'summary' | 'miraklTruth' | 'reboundTruth' | 'stats' | 'ping' | 'close' };

