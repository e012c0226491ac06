import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkExamples, checkSubset, defaultSpecPath, deriveExamples, deriveSubset, examplesPath, subsetPath, type ExamplesDocument } from './derive';
import { type JsonObject } from './json';
import { MIRAKL_OPERATIONS, MIRAKL_OPERATION_IDS } from './operations';
import { createMiraklSpecValidator, formatIssue, type ValidationIssue } from './validator';

const validator = createMiraklSpecValidator();

const minimalReturn = () => ({
  id: 'f61b5db8-d8f5-4715-b05f-aa4432c0e9e2',
  state: 'IN_PROGRESS',
  date_created: '2025-01-01T09:00:00Z',
  last_updated: '2025-01-02T10:00:00Z',
  order_id: 'A1-A',
  order_commercial_id: 'A1',
  method_code: 'RETURN_METHOD_BY_MAIL',
  return_address: { street1: '1 Road', city: 'Leeds', zip_code: 'LS1', country_iso_code: 'GBR' },
  return_lines: [{ order_line_id: 'A1-A-1', quantity: 1, reason_code: 'RETURN_PDNT_TOO_SMALL' }],
});

const rt11 = (data: unknown[]) => ({ data, next_page_token: 'token-2' });

const describeIssues = (issues: ValidationIssue[]): string[] => issues.map(formatIssue);

describe('validateResponse', () => {
  it('accepts a minimal valid RT11 page', () => {
    expect(describeIssues(validator.validateResponse('RT11', 200, 'application/json; charset=utf-8', rt11([minimalReturn()])))).toEqual([]);
  });

  it('names the pointer of a missing required field', () => {
    const { order_id: _removed, ...withoutOrderId } = minimalReturn();
    const issues = validator.validateResponse('RT11', 200, 'application/json', rt11([withoutOrderId]));
    expect(issues).toEqual([expect.objectContaining({ operationId: 'RT11', location: 'response', at: '/data/0/order_id', keyword: 'required' })]);
  });

  it('reports a property the schema does not declare, through $ref and arrays', () => {
    const invented = { ...minimalReturn(), tracking: { carrier_code: 'ROYALMAIL', carrierCode: 'ROYALMAIL' } };
    const issues = validator.validateResponse('RT11', 200, 'application/json', rt11([invented]));
    expect(issues).toEqual([expect.objectContaining({ at: '/data/0/tracking/carrierCode', keyword: 'unknownProperty' })]);
    expect(issues[0]?.message).toContain('carrier_code');
  });

  it('tolerates undeclared properties and undocumented enum values when asked, as the client must', () => {
    const future = { ...minimalReturn(), state: 'LOST_IN_TRANSIT', brand_new_field: 1 };
    const tolerant = { rejectUnknownProperties: false, rejectUndocumentedEnumValues: false };
    expect(validator.validateResponse('RT11', 200, 'application/json', rt11([future]), tolerant)).toEqual([]);
    const strict = validator.validateResponse('RT11', 200, 'application/json', rt11([future]));
    expect(strict.map((i) => [i.at, i.keyword])).toEqual([
      ['/data/0/state', 'undocumentedEnum'],
      ['/data/0/brand_new_field', 'unknownProperty'],
    ]);
  });

  it('reports a wrong type', () => {
    const wrong = { ...minimalReturn(), return_lines: [{ order_line_id: 'A1-A-1', quantity: '1', reason_code: 'RETURN_OTHER' }] };
    const issues = validator.validateResponse('RT11', 200, 'application/json', rt11([wrong]));
    expect(issues).toEqual([expect.objectContaining({ at: '/data/0/return_lines/0/quantity', keyword: 'type', message: 'must be integer' })]);
  });

  it('rejects null unless allowNullValues, since no schema is nullable but Mirakl sends nulls', () => {
    const withNull = { ...minimalReturn(), label_url: null };
    expect(validator.validateResponse('RT11', 200, 'application/json', rt11([withNull])).map((i) => i.at)).toEqual(['/data/0/label_url']);
    expect(validator.validateResponse('RT11', 200, 'application/json', rt11([withNull]), { allowNullValues: true })).toEqual([]);
  });

  it('follows discriminator subtypes: their fields are declared and their required fields enforced', () => {
    const offersPage = (field: Record<string, unknown>) => ({
      total_count: 1,
      offers: [{ offer_id: 1, shop_sku: 'TEE-RED-S', offer_additional_fields: [field] }],
    });
    const issuesFor = (field: Record<string, unknown>) =>
      validator.validateResponse('OF21', 200, 'application/json', offersPage(field)).filter((i) => i.at.includes('offer_additional_fields'));
    expect(issuesFor({ code: 'colour', type: 'MULTIPLE_VALUES_LIST', value: ['RED'] })).toEqual([]);
    expect(issuesFor({ code: 'colour', type: 'MULTIPLE_VALUES_LIST', value: 'RED' }).map((i) => i.keyword)).toEqual(['type']);
    expect(issuesFor({ code: 'colour', type: 'BOOLEAN' }).map((i) => [i.at, i.keyword])).toEqual([['/offers/0/offer_additional_fields/0/value', 'required']]);
  });

  it('accepts anything where the spec declares no content, and checks declared content types', () => {
    expect(validator.validateResponse('V01', 200, undefined, undefined)).toEqual([]);
    expect(validator.validateResponse('STO03', 200, 'text/csv', '"1";"bad quantity";"TEE-RED-S";"x"\n')).toEqual([]);
    expect(validator.validateResponse('STO02', 200, 'text/html', '<html/>').map((i) => i.keyword)).toEqual(['contentType']);
    expect(validator.validateResponse('RT11', 201, 'application/json', {}).map((i) => i.keyword)).toEqual(['status']);
    // Error bodies are not modelled by the spec, so any 4xx/5xx passes.
    expect(validator.validateResponse('RT11', 429, 'application/json', { status: 429, message: 'slow down' })).toEqual([]);
  });

  it('parses a raw JSON body', () => {
    expect(validator.validateResponse('RT11', 200, 'application/json', JSON.stringify(rt11([minimalReturn()])))).toEqual([]);
    expect(validator.validateResponse('RT11', 200, 'application/json', '{not json').map((i) => i.keyword)).toEqual(['contentType']);
  });
});

