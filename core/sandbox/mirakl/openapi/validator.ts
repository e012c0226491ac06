// Checks requests and responses against the committed Mirakl subset, so the sandbox cannot drift from the real API.
// Mirakl adds fields and enum values without notice, so the client must tolerate them; the sandbox must never
// invent them, which is why undeclared properties and undocumented enum values are rejected unless turned off.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isJsonObject, type Json, type JsonObject } from './json';
import { MIRAKL_OPERATIONS, isMiraklOperationId, type MiraklOperationId } from './operations';

export type ValidationLocation = 'query' | 'requestBody' | 'response';

export type ValidationIssue = {
  operationId: MiraklOperationId;
  location: ValidationLocation;
  /** A JSON pointer into the body ('' is the body itself), or the query parameter's name. */
  at: string;
  /** The JSON Schema keyword that failed, or one of ours: unknownProperty, undocumentedEnum, unknownParameter, … */
  keyword: string;
  /** What was expected. */
  message: string;
};

export type ValidationOptions = {
  /** Report object properties the schema does not declare (through $ref, allOf, discriminators, arrays). */
  rejectUnknownProperties?: boolean;
  /** Report string values outside the enum the spec documents only in prose (kept by derive.ts as x-derived-enum). */
  rejectUndocumentedEnumValues?: boolean;
  /**
   * Accept null where the schema names another type. No schema here is nullable, yet Mirakl's own examples
   * send null for absent optional fields (label_url, rma, tracking…), so a client must cope with it.
   */
  allowNullValues?: boolean;
  /**
   * Deliberate deviations to accept (core/sandbox/mirakl/deviations.ts): an issue is dropped only when one of these
   * names its operation, location, keyword, pointer and value. Everything else is still reported.
   */
  deviations?: readonly AcceptedDeviation[];
};

/** One deviation from the schemas that Mirakl's own examples (or its General Notes) show it really makes. */
export type AcceptedDeviation = {
  operationId: MiraklOperationId;
  /** Defaults to 'response'. */
  location?: 'response' | 'requestBody';
  keyword: 'required' | 'type' | 'unknownProperty' | 'undocumentedEnum';
  /** A JSON pointer pattern: `*` is any one segment (or, at a segment's end, any rest of it), `**` any run of segments. */
  at: string;
  /**
   * The value the deviation may carry: for `type`, null (null-if-optional: only where the schema does not require
   * the field) or a decimal string; for `undocumentedEnum`, the values allowed.
   */
  value?: 'null' | 'null-if-optional' | 'numeric-string' | readonly string[];
};

const numericString = /^-?\d+(\.\d+)?$/;

const segmentMatches = (pattern: string, token: string): boolean =>
  pattern === '*' || pattern === token || (pattern.endsWith('*') && token.startsWith(pattern.slice(0, -1)));

function pointerMatches(pattern: readonly string[], pointer: readonly string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return pointer.length === 0;
  if (head === '**') return pointer.some((_, i) => pointerMatches(rest, pointer.slice(i))) || pointerMatches(rest, []);
  const [token, ...others] = pointer;
  return token !== undefined && segmentMatches(head, token) && pointerMatches(rest, others);
}

const pointerTokens = (pointer: string): string[] => (pointer === '' ? [] : pointer.slice(1).split('/'));

/** What the validator knew about an issue beyond what it reports: the offending value and whether the field is optional. */
type IssueContext = { value: unknown; isOptional: boolean };

export function isAcceptedDeviation(deviation: AcceptedDeviation, issue: ValidationIssue, context: IssueContext): boolean {
  if (deviation.operationId !== issue.operationId || (deviation.location ?? 'response') !== issue.location || deviation.keyword !== issue.keyword) return false;
  if (!pointerMatches(pointerTokens(deviation.at), pointerTokens(issue.at))) return false;
  const { value } = deviation;
  if (issue.keyword === 'type') {
    if (value === 'null') return context.value === null;
    if (value === 'null-if-optional') return context.value === null && context.isOptional;
    if (value === 'numeric-string') return typeof context.value === 'string' && numericString.test(context.value);
    return false;
  }
  if (issue.keyword === 'undocumentedEnum') return Array.isArray(value) && typeof context.value === 'string' && value.includes(context.value);
  return value === undefined;
}

