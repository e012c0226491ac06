import type { MiraklClient } from '../mirakl/client';
import type { Random } from '../ports';
import { createDomainContext, type DomainContext, type DomainPorts } from '../ledger/domain';
import { createCallWindow, paced, type CallWindow } from './pacing';
import type { ReboundApi } from './rebound-api';
import { createTouched, type Touched } from './touched';
import { writeFreezeOf, type WriteFreeze } from '../store/write-freeze-repo';

/** The planners sweep every return in flight at least this often, whatever was touched (see touched.ts). */
const sweepEveryMs = 15 * 60_000;

export { createDomainContext, type DomainContext, type DomainPorts } from '../ledger/domain';

// Everything a feed needs, built once from the injected ports.
export interface EngineContext extends DomainContext {
  random: Random;
  mirakl: MiraklClient;
  /** ReBound, each call counted against its per-client rate limit (`reboundCalls`), which every stage shares. */
  rebound: ReboundApi;
  reboundCalls: CallWindow;
  /** Per intent kind, until when its unfull batch waits for more writes to join it (see pacing.ts). */
  holds: Map<string, number>;
  /** What changed since each planner last looked (see touched.ts). */
  touched: Touched;
  /** A return changed (its units, its state, its order or refunds): the planners look at it again. */
  touch(returnId: string): void;
  /** Where ReBound should POST notifications, when this machine can receive them. */
  webhook: { url: string; secret: string } | null;
  /** Instrumented crash points for the crash and chaos tests; absent in the app. */
  crash?: (point: string) => void;
  /** The write freeze in force (DESIGN row 27): while set, no call that changes Mirakl or ReBound is sent. */
  writes: { current(): WriteFreeze | null };
}

export function createEngineContext(
  ports: DomainPorts & Omit<EngineContext, keyof DomainContext | 'reboundCalls' | 'holds' | 'touched' | 'touch' | 'writes'> & { writes?: EngineContext['writes'] },
): EngineContext {
  const { random, mirakl, rebound, webhook, crash } = ports;
  // Without a freeze given (a CLI engine on the main database), the one kept in this database's settings.
  const writes = ports.writes ?? writeFreezeOf(ports.db, ports.clock);
  const domain = createDomainContext(ports);
  const reboundCalls = createCallWindow(() => ports.mappings().policy.rebound.callsPerMinute, 60_000);
  const touched = createTouched(sweepEveryMs);
  return {
    ...domain,
    random,
    mirakl,
    rebound: paced(rebound, 'rebound', reboundCalls, ports.clock),
    reboundCalls,
    holds: new Map(),
    touched,
    touch: (returnId) => touched.touch(returnId),
    webhook,
    writes,
    ...(crash ? { crash } : {}),
  };
}

export const isoAt = (ms: number) => new Date(ms).toISOString();