describe('validateRequestBody', () => {
  const refund = { order_line_id: 'A1-A-1', amount: 20, shipping_amount: 0, reason_code: '17', quantity: 1, currency_iso_code: 'GBP' };

  it('accepts a valid OR28 body and catches a missing reason_code', () => {
    expect(validator.validateRequestBody('OR28', 'application/json', { order_tax_mode: 'TAX_INCLUDED', refunds: [refund] })).toEqual([]);
    const { reason_code: _removed, ...withoutReason } = refund;
    const issues = validator.validateRequestBody('OR28', 'application/json', { refunds: [withoutReason] });
    expect(issues).toEqual([expect.objectContaining({ operationId: 'OR28', location: 'requestBody', at: '/refunds/0/reason_code', keyword: 'required' })]);
  });

  it('checks a multipart STO01 upload and refuses a body where none is taken', () => {
    const form = new FormData();
    form.append('file', new Blob(['"offer-sku";"quantity"\n"TEE-RED-S";"7"\n']), 'stock.csv');
    expect(validator.validateRequestBody('STO01', 'multipart/form-data; boundary=x', form)).toEqual([]);
    expect(validator.validateRequestBody('STO01', 'multipart/form-data', new FormData()).map((i) => i.at)).toEqual(['/file']);
    expect(validator.validateRequestBody('RT11', 'application/json', { returns: [] }).map((i) => i.keyword)).toEqual(['requestBody']);
  });
});