export type MiraklSpecValidator = {
  validateResponse(
    operationId: MiraklOperationId,
    status: number,
    contentType: string | undefined,
    body: unknown,
    options?: ValidationOptions,
  ): ValidationIssue[];
  validateRequestBody(operationId: MiraklOperationId, contentType: string | undefined, body: unknown, options?: ValidationOptions): ValidationIssue[];
  validateQuery(operationId: MiraklOperationId, query: URLSearchParams): ValidationIssue[];
};

export type MiraklSpecValidatorConfig = ValidationOptions & {
  /** The subset document; defaults to the committed mirakl-seller-subset.json. */
  document?: JsonObject;
};

export const loadMiraklSubset = (): JsonObject => {
  const parsed = JSON.parse(readFileSync(new URL('./mirakl-seller-subset.json', import.meta.url), 'utf8')) as Json;
  if (!isJsonObject(parsed)) throw new Error('mirakl-seller-subset.json is not a JSON object');
  return parsed;
};

export const formatIssue = (issue: ValidationIssue): string =>
  `${issue.operationId} ${issue.location} ${issue.at === '' ? '(root)' : issue.at}: ${issue.message}`;

// Refs are made absolute so that schemas lifted out of `paths` still resolve against the components.
const baseId = 'https://returns-workbench.invalid/mirakl-seller-subset.json';

const rfc3339DateTime = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;
const isoDate = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const knownFormats = new Set(['date-time', 'date', 'int32', 'int64']);

const escapePointer = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

const member = (node: Json | undefined, key: string): Json | undefined => (isJsonObject(node) ? node[key] : undefined);

function collectFormats(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) node.forEach((child) => collectFormats(child, into));
  if (!isJsonObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'format' && typeof value === 'string') into.add(value);
    else collectFormats(value, into);
  }
}

function absoluteRefs(node: Json): Json {
  if (Array.isArray(node)) return node.map(absoluteRefs);
  if (!isJsonObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' && value.startsWith('#') ? `${baseId}${value}` : absoluteRefs(value)]),
  );
}

// Only the subtype's own allOf is redirected: a nested property typed as the base keeps its discriminator.
function redirectAllOf(schema: Json, from: string, to: string): Json {
  const allOf = member(schema, 'allOf');
  if (!isJsonObject(schema) || !Array.isArray(allOf)) return schema;
  return { ...schema, allOf: allOf.map((entry) => (member(entry, '$ref') === from && isJsonObject(entry) ? { ...entry, $ref: to } : entry)) };
}

// OpenAPI discriminators here carry a mapping but no oneOf, and each subtype allOf-includes the base. ajv
// ignores such a discriminator, so the subtype's own fields would go unchecked. Rewrite the base as
// "base fields, and if the tag names a subtype, that subtype too"; subtypes point at the untagged base to
// avoid a loop. Unknown tag values fall through to the base alone, since Mirakl may add subtypes.
function expandDiscriminators(schemas: JsonObject): JsonObject {
  const out: JsonObject = { ...schemas };
  for (const [name, schema] of Object.entries(schemas)) {
    const discriminator = member(schema, 'discriminator');
    const propertyName = member(discriminator, 'propertyName');
    const mapping = member(discriminator, 'mapping');
    if (!isJsonObject(schema) || typeof propertyName !== 'string' || !isJsonObject(mapping)) continue;
    const baseName = `${name}__untagged`;
    const { discriminator: _dropped, ...untagged } = schema;
    out[baseName] = untagged;
    const branches: Json[] = [];
    for (const [tag, target] of Object.entries(mapping)) {
      if (typeof target !== 'string') continue;
      branches.push({ if: { properties: { [propertyName]: { const: tag } }, required: [propertyName] }, then: { $ref: target } });
      const targetName = target.replace('#/components/schemas/', '');
      const targetSchema = out[targetName];
      if (targetSchema !== undefined) out[targetName] = redirectAllOf(targetSchema, `#/components/schemas/${name}`, `#/components/schemas/${baseName}`);
    }
    out[name] = { allOf: [{ $ref: `#/components/schemas/${baseName}` }, ...branches] };
  }
  return out;
}

