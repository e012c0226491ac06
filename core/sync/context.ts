import type { MiraklClient } from '../mirakl/client';
import type { Random } from '../ports';
import { createDomainContext, type DomainContext, type DomainPorts } from '../ledger/domain';
import type { ReboundApi } from './rebound-api';

export { createDomainContext, type DomainContext, type DomainPorts } from '../ledger/domain';

// Everything a feed needs, built once from the injected ports.
export interface EngineContext extends DomainContext {
  random: Random;
  mirakl: MiraklClient;
  rebound: ReboundApi;
  /** Where ReBound should POST notifications, when this machine can receive them. */
  webhook: { url: string; secret: string } | null;
  /** Instrumented crash points for the crash and chaos tests; absent in the app. */
  crash?: (point: string) => void;
}

export function createEngineContext(ports: DomainPorts & Omit<EngineContext, keyof DomainContext>): EngineContext {
  const { random, mirakl, rebound, webhook, crash } = ports;
  return { ...createDomainContext(ports), random, mirakl, rebound, webhook, ...(crash ? { crash } : {}) };
}

export const isoAt = (ms: number) => new Date(ms).toISOString();