describe('validateQuery', () => {
  it('flags an unknown parameter and accepts seek pagination on RT11', () => {
    const unknown = validator.validateQuery('RT11', new URLSearchParams('return_state=RECEIVED&state=RECEIVED'));
    expect(unknown).toEqual([expect.objectContaining({ operationId: 'RT11', location: 'query', at: 'state', keyword: 'unknownParameter' })]);
    const paged = new URLSearchParams({ limit: '100', page_token: 'abc', sort: 'date_created,DESC' });
    paged.append('return_state', 'RECEIVED');
    paged.append('return_state', 'CLOSED');
    expect(validator.validateQuery('RT11', paged)).toEqual([]);
  });

  it('checks types, page sizes and which pagination style an operation has', () => {
    const issues = validator.validateQuery('RT11', new URLSearchParams('limit=101&shop_id=abc&max=10&return_last_updated_from=yesterday'));
    expect(issues.map((i) => [i.at, i.keyword])).toEqual([
      ['limit', 'format'],
      ['shop_id', 'type'],
      ['max', 'unknownParameter'],
      ['return_last_updated_from', 'format'],
    ]);
    expect(validator.validateQuery('OR11', new URLSearchParams('max=100&offset=200&paginate=true&sort=dateCreated&order=desc&locale=en_GB'))).toEqual([]);
    expect(validator.validateQuery('A01', new URLSearchParams('limit=10')).map((i) => i.keyword)).toEqual(['unknownParameter']);
  });

  it('catches an offset that was not URL-encoded (NOTES §1: a raw + decodes to a space)', () => {
    expect(validator.validateQuery('OR11', new URLSearchParams('start_update_date=2025-01-01T00%3A00%3A00%2B02%3A00'))).toEqual([]);
    expect(validator.validateQuery('OR11', new URLSearchParams('start_update_date=2025-01-01T00:00:00+02:00')).map((i) => i.keyword)).toEqual(['format']);
  });

  it('splits the comma-separated OR11 lists before checking each value', () => {
    expect(validator.validateQuery('OR11', new URLSearchParams('order_state_codes=SHIPPED,RECEIVED&order_ids=A1-A,A2-A'))).toEqual([]);
    const issues = validator.validateQuery('OR11', new URLSearchParams('order_state_codes=SHIPPED,LOST'));
    expect(issues).toEqual([expect.objectContaining({ at: 'order_state_codes/1', keyword: 'enum' })]);
  });

  it('flags a single-valued parameter given twice', () => {
    expect(validator.validateQuery('RT11', new URLSearchParams('shop_id=1&shop_id=2')).map((i) => i.keyword)).toEqual(['repeated']);
  });
});

