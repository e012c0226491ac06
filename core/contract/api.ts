import type { Command, Input, Output } from './commands';
import type { EventName, EventPayload } from './events';
import type { Result } from './errors';

// The whole surface the renderer sees: under Electron the preload exposes exactly this as `window.api`.
export interface Api {
  invoke<K extends Command>(command: K, input: Input<K>): Promise<Result<Output<K>>>;
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
}

export const ipcChannels = { invoke: 'rw:invoke', event: 'rw:event' } as const;
