// The project may not read ../shared at run time or in tests (a user's machine has none), so this script cuts
// the vendor spec down to the operations we call and writes a file that is committed; tests validate against it.
// Output must be byte-stable for a given spec: `--check` compares bytes to catch a stale committed file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isJsonObject, type Json, type JsonObject } from './json';
import { MIRAKL_OPERATIONS, MIRAKL_OPERATION_IDS, type MiraklOperationId } from './operations';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const defaultSpecPath = resolve(repoRoot, '../shared/specs/mirakl/mirakl-mmp-seller-openapi.json');
export const subsetPath = fileURLToPath(new URL('./mirakl-seller-subset.json', import.meta.url));
export const examplesPath = fileURLToPath(new URL('./mirakl-seller-examples.json', import.meta.url));

export type DeriveResult = {
  text: string;
  operations: number;
  schemas: number;
  bytes: number;
};

export type CheckResult = { isUpToDate: true } | { isUpToDate: false; message: string };

/** One example as the spec publishes it: prose and value untouched, so a test sees exactly what Mirakl shows. */
export type SpecExample = { mediaType: string; summary: string | null; value: Json };
/** Per operation: request examples by name, and response examples by status, then by name. */
export type OperationExamples = { request?: Record<string, SpecExample>; responses: Record<string, Record<string, SpecExample>> };
export type ExamplesDocument = {
  'x-derived-from': { file: string; sha256: string; generator: string };
  operations: Partial<Record<MiraklOperationId, OperationExamples>>;
};

export type DeriveExamplesResult = { text: string; examples: number; bytes: number };

// Prose only: none of these changes what a request or response may contain.
const proseKeys = new Set(['description', 'summary', 'example', 'examples', 'externalDocs', 'tags', 'title']);

// Under these keys an object's keys are names (a property called "description", a media type, a status
// code), not keywords, so they are never stripped; their values are walked as keyword objects again.
const nameMapKeys = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'dependentSchemas',
  'responses',
  'content',
  'headers',
  'encoding',
  'mapping',
  'variables',
]);

// Literal data: copied as is, never walked for keywords.
const dataKeys = new Set(['enum', 'const', 'default', 'required', 'security']);

// Facts the spec states only in prose. They are lifted into `x-derived-*` keys before the prose is dropped,
// because validation needs them (pagination style, documented enum values, comma-separated query lists).
const derivedPrefix = 'x-derived-';

const quotedValues = (text: string): string[] => [...text.matchAll(/`"([^"`]*)"`/g)].map((m) => m[1] ?? '');

function documentedEnum(description: string): string[] | undefined {
  if (!description.includes('Enum:')) return undefined;
  const current = /Enum:\s*((?:`"[^"`]*"`(?:,\s*)?)+)/.exec(description);
  if (!current?.[1]) throw new Error(`cannot parse the enum in a description: ${JSON.stringify(description.slice(0, 200))}`);
  const deprecated = /Deprecated values:\s*((?:`"[^"`]*"`(?:,\s*)?)+)/.exec(description);
  return [...quotedValues(current[1]), ...(deprecated?.[1] ? quotedValues(deprecated[1]) : [])];
}

function operationFacts(description: string): JsonObject {
  const facts: JsonObject = {};
  const pagination = /supports (\w+) pagination/.exec(description)?.[1];
  if (pagination) facts[`${derivedPrefix}pagination`] = pagination;
  if (/supports <code>locale<\/code> parameter/.test(description)) facts[`${derivedPrefix}locale`] = true;
  const sortSection = /Sort fields<\/div>([\s\S]*?)(?:<div class="extension-title">|$)/.exec(description)?.[1];
  if (sortSection) facts[`${derivedPrefix}sort-fields`] = [...sortSection.matchAll(/<li><b>([^<]+)<\/b>/g)].map((m) => m[1] ?? '');
  return facts;
}

function stripKeywords(node: Json): Json {
  if (Array.isArray(node)) return node.map(stripKeywords);
  if (!isJsonObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (proseKeys.has(key) || (key.startsWith('x-') && !key.startsWith(derivedPrefix))) continue;
    if (dataKeys.has(key)) out[key] = value;
    else if (nameMapKeys.has(key) && isJsonObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, member]) => [name, stripKeywords(member)]));
    } else out[key] = stripKeywords(value);
  }
  const description = node['description'];
  if (typeof description !== 'string') return out;
  const isParameter = typeof node['in'] === 'string' && typeof node['name'] === 'string';
  if (isParameter && /comma-separated/i.test(description)) out[`${derivedPrefix}comma-separated`] = true;
  // A parameter's prose describes its schema, so the values belong on the schema.
  const target = isParameter ? out['schema'] : out;
  const values = documentedEnum(description);
  if (values && isJsonObject(target) && !('enum' in target)) target[`${derivedPrefix}enum`] = values;
  return out;
}

