import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadMappings, MappingError, shippedMappingsDir, type Mappings } from '../../core/mappings/load';
import type { mappingEditVariants } from './plan';

// A person edits a mapping file in the data directory while sync runs (the app's mapping editor writes the same
// files). A valid edit is picked up at the next cycle and on every restart; a malformed one must be refused whole,
// naming the file, and the last good mappings stay in force until the person fixes it.

export type MappingEdit = (typeof mappingEditVariants)[number];

export interface MappingsDir {
  readonly dir: string;
  current(): Mappings;
  /** Writes the edit, reloads, and says what happened (a refused edit is put back as it was). */
  apply(edit: MappingEdit, soldSkus: string[], pick: <T>(items: readonly T[]) => T): { applied: string; violation: string | null };
}

export function createMappingsDir(dataDir: string): MappingsDir {
  const dir = join(dataDir, 'mappings');
  mkdirSync(dir, { recursive: true });
  let mappings = loadMappings(shippedMappingsDir, dir);
  const write = (name: 'reason-codes.yaml' | 'policy.yaml' | 'sku-offers.yaml', value: unknown) => writeFileSync(join(dir, name), stringify(value));

  return {
    dir,
    current: () => mappings,
    apply(edit, soldSkus, pick) {
      const before = mappings;
      switch (edit) {
        case 'addReason': {
          const reasons = before.reasonCodes.reasons.filter((r) => r.mirakl !== 'RETURN_DAMAGED_PACKAGING');
          write('reason-codes.yaml', {
            version: before.reasonCodes.version + 1,
            reasons: [...reasons, { mirakl: 'RETURN_DAMAGED_PACKAGING', rebound: 'Damaged packaging', refund: '12' }],
          });
          break;
        }
        case 'refundCodeChange': {
          const reasons = before.reasonCodes.reasons.map((r) => (r.refund === '11' ? { ...r, refund: '13' } : r));
          write('reason-codes.yaml', { version: before.reasonCodes.version + 1, reasons });
          break;
        }
        case 'triggerInspected':
          write('policy.yaml', { ...before.policy, version: before.policy.version + 1, refunds: { ...before.policy.refunds, trigger: 'inspected' } });
          break;
        case 'restockNever': {
          if (soldSkus.length === 0) return { applied: 'restockNever (no SKU sold yet: nothing edited)', violation: null };
          const sku = pick(soldSkus);
          const overrides = before.skuOffers.overrides.filter((o) => o.orderSku !== sku);
          write('sku-offers.yaml', { version: before.skuOffers.version + 1, overrides: [...overrides, { orderSku: sku, restock: false }] });
          break;
        }
        case 'malformed': {
          // A cadence below Mirakl's budget: valid YAML, invalid mapping. It must be refused, naming the file.
          const file = join(dir, 'policy.yaml');
          writeFileSync(file, stringify({ ...before.policy, cadences: { ...before.policy.cadences, returnsPollSeconds: 30 } }));
          let violation: string | null = `MAPPINGS: a policy.yaml with returnsPollSeconds 30 was accepted`;
          try {
            loadMappings(shippedMappingsDir, dir);
          } catch (error) {
            const isNamed = error instanceof MappingError && error.file === file && /cadences\.returnsPollSeconds/.test(error.message);
            violation = isNamed ? null : `MAPPINGS: a malformed policy.yaml was refused without naming the file and path: ${(error as Error).message}`;
          }
          // The person fixes the file: it goes back to the last good content.
          write('policy.yaml', before.policy);
          mappings = loadMappings(shippedMappingsDir, dir);
          return { applied: 'malformed policy.yaml (refused, then fixed)', violation };
        }
      }
      mappings = loadMappings(shippedMappingsDir, dir);
      return { applied: edit, violation: null };
    },
  };
}