function createAjv(document: JsonObject): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => rfc3339DateTime.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('date', { type: 'string', validate: (s: string) => isoDate.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  // "with decimals", "binary" and whatever the vendor adds next say nothing we can check: accept them.
  const formats = new Set<string>();
  collectFormats(document, formats);
  for (const format of formats) if (!knownFormats.has(format)) ajv.addFormat(format, true);

  const components = member(document, 'components');
  const schemas = member(components, 'schemas');
  const expanded = isJsonObject(components)
    ? { ...components, ...(isJsonObject(schemas) ? { schemas: expandDiscriminators(schemas) } : {}) }
    : {};
  ajv.addSchema({ $id: baseId, components: absoluteRefs(expanded) });
  return ajv;
}

type Media = { kind: 'json' | 'multipart' | 'other'; type: string };

const parseMedia = (contentType: string): Media => {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return { kind: 'json', type };
  if (type === 'multipart/form-data') return { kind: 'multipart', type };
  return { kind: 'other', type };
};

type Decoded = { ok: true; value: unknown } | { ok: false; message: string };

function decodeBody(media: Media, body: unknown): Decoded {
  const text = body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : body;
  if (media.kind === 'json') {
    if (typeof text !== 'string') return { ok: true, value: text };
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { ok: false, message: `expected a JSON body: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  if (media.kind === 'multipart') {
    // A file part is a Blob; the spec types it as a binary string, which carries nothing else to check.
    const entries = body instanceof FormData ? [...body.entries()] : isPlainObject(body) ? Object.entries(body) : undefined;
    if (!entries) return { ok: false, message: 'expected multipart form data (FormData or an object of parts)' };
    return { ok: true, value: Object.fromEntries(entries.map(([key, value]) => [key, value instanceof Blob || value instanceof Uint8Array ? '' : value])) };
  }
  return { ok: true, value: text };
}

function issueFromAjv(error: ErrorObject, base: Omit<ValidationIssue, 'at' | 'keyword' | 'message'>, prefix: string): ValidationIssue {
  const missing = error.keyword === 'required' ? error.params['missingProperty'] : undefined;
  if (typeof missing === 'string') {
    return { ...base, at: `${prefix}${error.instancePath}/${escapePointer(missing)}`, keyword: 'required', message: 'required property is missing' };
  }
  const allowed = error.keyword === 'enum' ? error.params['allowedValues'] : undefined;
  const message = Array.isArray(allowed) ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : (error.message ?? error.keyword);
  return { ...base, at: `${prefix}${error.instancePath}`, keyword: error.keyword, message };
}

const dedupe = (issues: ValidationIssue[]): ValidationIssue[] => {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.location}|${issue.at}|${issue.keyword}|${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

// Pagination and locale are General Notes conventions the spec never declares per operation (NOTES §2).
// The minimum of 1 for page sizes is ours: Mirakl documents only the default (10) and the maximum (100).
type ParameterRule = (value: string, sortFields: readonly string[] | undefined) => string | undefined;

const pageSize: ParameterRule = (value) => (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 100 ? undefined : 'an integer from 1 to 100');
const sortField = (field: string, sortFields: readonly string[] | undefined): boolean =>
  sortFields ? sortFields.includes(field) : field.length > 0;
const fieldList = (sortFields: readonly string[] | undefined): string => (sortFields ? `one of ${sortFields.join(', ')}` : 'a field name');

const paginationRules: Record<'offset' | 'seek', Record<string, ParameterRule>> = {
  offset: {
    max: pageSize,
    offset: (value) => (/^\d+$/.test(value) ? undefined : 'a non-negative integer'),
    paginate: (value) => (value === 'true' || value === 'false' ? undefined : 'true or false'),
    sort: (value, fields) => (sortField(value, fields) ? undefined : fieldList(fields)),
    order: (value) => (value === 'asc' || value === 'desc' ? undefined : 'asc or desc'),
  },
  seek: {
    limit: pageSize,
    page_token: (value) => (value.length > 0 ? undefined : 'a next_page_token or previous_page_token from an earlier page'),
    sort: (value, fields) => {
      const [field = '', direction, ...rest] = value.split(',');
      const isDirectionValid = direction === undefined || direction === 'ASC' || direction === 'DESC';
      return sortField(field, fields) && isDirectionValid && rest.length === 0 ? undefined : `<field>[,ASC|DESC] with field ${fieldList(fields)}`;
    },
  },
};

const localeRule: ParameterRule = (value) => (/^[a-z]{2,3}(_[A-Z]{2})?$/.test(value) ? undefined : 'a locale such as en_GB');

function coerceQueryValue(raw: string, schema: Json | undefined): unknown {
  const type = member(schema, 'type');
  if (type === 'integer' && /^-?\d+$/.test(raw)) return Number(raw);
  if (type === 'number' && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

export function createMiraklSpecValidator(config: MiraklSpecValidatorConfig = {}): MiraklSpecValidator {
  const document = config.document ?? loadMiraklSubset();
  const defaults: Required<ValidationOptions> = {
    rejectUnknownProperties: config.rejectUnknownProperties ?? true,
    rejectUndocumentedEnumValues: config.rejectUndocumentedEnumValues ?? true,
    allowNullValues: config.allowNullValues ?? false,
    deviations: config.deviations ?? [],
  };
  const ajv = createAjv(document);
  const compiled = new Map<string, ValidateFunction>();

  const compile = (key: string, schema: Json): ValidateFunction => {
    const cached = compiled.get(key);
    if (cached) return cached;
    const absolute = absoluteRefs(schema);
    const validate = ajv.compile(isJsonObject(absolute) ? absolute : {});
    compiled.set(key, validate);
    return validate;
  };

  const operationOf = (operationId: MiraklOperationId): JsonObject => {
    if (!isMiraklOperationId(operationId)) throw new Error(`unknown Mirakl operation ${String(operationId)}`);
    const { method, path } = MIRAKL_OPERATIONS[operationId];
    const operation = member(member(member(document, 'paths'), path), method);
    if (!isJsonObject(operation)) throw new Error(`${operationId} is missing from the Mirakl subset: run npm run spec:derive`);
    return operation;
  };

  const resolveRef = (ref: string): Json | undefined => {
    if (!ref.startsWith('#/')) return undefined;
    let node: Json | undefined = document;
    for (const token of ref.slice(2).split('/')) node = member(node, token.replace(/~1/g, '/').replace(/~0/g, '~'));
    return node;
  };

  // Every schema object that applies to this instance: followed through $ref, allOf/anyOf/oneOf and the
  // discriminator's mapping. `seen` stops the subtype → base → subtype loop.
  const applicable = (schema: Json | undefined, instance: unknown, seen: Set<string>, into: JsonObject[]): void => {
    if (!isJsonObject(schema)) return;
    into.push(schema);
    const follow = (ref: Json | undefined): void => {
      if (typeof ref !== 'string' || seen.has(ref)) return;
      seen.add(ref);
      applicable(resolveRef(ref), instance, seen, into);
    };
    follow(schema['$ref']);
    for (const key of ['allOf', 'anyOf', 'oneOf']) {
      const branches = schema[key];
      if (Array.isArray(branches)) branches.forEach((branch) => applicable(branch, instance, seen, into));
    }
    const discriminator = schema['discriminator'];
    const propertyName = member(discriminator, 'propertyName');
    if (typeof propertyName === 'string' && isPlainObject(instance)) {
      const tag = instance[propertyName];
      if (typeof tag === 'string') follow(member(member(discriminator, 'mapping'), tag));
    }
  };

  type Report = (at: string, keyword: string, message: string, value?: unknown) => void;
  // `optional` collects the pointers of object properties that no applicable schema requires.
  const walk = (schemas: Json[], instance: unknown, pointer: string, options: Required<ValidationOptions>, report: Report, optional: Set<string>): void => {
    const nodes: JsonObject[] = [];
    const seen = new Set<string>();
    schemas.forEach((schema) => applicable(schema, instance, seen, nodes));
    if (nodes.length === 0) return;

    if (options.rejectUndocumentedEnumValues && typeof instance === 'string') {
      const documented = nodes.map((node) => node['x-derived-enum']).find(Array.isArray);
      if (documented && !documented.includes(instance)) {
        report(pointer, 'undocumentedEnum', `${JSON.stringify(instance)} is not a documented value; expected one of ${documented.map((v) => JSON.stringify(v)).join(', ')}`, instance);
      }
    }

    if (Array.isArray(instance)) {
      instance.forEach((item, index) => {
        const itemSchemas: Json[] = [];
        for (const node of nodes) {
          const prefixItems = node['prefixItems'];
          const positional = Array.isArray(prefixItems) ? prefixItems[index] : undefined;
          if (positional !== undefined) itemSchemas.push(positional);
          else if (node['items'] !== undefined) itemSchemas.push(node['items']);
        }
        walk(itemSchemas, item, `${pointer}/${index}`, options, report, optional);
      });
      return;
    }
    if (!isPlainObject(instance)) return;

    const declared = new Map<string, Json[]>();
    const patterns: Array<[RegExp, Json]> = [];
    const additional: Json[] = [];
    let isOpen = false;
    let declaresShape = false;
    for (const node of nodes) {
      const properties = node['properties'];
      if (isJsonObject(properties)) {
        declaresShape = true;
        for (const [name, schema] of Object.entries(properties)) declared.set(name, [...(declared.get(name) ?? []), schema]);
      }
      const patternProperties = node['patternProperties'];
      if (isJsonObject(patternProperties)) {
        declaresShape = true;
        for (const [pattern, schema] of Object.entries(patternProperties)) patterns.push([new RegExp(pattern, 'u'), schema]);
      }
      const additionalProperties = node['additionalProperties'];
      if (additionalProperties === false) declaresShape = true;
      else if (additionalProperties === true) isOpen = true;
      else if (additionalProperties !== undefined) additional.push(additionalProperties);
    }
    // An object schema that declares no properties at all is a free-form map, not an empty object.
    const isClosed = declaresShape && !isOpen && additional.length === 0;
    const required = new Set(nodes.flatMap((node) => (Array.isArray(node['required']) ? node['required'] : [])));

    for (const [key, value] of Object.entries(instance)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if (!required.has(key)) optional.add(at);
      const matched = [...(declared.get(key) ?? []), ...patterns.filter(([pattern]) => pattern.test(key)).map(([, schema]) => schema)];
      if (matched.length > 0) walk(matched, value, at, options, report, optional);
      else if (additional.length > 0) walk(additional, value, at, options, report, optional);
      else if (isClosed && options.rejectUnknownProperties) {
        report(at, 'unknownProperty', `property is not declared by the schema; declared: ${[...declared.keys()].sort().join(', ')}`);
      }
    }
  };

  const validateContent = (
    operationId: MiraklOperationId,
    location: 'requestBody' | 'response',
    cacheKey: string,
    content: Json | undefined,
    contentType: string | undefined,
    body: unknown,
    options: ValidationOptions | undefined,
  ): ValidationIssue[] => {
    const base = { operationId, location };
    if (!isJsonObject(content) || Object.keys(content).length === 0) return [];
    const declaredTypes = Object.keys(content);
    const media = contentType ? parseMedia(contentType) : undefined;
    const mediaObject = media ? content[media.type] : undefined;
    if (!media || !isJsonObject(mediaObject)) {
      return [{ ...base, at: '', keyword: 'contentType', message: `content type ${contentType ?? '(none)'} is not declared; expected ${declaredTypes.join(' or ')}` }];
    }
    const schema = mediaObject['schema'];
    if (schema === undefined) return [];
    const decoded = decodeBody(media, body);
    if (!decoded.ok) return [{ ...base, at: '', keyword: 'contentType', message: decoded.message }];

    const effective = { ...defaults, ...options };
    const validate = compile(`${operationId}|${cacheKey}|${media.type}`, schema);
    const found: Array<{ issue: ValidationIssue; value: unknown }> = [];
    if (!validate(decoded.value)) {
      for (const error of validate.errors ?? []) {
        // `if` only says a discriminator branch failed; the branch's own errors are reported beside it.
        if (error.keyword === 'if') continue;
        if (effective.allowNullValues && error.keyword === 'type' && error.data === null) continue;
        found.push({ issue: issueFromAjv(error, base, ''), value: error.data });
      }
    }
    const optional = new Set<string>();
    walk([schema], decoded.value, '', effective, (at, keyword, message, value) => found.push({ issue: { ...base, at, keyword, message }, value }), optional);
    const deviations = effective.deviations;
    const kept = found.filter(
      ({ issue, value }) => !deviations.some((deviation) => isAcceptedDeviation(deviation, issue, { value, isOptional: optional.has(issue.at) })),
    );
    return dedupe(kept.map(({ issue }) => issue));
  };

  const validateResponse: MiraklSpecValidator['validateResponse'] = (operationId, status, contentType, body, options) => {
    const responses = member(operationOf(operationId), 'responses');
    const response = member(responses, String(status)) ?? member(responses, `${Math.floor(status / 100)}XX`) ?? member(responses, 'default');
    if (response === undefined) {
      // The spec models no error bodies (NOTES §3: 400/401/403/404/429… are real), so only successes must be declared.
      if (status >= 400) return [];
      const declared = isJsonObject(responses) ? Object.keys(responses).join(', ') : 'none';
      return [{ operationId, location: 'response', at: '', keyword: 'status', message: `status ${status} is not declared; expected ${declared}` }];
    }
    return validateContent(operationId, 'response', String(status), member(response, 'content'), contentType, body, options);
  };

  const validateRequestBody: MiraklSpecValidator['validateRequestBody'] = (operationId, contentType, body, options) => {
    const requestBody = member(operationOf(operationId), 'requestBody');
    const isEmpty = body === undefined || body === null || body === '';
    if (requestBody === undefined) {
      return isEmpty ? [] : [{ operationId, location: 'requestBody', at: '', keyword: 'requestBody', message: 'this operation takes no request body' }];
    }
    if (isEmpty) {
      return member(requestBody, 'required') === true
        ? [{ operationId, location: 'requestBody', at: '', keyword: 'required', message: 'a request body is required' }]
        : [];
    }
    return validateContent(operationId, 'requestBody', 'request', member(requestBody, 'content'), contentType, body, options);
  };

  const validateQuery: MiraklSpecValidator['validateQuery'] = (operationId, query) => {
    const operation = operationOf(operationId);
    const issues: ValidationIssue[] = [];
    const report = (at: string, keyword: string, message: string): void => {
      issues.push({ operationId, location: 'query', at, keyword, message });
    };
    const parameters = new Map<string, JsonObject>();
    const declaredParameters = member(operation, 'parameters');
    for (const parameter of Array.isArray(declaredParameters) ? declaredParameters : []) {
      const name = member(parameter, 'name');
      if (isJsonObject(parameter) && member(parameter, 'in') === 'query' && typeof name === 'string') parameters.set(name, parameter);
    }
    const pagination = member(operation, 'x-derived-pagination');
    const extraRules: Record<string, ParameterRule> = {
      ...(pagination === 'offset' || pagination === 'seek' ? paginationRules[pagination] : {}),
      ...(member(operation, 'x-derived-locale') === true ? { locale: localeRule } : {}),
    };
    const sortFieldsNode = member(operation, 'x-derived-sort-fields');
    const sortFields = Array.isArray(sortFieldsNode) ? sortFieldsNode.filter((f): f is string => typeof f === 'string') : undefined;

    for (const name of new Set(query.keys())) {
      const values = query.getAll(name);
      const parameter = parameters.get(name);
      if (parameter) {
        const schema = parameter['schema'];
        const isArray = member(schema, 'type') === 'array';
        if (!isArray && values.length > 1) {
          report(name, 'repeated', `given ${values.length} times; expected once`);
          continue;
        }
        const raw = values[0] ?? '';
        const validate = compile(`${operationId}|query|${name}`, schema ?? {});
        let candidates: Array<{ at: string; value: unknown }>;
        if (isArray) {
          const items = member(schema, 'items');
          const pieces = parameter['explode'] === false ? raw.split(',') : values;
          candidates = [{ at: name, value: pieces.map((piece) => coerceQueryValue(piece, items)) }];
        } else if (parameter['x-derived-comma-separated'] === true) {
          // Declared as one string, documented as a comma-separated list: each element must fit the schema.
          candidates = raw.split(',').map((piece, index) => ({ at: `${name}/${index}`, value: coerceQueryValue(piece, schema) }));
        } else {
          candidates = [{ at: name, value: coerceQueryValue(raw, schema) }];
        }
        for (const candidate of candidates) {
          if (validate(candidate.value)) continue;
          for (const error of validate.errors ?? []) {
            const issue = issueFromAjv(error, { operationId, location: 'query' }, candidate.at);
            report(issue.at, issue.keyword, issue.message);
          }
        }
        continue;
      }
      const rule = extraRules[name];
      if (rule) {
        if (values.length > 1) report(name, 'repeated', `given ${values.length} times; expected once`);
        const problem = rule(values[0] ?? '', sortFields);
        if (problem) report(name, 'format', `expected ${problem}`);
        continue;
      }
      const known = [...parameters.keys(), ...Object.keys(extraRules)].sort();
      report(name, 'unknownParameter', `not a parameter of ${operationId}; expected one of ${known.join(', ')}`);
    }
    for (const [name, parameter] of parameters) {
      if (parameter['required'] === true && !query.has(name)) report(name, 'required', 'required parameter is missing');
    }
    return dedupe(issues);
  };

  return { validateResponse, validateRequestBody, validateQuery };
}
