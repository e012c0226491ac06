import { userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Clock, Ids, Random } from '../ports';

export const systemClock: Clock = { now: () => Date.now() };
export const systemIds: Ids = { uuid: () => randomUUID() };
export const systemRandom: Random = { next: () => Math.random() };

/** The person at this machine, for the audit log: the OS account name (some containers have none). */
export function localActor(): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid: fall back to the environment.
  }
  return process.env.USER || process.env.USERNAME || 'local user';
}
