import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

// Answers made from an OpenAPI 3 document, seeded so a failing case comes back on every run. `strict` makes values
// the schema accepts; `mirakl` makes the shapes Mirakl really sends (optional fields left out or null, enum values
// it has not documented yet, fields it added since, numbers written as strings); `spoil` breaks one required field.
// Keywords read: $ref, allOf/oneOf/anyOf, discriminator (mapping), type, properties, required, items, enum (and the
// derived x-derived-enum), nullable, format (date-time, date, int32, int64), minimum/maximum, min/maxLength,
// min/maxItems, uniqueItems. Anything else is ignored.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface SamplerRng {
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** Float in [0, 1). */
  float(): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function createSamplerRng(seed: number): SamplerRng {
  const gen = xoroshiro128plus(seed | 0);
  return {
    int: (min, max) => uniformInt(gen, min, max),
    float: () => uniformFloat64(gen),
    chance: (p) => p > 0 && uniformFloat64(gen) < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('cannot pick from an empty list');
      return items[uniformInt(gen, 0, items.length - 1)] as (typeof items)[number];
    },
  };
}

/** How far from the schema a sample strays. Each number is a chance, per field. */
export interface Looseness {
  /** A property the schema does not require is left out. */
  omitOptional: number;
  /** A property the schema does not require is sent as null. */
  nullOptional: number;
  /** An enum field carries a value the spec does not list. */
  unknownEnum: number;
  /** An object carries a field the spec does not declare. */
  extraField: number;
  /** A number is sent as a decimal string ("12.50"), an integer as a string of digits ("3"). */
  numberAsString: number;
}

export const strictShapes: Looseness = { omitOptional: 0.3, nullOptional: 0, unknownEnum: 0, extraField: 0, numberAsString: 0 };
export const miraklShapes: Looseness = { omitOptional: 0.3, nullOptional: 0.15, unknownEnum: 0.1, extraField: 0.1, numberAsString: 0.15 };

export interface Spoiled {
  value: JsonValue;
  /** What was broken, e.g. `return_lines[0].quantity: removed`. */
  change: string;
}

export interface SchemaSampler {
  readonly rng: SamplerRng;
  /** The schema object a node stands for: $ref followed, allOf merged (a discriminator on a merged base is dropped). */
  resolve(schema: JsonValue | undefined): JsonObject;
  /** The JSON body schema of one response of one operation. */
  responseSchema(path: string, method: string, status: string): JsonObject;
  sample(schema: JsonValue, shapes: Looseness): JsonValue;
  /**
   * A copy of `value` with one field its schema requires removed, nulled or given a value of the wrong type. Fields
   * named in `preferred` (by their own name, at any depth) are picked more often than the others.
   */
  spoil(schema: JsonValue, value: JsonValue, preferred?: ReadonlySet<string>): Spoiled;
}

export interface SamplerOptions {
  /** Beyond this depth objects carry only required fields and arrays only their minimum of items. */
  maxDepth?: number;
  /** Most items an array gets at the top of a record; deeper arrays get fewer. */
  maxItems?: number;
}

