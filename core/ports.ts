import type { EventName, EventPayload } from './contract';

// The ports core is built from. Only the default adapters in core/adapters touch the real clock, randomness,
// network or keychain, so every test can build a core in a line and run it on a fake clock.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A source of numbers in [0, 1): jitter and sampling. Seeded in tests. */
export interface Random {
  next(): number;
}

export interface Ids {
  uuid(): string;
}

export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/** Where core announces what happened (the contract's typed events): the app's event bus, or nothing in a CLI. */
export interface EventSink {
  emit<K extends EventName>(name: K, payload: EventPayload<K>): void;
}