function stripOperation(operation: JsonObject): Json {
  // The operation's prose is read for operation facts only, never for a schema enum.
  const { description, ...rest } = operation;
  const stripped = stripKeywords(rest);
  return isJsonObject(stripped) && typeof description === 'string' ? { ...stripped, ...operationFacts(description) } : stripped;
}

function collectRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) node.forEach((child) => collectRefs(child, into));
  if (!isJsonObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') into.add(value);
    // A discriminator's subtypes are reached by name, not by $ref, but validating an instance needs them.
    else if (key === 'mapping' && isJsonObject(value)) {
      for (const target of Object.values(value)) if (typeof target === 'string') into.add(target);
    } else if (!dataKeys.has(key)) collectRefs(value, into);
  }
}

const decodePointerToken = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');

function componentRef(ref: string): { kind: string; name: string } {
  const match = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
  if (!match?.[1] || !match[2]) throw new Error(`unsupported $ref ${ref}: only #/components/<kind>/<name> is handled`);
  return { kind: decodePointerToken(match[1]), name: decodePointerToken(match[2]) };
}

function sortKeys(node: Json): Json {
  if (Array.isArray(node)) return node.map(sortKeys);
  if (!isJsonObject(node)) return node;
  // Code-unit order, not localeCompare: the output must not depend on the machine's ICU data.
  const keys = Object.keys(node).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((key) => [key, sortKeys(node[key] ?? null)]));
}

const child = (node: Json | undefined, key: string): Json | undefined => (isJsonObject(node) ? node[key] : undefined);

export function deriveSubset(specBytes: Uint8Array, sourceFileName: string): DeriveResult {
  const spec = JSON.parse(Buffer.from(specBytes).toString('utf8')) as Json;
  const paths: JsonObject = {};
  const refs = new Set<string>();
  const schemeNames = new Set<string>();

  for (const operationId of MIRAKL_OPERATION_IDS) {
    const { method, path } = MIRAKL_OPERATIONS[operationId];
    const pathItem = child(child(spec, 'paths'), path);
    const operation = child(pathItem, method);
    if (!isJsonObject(pathItem) || !isJsonObject(operation) || operation['operationId'] !== operationId) {
      throw new Error(`${operationId} is not at ${method.toUpperCase()} ${path} in ${sourceFileName}: update operations.ts`);
    }
    const keptItem = isJsonObject(paths[path]) ? paths[path] : {};
    const pathParameters = pathItem['parameters'];
    if (Array.isArray(pathParameters)) keptItem['parameters'] = stripKeywords(pathParameters);
    const kept = stripOperation(operation);
    keptItem[method] = kept;
    paths[path] = keptItem;
    collectRefs(keptItem, refs);
    const security = operation['security'];
    if (Array.isArray(security)) {
      for (const requirement of security) if (isJsonObject(requirement)) Object.keys(requirement).forEach((n) => schemeNames.add(n));
    }
  }

  const components: Record<string, JsonObject> = {};
  const pending = [...refs];
  const seen = new Set<string>(pending);
  for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
    const { kind, name } = componentRef(ref);
    const source = child(child(child(spec, 'components'), kind), name);
    if (source === undefined) throw new Error(`${ref} is referenced but not defined in ${sourceFileName}`);
    const stripped = stripKeywords(source);
    (components[kind] ??= {})[name] = stripped;
    const found = new Set<string>();
    collectRefs(stripped, found);
    for (const next of found) {
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(next);
    }
  }

  for (const name of schemeNames) {
    const scheme = child(child(child(spec, 'components'), 'securitySchemes'), name);
    if (scheme === undefined) throw new Error(`security scheme ${name} is used but not defined in ${sourceFileName}`);
    (components['securitySchemes'] ??= {})[name] = stripKeywords(scheme);
  }

  const info = child(spec, 'info');
  const document: JsonObject = {
    openapi: child(spec, 'openapi') ?? null,
    info: { title: child(info, 'title') ?? '', version: child(info, 'version') ?? '' },
    'x-derived-from': {
      file: sourceFileName,
      sha256: createHash('sha256').update(specBytes).digest('hex'),
      operationIds: [...MIRAKL_OPERATION_IDS],
      generator: 'core/sandbox/mirakl/openapi/derive.ts',
    },
    paths,
    components,
  };
  const text = `${JSON.stringify(sortKeys(document), null, 2)}\n`;
  return {
    text,
    operations: MIRAKL_OPERATION_IDS.length,
    schemas: Object.keys(components['schemas'] ?? {}).length,
    bytes: Buffer.byteLength(text),
  };
}