const isObject = (value: JsonValue | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringsOf = (value: JsonValue | undefined): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const numberOf = (value: JsonValue | undefined): number | undefined => (typeof value === 'number' ? value : undefined);

export function createSchemaSampler(document: JsonValue, seed: number, options: SamplerOptions = {}): SchemaSampler {
  const rng = createSamplerRng(seed);
  const maxDepth = options.maxDepth ?? 5;
  const maxItems = options.maxItems ?? 3;
  const resolved = new Map<string, JsonObject>();
  let extraCounter = 0;

  function pointer(ref: string): JsonValue | undefined {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref are handled, not ${ref}`);
    let node: JsonValue | undefined = document;
    for (const token of ref.slice(2).split('/')) node = isObject(node) ? node[token.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    if (node === undefined) throw new Error(`${ref} does not resolve`);
    return node;
  }

  /** Follows $ref; keywords beside a $ref (type, deprecated) are kept where the target lacks them. */
  function deref(schema: JsonValue | undefined, seen: readonly string[] = []): JsonObject {
    if (!isObject(schema)) return {};
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    if (seen.includes(ref)) throw new Error(`$ref loop through ${ref}`);
    const { $ref: _ref, ...siblings } = schema;
    return { ...siblings, ...deref(pointer(ref), [...seen, ref]) };
  }

  function resolve(schema: JsonValue | undefined): JsonObject {
    const key = isObject(schema) && typeof schema['$ref'] === 'string' && Object.keys(schema).length <= 2 ? schema['$ref'] : undefined;
    const cached = key === undefined ? undefined : resolved.get(key);
    if (cached) return cached;
    const out = merge(deref(schema));
    if (key !== undefined) resolved.set(key, out);
    return out;
  }

  /** allOf folded into one schema: properties and required united, the rest taken from the first that has it. */
  function merge(schema: JsonObject): JsonObject {
    const parts = Array.isArray(schema['allOf']) ? schema['allOf'] : [];
    if (parts.length === 0) return schema;
    const { allOf: _allOf, ...own } = schema;
    const out: JsonObject = { ...own };
    const properties: JsonObject = { ...(isObject(own['properties']) ? own['properties'] : {}) };
    const required = new Set(stringsOf(own['required']));
    for (const part of parts) {
      const { discriminator: _discriminator, ...base } = merge(deref(part));
      for (const [name, value] of Object.entries(isObject(base['properties']) ? base['properties'] : {})) properties[name] ??= value;
      for (const name of stringsOf(base['required'])) required.add(name);
      for (const [keyword, value] of Object.entries(base)) if (keyword !== 'properties' && keyword !== 'required') out[keyword] ??= value;
    }
    return { ...out, properties, required: [...required] };
  }

  function typeOf(schema: JsonObject): string | undefined {
    const type = schema['type'];
    if (typeof type === 'string') return type;
    if (isObject(schema['properties'])) return 'object';
    if (schema['items'] !== undefined) return 'array';
    return undefined;
  }

  function sample(schema: JsonValue, shapes: Looseness, depth = 0): JsonValue {
    const s = resolve(schema);
    if (s['nullable'] === true && rng.chance(0.1)) return null;
    const branches = Array.isArray(s['oneOf']) ? s['oneOf'] : Array.isArray(s['anyOf']) ? s['anyOf'] : undefined;
    if (branches && branches.length > 0) {
      const { oneOf: _oneOf, anyOf: _anyOf, ...rest } = s;
      return sample({ allOf: [rest, rng.pick(branches)] }, shapes, depth);
    }
    const discriminator = s['discriminator'];
    if (isObject(discriminator) && isObject(discriminator['mapping']) && typeof discriminator['propertyName'] === 'string') {
      const { discriminator: _discriminator, ...base } = s;
      const tags = Object.keys(discriminator['mapping']);
      if (tags.length === 0) return sample(base, shapes, depth);
      if (rng.chance(shapes.unknownEnum)) {
        // A subtype Mirakl added after this spec: the base fields, and a tag no mapping names.
        const value = sample(base, shapes, depth);
        if (isObject(value)) value[discriminator['propertyName']] = `UNDOCUMENTED_TYPE_${rng.int(1, 9)}`;
        return value;
      }
      const tag = rng.pick(tags);
      const target = discriminator['mapping'][tag];
      const value = sample(typeof target === 'string' ? { $ref: target } : base, shapes, depth);
      if (isObject(value)) value[discriminator['propertyName']] = tag;
      return value;
    }
    const values = [...(Array.isArray(s['enum']) ? s['enum'] : []), ...stringsOf(s['x-derived-enum'])];
    if (values.length > 0) return rng.chance(shapes.unknownEnum) ? `UNDOCUMENTED_VALUE_${rng.int(1, 99)}` : rng.pick(values);
    switch (typeOf(s)) {
      case 'object':
        return sampleObject(s, shapes, depth);
      case 'array':
        return sampleArray(s, shapes, depth);
      case 'integer': {
        const n = sampleInteger(s);
        return rng.chance(shapes.numberAsString) ? String(n) : n;
      }
      case 'number': {
        const n = sampleNumber(s);
        return rng.chance(shapes.numberAsString) ? n.toFixed(2) : n;
      }
      case 'boolean':
        return rng.chance(0.5);
      case 'string':
        return sampleString(s);
      default:
        return sampleString({});
    }
  }

  function sampleObject(s: JsonObject, shapes: Looseness, depth: number): JsonObject {
    const properties = isObject(s['properties']) ? s['properties'] : {};
    const required = new Set(stringsOf(s['required']));
    const out: JsonObject = {};
    for (const [name, propertySchema] of Object.entries(properties)) {
      if (!required.has(name)) {
        if (depth >= maxDepth || rng.chance(shapes.omitOptional)) continue;
        if (rng.chance(shapes.nullOptional)) {
          out[name] = null;
          continue;
        }
      }
      out[name] = sample(propertySchema, shapes, depth + 1);
    }
    if (rng.chance(shapes.extraField)) {
      const name = `field_added_later_${++extraCounter % 50}`;
      if (!(name in properties)) out[name] = rng.pick<JsonValue>(['text', 42, 1.5, true, null, { nested: 'value' }, ['a', 'b']]);
    }
    return out;
  }

  function sampleArray(s: JsonObject, shapes: Looseness, depth: number): JsonValue[] {
    const min = numberOf(s['minItems']) ?? 0;
    const max = Math.max(min, Math.min(numberOf(s['maxItems']) ?? Infinity, depth >= maxDepth ? min : min + Math.max(1, maxItems - depth)));
    // An empty list is allowed almost everywhere, yet most real lists have something in them.
    const count = rng.int(min === 0 && max > 0 && rng.chance(0.75) ? 1 : min, max);
    const items: JsonValue[] = [];
    for (let i = 0; i < count; i++) items.push(sample(s['items'] ?? {}, shapes, depth + 1));
    if (s['uniqueItems'] !== true) return items;
    const unique = new Map<string, JsonValue>();
    for (const item of items) unique.set(JSON.stringify(item), item);
    return [...unique.values()];
  }

  function sampleInteger(s: JsonObject): number {
    const lowest = s['format'] === 'int32' ? -(2 ** 31) : Number.MIN_SAFE_INTEGER;
    const highest = s['format'] === 'int32' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
    const min = Math.max(lowest, Math.ceil(numberOf(s['minimum']) ?? lowest));
    const max = Math.min(highest, Math.floor(numberOf(s['maximum']) ?? highest));
    // Mostly the small counts an API sends; now and then the edges the schema allows.
    const roll = rng.float();
    const wanted = roll < 0.8 ? rng.int(0, 12) : roll < 0.9 ? rng.int(13, 100_000) : roll < 0.95 ? rng.int(-50, -1) : rng.pick([min, max]);
    return Math.min(max, Math.max(min, wanted));
  }

  function sampleNumber(s: JsonObject): number {
    const min = numberOf(s['minimum']) ?? -1e6;
    const max = numberOf(s['maximum']) ?? 1e6;
    const roll = rng.float();
    const wanted = roll < 0.85 ? rng.int(0, 50_000) / 100 : roll < 0.95 ? -rng.int(1, 50_000) / 100 : rng.pick([min, max, 0]);
    return Math.min(max, Math.max(min, wanted));
  }

  function sampleString(s: JsonObject): string {
    if (s['format'] === 'date-time') {
      const ms = Date.UTC(2019, 0, 1) + rng.int(0, 8 * 365 * 24 * 3600) * 1000;
      const iso = new Date(ms).toISOString();
      return rng.chance(0.5) ? iso.replace('.000Z', 'Z') : iso;
    }
    if (s['format'] === 'date') return new Date(Date.UTC(2019, 0, 1) + rng.int(0, 8 * 365) * 86_400_000).toISOString().slice(0, 10);
    const min = numberOf(s['minLength']) ?? 0;
    const max = Math.max(min, Math.min(numberOf(s['maxLength']) ?? 40, min + 24));
    if (min === 0 && rng.chance(0.03)) return '';
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
    const length = rng.int(Math.max(min, 1), max);
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[rng.int(0, alphabet.length - 1)];
    // Now and then text from outside ASCII, as customer-facing labels are.
    return rng.chance(0.05) ? `${out.slice(0, Math.max(0, length - 1))}é` : out;
  }

  /** Every field the schema requires that is present in `value`, with its schema, by path. */
  function requiredFields(schema: JsonValue, value: JsonValue, path: (string | number)[], into: { path: (string | number)[]; schema: JsonObject }[]): void {
    const s = resolve(schema);
    if (Array.isArray(value)) {
      value.forEach((item, i) => requiredFields(s['items'] ?? {}, item, [...path, i], into));
      return;
    }
    if (!isObject(value)) return;
    const discriminator = s['discriminator'];
    const tag = isObject(discriminator) && typeof discriminator['propertyName'] === 'string' ? value[discriminator['propertyName']] : undefined;
    const mapping = isObject(discriminator) && isObject(discriminator['mapping']) ? discriminator['mapping'] : {};
    const target = typeof tag === 'string' ? mapping[tag] : undefined;
    const effective = typeof target === 'string' ? resolve({ $ref: target }) : s;
    const properties = isObject(effective['properties']) ? effective['properties'] : {};
    const required = new Set(stringsOf(effective['required']));
    for (const [name, propertySchema] of Object.entries(properties)) {
      if (!(name in value)) continue;
      if (required.has(name)) into.push({ path: [...path, name], schema: resolve(propertySchema) });
      requiredFields(propertySchema, value[name] ?? null, [...path, name], into);
    }
  }

  function wrongValue(s: JsonObject): { value: JsonValue; label: string } {
    const overflow = '9'.repeat(400);
    const byType: Record<string, { value: JsonValue; label: string }[]> = {
      string: [
        { value: 12345, label: 'a number' },
        { value: true, label: 'a boolean' },
        { value: { text: 'x' }, label: 'an object' },
        { value: ['x'], label: 'an array' },
      ],
      integer: [
        { value: 'two', label: 'a word' },
        { value: 1.5, label: 'a fraction' },
        { value: -3, label: 'a negative number' },
        { value: overflow, label: 'a 400-digit string' },
        { value: { n: 1 }, label: 'an object' },
      ],
      number: [
        { value: '12,50', label: 'a decimal comma' },
        { value: 'NaN', label: '"NaN"' },
        { value: overflow, label: 'a 400-digit string' },
        { value: true, label: 'a boolean' },
        { value: [1], label: 'an array' },
      ],
      boolean: [
        { value: 'yes', label: '"yes"' },
        { value: 1, label: 'the number 1' },
      ],
      array: [
        { value: { 0: 'x' }, label: 'an object' },
        { value: 'x', label: 'a string' },
      ],
      object: [
        { value: 'x', label: 'a string' },
        { value: [], label: 'an array' },
        { value: 7, label: 'a number' },
      ],
    };
    return rng.pick(byType[typeOf(s) ?? 'string'] ?? byType['string'] ?? []);
  }

  function spoil(schema: JsonValue, value: JsonValue, preferred: ReadonlySet<string> = new Set()): Spoiled {
    const copy = structuredClone(value);
    // A record that is not an object at all: rare, but a proxy or a serializer bug sends exactly that.
    if (!isObject(copy) || rng.chance(0.05)) {
      const replacement = rng.pick<JsonValue>([null, 'unexpected text', 42, []]);
      return { value: replacement, change: `the record replaced by ${JSON.stringify(replacement)}` };
    }
    const fields: { path: (string | number)[]; schema: JsonObject }[] = [];
    requiredFields(schema, copy, [], fields);
    const wanted = fields.filter((f) => preferred.has(String(f.path[f.path.length - 1])));
    const topLevel = fields.filter((f) => f.path.length === 1);
    const choice = rng.float();
    const pool = wanted.length > 0 && choice < 0.5 ? wanted : topLevel.length > 0 && choice < 0.75 ? topLevel : fields;
    const target = pool.length > 0 ? rng.pick(pool) : undefined;
    if (!target) return { value: null, change: 'the record replaced by null (it had no required field to break)' };
    let parent: JsonValue = copy;
    for (const step of target.path.slice(0, -1)) parent = (isObject(parent) ? parent[String(step)] : Array.isArray(parent) ? parent[Number(step)] : null) ?? null;
    const last = String(target.path[target.path.length - 1]);
    if (!isObject(parent)) throw new Error('spoil: a required field path did not lead to an object');
    const where = formatPath(target.path);
    const roll = rng.float();
    if (roll < 0.35) {
      delete parent[last];
      return { value: copy, change: `${where}: removed` };
    }
    if (roll < 0.6) {
      parent[last] = null;
      return { value: copy, change: `${where}: null` };
    }
    const wrong = wrongValue(target.schema);
    parent[last] = wrong.value;
    return { value: copy, change: `${where}: ${wrong.label}` };
  }

  function responseSchema(path: string, method: string, status: string): JsonObject {
    const paths = isObject(document) ? document['paths'] : undefined;
    const operation = isObject(paths) && isObject(paths[path]) ? paths[path][method] : undefined;
    const responses = isObject(operation) ? operation['responses'] : undefined;
    const response = isObject(responses) ? responses[status] : undefined;
    const content = isObject(response) ? response['content'] : undefined;
    const media = isObject(content) ? content['application/json'] : undefined;
    if (!isObject(media) || !isObject(media['schema'])) throw new Error(`no application/json ${status} response for ${method.toUpperCase()} ${path}`);
    return media['schema'];
  }

  return { rng, resolve, responseSchema, sample: (schema, shapes) => sample(schema, shapes), spoil };
}

/** FNV-1a, 32 bits: a stable seed from a name, so each operation gets its own stream whatever runs first. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}
