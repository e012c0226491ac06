import { randomUUID } from 'node:crypto';
import type { Clock, Ids, Random } from '../ports';

export const systemClock: Clock = { now: () => Date.now() };
export const systemIds: Ids = { uuid: () => randomUUID() };
export const systemRandom: Random = { next: () => Math.random() };
