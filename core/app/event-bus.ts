import { events, type EventName, type EventPayload } from '../contract';

type Listener<K extends EventName> = (payload: EventPayload<K>) => void;
type AnyListener = (name: EventName, payload: unknown) => void;

// A typed event map: every payload is validated when emitted, so IPC and SSE forward only contract-shaped data.
export function createEventBus() {
  const byName = new Map<EventName, Set<(payload: unknown) => void>>();
  const all = new Set<AnyListener>();
  return {
    emit<K extends EventName>(name: K, payload: EventPayload<K>): void {
      const checked = events[name].parse(payload);
      byName.get(name)?.forEach((l) => l(checked));
      all.forEach((l) => l(name, checked));
    },
    on<K extends EventName>(name: K, listener: Listener<K>): () => void {
      const set = byName.get(name) ?? new Set();
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      byName.set(name, set);
      return () => set.delete(wrapped);
    },
    onAny(listener: AnyListener): () => void {
      all.add(listener);
      return () => all.delete(listener);
    },
  };
}
export type EventBus = ReturnType<typeof createEventBus>;
