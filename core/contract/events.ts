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
} as const satisfies Record<string, z.ZodType>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<K extends EventName> = z.output<Events[K]>;

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
