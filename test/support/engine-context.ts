import type { Database } from 'better-sqlite3';
import { silentLogger } from '../../core/adapters/logger';
import { loadMappings } from '../../core/mappings/load';
import type { MiraklClient } from '../../core/mirakl/client';
import type { Clock } from '../../core/ports';
import { createEngineContext, type EngineContext } from '../../core/sync/context';
import type { ReboundApi } from '../../core/sync/rebound-api';

/**
 * An engine context on a real database, for tests of one feed or route: the shipped mappings, no events, no webhook,
 * and API clients that answer only what the test put in `mirakl` and `rebound` (read when called, so a test may set a
 * method later) — any other call fails, naming it.
 */
export function stubEngineContext(db: Database, clock: Clock, stubs: { mirakl?: Partial<MiraklClient>; rebound?: Partial<ReboundApi> } = {}): EngineContext {
  return createEngineContext({
    db,
    clock,
    log: silentLogger,
    events: null,
    mappings: () => loadMappings(),
    random: { next: () => 0.5 },
    mirakl: strict(stubs.mirakl ?? {}, 'Mirakl') as MiraklClient,
    rebound: strict(stubs.rebound ?? {}, 'ReBound') as ReboundApi,
    webhook: null,
  });
}

function strict<T extends object>(target: T, system: string): T {
  return new Proxy(target, {
    get: (t, k) => t[k as keyof T] ?? (() => Promise.reject(new Error(`unexpected ${system} call ${String(k)}`))),
  });
}
