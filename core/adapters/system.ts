import { randomUUID } from 'node:crypto';
import type { Clock, Ids } from '../ports';

export const systemClock: Clock = { now: () => Date.now() };
export const systemIds: Ids = { uuid: () => randomUUID() };