// The subset drops examples because they are prose to a validator. Yet they are evidence of what Mirakl really
// sends (nulls, older field names, deprecated fields alone), so they are kept beside it, values untouched, for the
// tests and for the sandbox's list of deliberate deviations (core/sandbox/mirakl/deviations.ts).
function examplesOf(content: Json | undefined, where: string): Record<string, SpecExample> {
  const out: Record<string, SpecExample> = {};
  if (!isJsonObject(content)) return out;
  for (const [mediaType, media] of Object.entries(content)) {
    if (!isJsonObject(media)) continue;
    const named = media['examples'];
    const entries: [string, Json][] = isJsonObject(named) ? Object.entries(named) : [];
    if (media['example'] !== undefined) entries.push([mediaType, { value: media['example'] }]);
    for (const [name, example] of entries) {
      if (!isJsonObject(example) || !('value' in example)) throw new Error(`example ${name} of ${where} has no inline value: derive.ts reads inline examples only`);
      if (out[name] !== undefined) throw new Error(`example ${name} appears twice in ${where}`);
      const summary = example['summary'];
      out[name] = { mediaType, summary: typeof summary === 'string' ? summary : null, value: example['value'] ?? null };
    }
  }
  return out;
}

export function deriveExamples(specBytes: Uint8Array, sourceFileName: string): DeriveExamplesResult {
  const spec = JSON.parse(Buffer.from(specBytes).toString('utf8')) as Json;
  const operations: Partial<Record<MiraklOperationId, OperationExamples>> = {};
  let count = 0;
  for (const operationId of MIRAKL_OPERATION_IDS) {
    const { method, path } = MIRAKL_OPERATIONS[operationId];
    const operation = child(child(child(spec, 'paths'), path), method);
    if (!isJsonObject(operation) || operation['operationId'] !== operationId) {
      throw new Error(`${operationId} is not at ${method.toUpperCase()} ${path} in ${sourceFileName}: update operations.ts`);
    }
    const request = examplesOf(child(operation['requestBody'], 'content'), `${operationId} request`);
    const responses: Record<string, Record<string, SpecExample>> = {};
    const declared = operation['responses'];
    for (const [status, response] of Object.entries(isJsonObject(declared) ? declared : {})) {
      const examples = examplesOf(child(response, 'content'), `${operationId} ${status}`);
      if (Object.keys(examples).length > 0) responses[status] = examples;
      count += Object.keys(examples).length;
    }
    count += Object.keys(request).length;
    operations[operationId] = { ...(Object.keys(request).length > 0 ? { request } : {}), responses };
  }
  const document: ExamplesDocument = {
    'x-derived-from': {
      file: sourceFileName,
      sha256: createHash('sha256').update(specBytes).digest('hex'),
      generator: 'core/sandbox/mirakl/openapi/derive.ts',
    },
    operations,
  };
  const text = `${JSON.stringify(document, null, 2)}\n`;
  return { text, examples: count, bytes: Buffer.byteLength(text) };
}

export function checkSubset(derivedText: string, committedText: string | undefined, specPath: string): CheckResult {
  return checkDerived(subsetPath, derivedText, committedText, specPath);
}

export function checkExamples(derivedText: string, committedText: string | undefined, specPath: string): CheckResult {
  return checkDerived(examplesPath, derivedText, committedText, specPath);
}

function checkDerived(path: string, derivedText: string, committedText: string | undefined, specPath: string): CheckResult {
  if (committedText === derivedText) return { isUpToDate: true };
  const hashOf = (text: string): string => {
    const parsed = JSON.parse(text) as Json;
    const hash = child(child(parsed, 'x-derived-from'), 'sha256');
    return typeof hash === 'string' ? hash.slice(0, 12) : 'unknown';
  };
  const reason =
    committedText === undefined
      ? `${path} does not exist`
      : hashOf(committedText) === hashOf(derivedText)
        ? `${path} differs from what derive.ts now produces from the same spec (edited by hand, or derive.ts changed)`
        : `${path} was derived from spec sha256 ${hashOf(committedText)}…, but ${specPath} is now ${hashOf(derivedText)}…`;
  return { isUpToDate: false, message: `${reason}. Run \`npm run spec:derive\` and commit the result.` };
}

function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { spec: { type: 'string' }, check: { type: 'boolean', default: false } } });
  const specPath = values.spec ? resolve(process.cwd(), values.spec) : defaultSpecPath;
  if (!existsSync(specPath)) {
    console.error(`derive: spec not found at ${specPath}. Pass --spec <path> to the Mirakl seller OpenAPI file.`);
    return 2;
  }
  const specBytes = readFileSync(specPath);
  const subset = deriveSubset(specBytes, basename(specPath));
  const examples = deriveExamples(specBytes, basename(specPath));
  const outputs = [
    { path: subsetPath, text: subset.text, check: checkSubset, what: `${subset.operations} operations, ${subset.schemas} schemas, ${subset.bytes} bytes` },
    { path: examplesPath, text: examples.text, check: checkExamples, what: `${examples.examples} examples, ${examples.bytes} bytes` },
  ];
  for (const output of outputs) {
    if (values.check) {
      const committed = existsSync(output.path) ? readFileSync(output.path, 'utf8') : undefined;
      const check = output.check(output.text, committed, specPath);
      if (!check.isUpToDate) {
        console.error(`derive --check: ${check.message}`);
        return 1;
      }
    } else {
      writeFileSync(output.path, output.text);
    }
    console.log(`derive: ${values.check ? 'up to date' : 'wrote'} ${output.path}: ${output.what}`);
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(process.argv.slice(2));
}