describe('derive', () => {
  const hasSharedSpec = existsSync(defaultSpecPath);
  if (!hasSharedSpec) {
    console.info(`derive --check skipped: ${defaultSpecPath} is absent (../shared exists only on developer and CI machines).`);
  }

  it.skipIf(!hasSharedSpec)('the committed subset is what derive.ts produces from ../shared today', () => {
    const derived = deriveSubset(readFileSync(defaultSpecPath), 'mirakl-mmp-seller-openapi.json');
    const check = checkSubset(derived.text, readFileSync(subsetPath, 'utf8'), defaultSpecPath);
    expect(check).toEqual({ isUpToDate: true });
  });

  it.skipIf(!hasSharedSpec)('the committed examples are what derive.ts produces from ../shared today', () => {
    const derived = deriveExamples(readFileSync(defaultSpecPath), 'mirakl-mmp-seller-openapi.json');
    expect(checkExamples(derived.text, readFileSync(examplesPath, 'utf8'), defaultSpecPath)).toEqual({ isUpToDate: true });
  });

  it('keeps every request and response example of each operation, by status and name, values untouched', () => {
    const operation = (operationId: string): JsonObject => ({ operationId, responses: { '200': { description: 'OK' } } });
    const paths: Record<string, Record<string, JsonObject>> = {};
    for (const id of MIRAKL_OPERATION_IDS) {
      const { method, path } = MIRAKL_OPERATIONS[id];
      (paths[path] ??= {})[method] = operation(id);
    }
    const value = { data: [{ label_url: null, tracking: { carrierCode: 'UPS' } }], z: 1, a: 2 };
    (paths['/api/orders/refund'] ??= {})['put'] = {
      operationId: 'OR28',
      requestBody: { content: { 'application/json': { examples: { 'application/json-0': { summary: 'Business', value: { refunds: [{ taxes: [{ amount: '1' }] }] } } } } } },
      responses: { '200': { content: { 'application/json': { example: value } } }, '400': { description: 'no content' } },
    };
    const derived = deriveExamples(Buffer.from(JSON.stringify({ openapi: '3.1.0', paths })), 'fake.json');
    const document = JSON.parse(derived.text) as ExamplesDocument;
    expect(document.operations.OR28).toEqual({
      request: { 'application/json-0': { mediaType: 'application/json', summary: 'Business', value: { refunds: [{ taxes: [{ amount: '1' }] }] } } },
      responses: { '200': { 'application/json': { mediaType: 'application/json', summary: null, value } } },
    });
    // Key order inside a value is the spec's, not sorted.
    expect(Object.keys(document.operations.OR28?.responses['200']?.['application/json']?.value as object)).toEqual(['data', 'z', 'a']);
    expect(document.operations.RT11).toEqual({ responses: {} });
    expect(derived.examples).toBe(2);
    expect(deriveExamples(Buffer.from(JSON.stringify({ openapi: '3.1.0', paths })), 'fake.json').text).toBe(derived.text);
  });

  it('strips prose but keeps properties named like prose keywords, lifts documented facts and follows mappings', () => {
    const operation = (operationId: string): JsonObject => ({ operationId, description: 'prose', responses: { '200': { description: 'OK' } } });
    const paths: Record<string, Record<string, JsonObject>> = {};
    for (const id of MIRAKL_OPERATION_IDS) {
      const { method, path } = MIRAKL_OPERATIONS[id];
      (paths[path] ??= {})[method] = operation(id);
    }
    const rt11: JsonObject = {
      ...operation('RT11'),
      description: '<p>This resource supports seek pagination</p><div class="extension-title">Sort fields</div><ul><li><b>date_created</b> (Default)</li></ul>',
      'x-codeSamples': [{ lang: 'cURL', source: 'curl' }],
      parameters: [{ in: 'query', name: 'ids', description: 'A comma-separated list', schema: { type: 'string' } }],
      responses: { '200': { description: 'OK', content: { 'application/json': { example: {}, schema: { $ref: '#/components/schemas/Page' } } } } },
    };
    (paths['/api/returns'] ??= {})['get'] = rt11;
    const spec = {
      openapi: '3.1.0',
      info: { title: 'T', version: '', description: 'long' },
      paths,
      components: {
        schemas: {
          Page: {
            type: 'object',
            description: 'A page',
            required: ['description'],
            properties: {
              description: { type: 'string', description: 'Enum: `"A"`, `"B"`\n\n<details>Deprecated values: `"C"`</details>' },
              field: { $ref: '#/components/schemas/Field' },
            },
          },
          Field: { type: 'object', discriminator: { propertyName: 'type', mapping: { X: '#/components/schemas/FieldX' } }, properties: { type: { type: 'string' } } },
          FieldX: { allOf: [{ $ref: '#/components/schemas/Field' }], properties: { value: { type: 'string' } }, example: { value: 'x' } },
          Unused: { type: 'string' },
        },
      },
    };
    const derived = deriveSubset(Buffer.from(JSON.stringify(spec)), 'fake.json');
    const document = JSON.parse(derived.text) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(document.components.schemas)).toEqual(['Field', 'FieldX', 'Page']);
    expect(document.components.schemas['Page']).toEqual({
      properties: { description: { type: 'string', 'x-derived-enum': ['A', 'B', 'C'] }, field: { $ref: '#/components/schemas/Field' } },
      required: ['description'],
      type: 'object',
    });
    expect(document.paths['/api/returns']?.['get']).toEqual({
      operationId: 'RT11',
      parameters: [{ in: 'query', name: 'ids', schema: { type: 'string' }, 'x-derived-comma-separated': true }],
      responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Page' } } } } },
      'x-derived-pagination': 'seek',
      'x-derived-sort-fields': ['date_created'],
    });
    expect(derived.text.endsWith('}\n')).toBe(true);
    expect(deriveSubset(Buffer.from(JSON.stringify(spec)), 'fake.json').text).toBe(derived.text);
    expect(checkSubset(derived.text, `${derived.text} `, 'fake.json')).toEqual({ isUpToDate: false, message: expect.stringContaining('npm run spec:derive') });
  });
});
