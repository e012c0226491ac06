import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { policySchema, reasonCodesSchema, skuOffersSchema, type Policy, type ReasonCodes, type SkuOffers } from './schemas';

// Mappings are validated files, never code. The shipped defaults live in mappings/; a user's edited copy of a
// file in <dataDir>/mappings/ replaces the default. A bad file is rejected whole, naming the file, the path
// inside it and what was expected: a mapping is never half-applied or silently defaulted.

export const mappingFiles = {
  reasonCodes: { file: 'reason-codes.yaml', schema: reasonCodesSchema },
  skuOffers: { file: 'sku-offers.yaml', schema: skuOffersSchema },
  policy: { file: 'policy.yaml', schema: policySchema },
} as const;

export type MappingName = keyof typeof mappingFiles;

export interface Mappings {
  reasonCodes: ReasonCodes;
  skuOffers: SkuOffers;
  policy: Policy;
  /** `<name>@v<version>:<sha256 prefix>` per file: stored with every record a mapping decided. */
  versions: Record<MappingName, string>;
  sources: Record<MappingName, string>;
}

export class MappingError extends Error {
  override name = 'MappingError';
  constructor(
    readonly file: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${file} is not a valid mapping file:\n${problems.map((p) => `  at ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
  }
}

export const shippedMappingsDir = fileURLToPath(new URL('../../mappings/', import.meta.url));

export function parseMappingFile<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new MappingError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new MappingError(
      file,
      parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''), message: i.message })),
    );
  }
  return parsed.data;
}

/** `<name>@v<version>:<sha256 prefix of the text>`: two texts with the same version number stay distinguishable. */
export function mappingVersion(name: MappingName, value: { version: number }, text: string): string {
  return `${name}@v${value.version}:${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/** Loads every mapping file, preferring the user's copy in `userDir` over the shipped default. */
export function loadMappings(shippedDir: string = shippedMappingsDir, userDir?: string): Mappings {
  const load = <N extends MappingName>(name: N) => {
    const { file, schema } = mappingFiles[name];
    const userFile = userDir ? join(userDir, file) : undefined;
    const path = userFile && existsSync(userFile) ? userFile : join(shippedDir, file);
    const text = readFileSync(path, 'utf8');
    const value = parseMappingFile(path, text, schema) as z.output<(typeof mappingFiles)[N]['schema']>;
    return { value, version: mappingVersion(name, value as { version: number }, text), path };
  };
  const reasonCodes = load('reasonCodes');
  const skuOffers = load('skuOffers');
  const policy = load('policy');
  return {
    reasonCodes: reasonCodes.value,
    skuOffers: skuOffers.value,
    policy: policy.value,
    versions: { reasonCodes: reasonCodes.version, skuOffers: skuOffers.version, policy: policy.version },
    sources: { reasonCodes: reasonCodes.path, skuOffers: skuOffers.path, policy: policy.path },
  };
}
