import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

// Everything random in the sandbox comes from here. `fork(key)` derives an independent stream from the seed and
// a stable key (a return id, an order id), so what happens to one entity does not depend on the order in which
// a client happens to call: the same seed gives the same world whatever the engine does first.

export interface Rng {
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** Float in [0, 1). */
  float(): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  fork(key: string): Rng;
}

export function createRng(seed: number): Rng {
  const gen = xoroshiro128plus(seed | 0);
  const rng: Rng = {
    int: (min, max) => uniformInt(gen, min, max),
    float: () => uniformFloat64(gen),
    chance: (p) => p > 0 && uniformFloat64(gen) < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('cannot pick from an empty list');
      return items[uniformInt(gen, 0, items.length - 1)] as (typeof items)[number];
    },
    fork: (key) => createRng(hash32(`${seed}:${key}`)),
  };
  return rng;
}

/** FNV-1a, 32 bits: a stable seed from a string key. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
