import { z } from 'zod';

// Events are `domain.pastTense`; payloads are validated by the emitter so a listener can trust them.
export const events = {
  'sync.progressed': z.object({
    feed: z.string(),
    phase: z.enum(['started', 'finished', 'failed']),
    at: z.string(),
    message: z.string().optional(),
  }),
  'data.changed': z.object({ tables: z.array(z.string()) }),
  /** The sync service changed state (started, paused, resumed, a cycle began or ended, restarted in another mode). */
  'sync.stateChanged': z.object({
    state: z.enum(['idle', 'running', 'paused', 'stopped']),
    mode: z.enum(['sandbox', 'live']),
    lastCycleAt: z.string().nullable(),
    lastError: z.string().nullable(),
  }),
  /** A mapping file was saved: the running core and engine use the new version from now on. */
  'mappings.changed': z.object({ file: z.enum(['reasonCodes', 'skuOffers', 'policy']), version: z.string() }),
} as const satisfies Record<string, z.ZodType>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<K extends EventName> = z.output<Events[K]>;

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
