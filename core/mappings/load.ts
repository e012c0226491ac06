import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
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

/** A mapping file is small, hand-edited YAML: anything larger is refused before it is parsed. */
export const maxMappingBytes = 1_000_000;
/** Alias expansions allowed while a file is read: enough for a hand-written anchor or two, never for a bomb. */
const maxAliasCount = 100;

export function parseMappingFile<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxMappingBytes) {
    throw new MappingError(file, [{ path: '', message: `the file is ${bytes} bytes; a mapping file is at most 1 MB (${maxMappingBytes} bytes)` }]);
  }
  const lines = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { prettyErrors: true, lineCounter: lines });
  } catch (error) {
    throw new MappingError(file, [{ path: '', message: `expected YAML; it cannot be read (${(error as Error).message})` }]);
  }
  if (doc.errors.length > 0) {
    throw new MappingError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (error) {
    // yaml refuses an alias that expands too far (a "billion laughs" bomb) with a ReferenceError.
    const at = firstAlias(doc);
    const where = at === null ? '' : lines.linePos(at);
    throw new MappingError(file, [
      {
        path: typeof where === 'string' ? where : `line ${where.line}, column ${where.col}`,
        message:
          error instanceof ReferenceError
            ? `its aliases (*name) expand to more than a mapping file can hold (at most ${maxAliasCount} expansions): write the entries out instead`
            : `expected plain YAML values; it cannot be read (${(error as Error).message})`,
      },
    ]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new MappingError(
      file,
      parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''), message: i.message })),
    );
  }
  return parsed.data;
}

/** Where the document's first alias starts (an offset into its text), or null when it has none. */
function firstAlias(doc: Document.Parsed): number | null {
  let offset: number | null = null;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? null;
      return visit.BREAK;
    },
  });
  return offset;
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
    const bytes = statSync(path).size;
    if (bytes > maxMappingBytes) throw new MappingError(path, [{ path: '', message: `the file is ${bytes} bytes; a mapping file is at most 1 MB (${maxMappingBytes} bytes)` }]);
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
