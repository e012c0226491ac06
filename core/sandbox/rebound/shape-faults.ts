import { addExtraFields, type ShapeVariant } from '../http/faults';
import type { Route } from '../http/router';
import type { Rng } from '../rng';

// The `shapes` fault on ReBound answers, lighter than Mirakl's (ReBound publishes no examples to follow): optional
// fields null, quantities and values as JSON numbers rather than the strings of the confirmed payloads, and fields
// nobody announced. Only fields core/rebound/schemas.ts reads as optional are nulled. Ids, SKUs, reason codes,
// quantities, `received`, grades and dispositions are never touched but for their form: a null SKU or reason would
// read as ReBound's "Not available", a null `received` as a parcel not yet registered.

type Rec = Record<string, unknown>;

const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

interface ReboundRecordSpec {
  /** Optional fields the client reads as nullable. */
  nullable: readonly string[];
  /** Numbers ReBound writes as strings. */
  numeric: readonly string[];
  children?: Readonly<Record<string, ReboundRecordSpec>>;
}

const salesOrder: ReboundRecordSpec = {
  nullable: ['flowKey', 'clientOrderCreatedDate', 'businessUnit', 'rmaNumber', 'clientMetadata'],
  numeric: [],
  children: {
    salesItems: { nullable: ['ean', 'articleDescription', 'commercialValue', 'commercialValueCurrency'], numeric: ['quantity', 'commercialValue'] },
  },
};

const returnOrder: ReboundRecordSpec = {
  nullable: ['flowKey', 'location'],
  numeric: [],
  children: {
    parcels: { nullable: ['label', 'qrCodeUrl'], numeric: [] },
    items: { nullable: ['ean', 'articleDescription', 'commercialValue', 'commercialValueCurrency'], numeric: ['quantity', 'commercialValue'] },
  },
};

const returnEvent: ReboundRecordSpec = { nullable: ['statusDescription', 'location'], numeric: [] };
const subscription: ReboundRecordSpec = { nullable: ['updatedAt'], numeric: [] };

function walk(record: Rec, spec: ReboundRecordSpec, fn: (record: Rec, spec: ReboundRecordSpec) => boolean): boolean {
  let changed = fn(record, spec);
  for (const [field, child] of Object.entries(spec.children ?? {})) {
    const value = record[field];
    for (const item of Array.isArray(value) ? value : [value]) if (isRecord(item)) changed = walk(item, child, fn) || changed;
  }
  return changed;
}

const nullOptional = (record: Rec, spec: ReboundRecordSpec): boolean => {
  let changed = false;
  for (const field of spec.nullable) {
    if (!(field in record) || record[field] === null) continue;
    record[field] = null;
    changed = true;
  }
  return changed;
};

const numericForms = (record: Rec, spec: ReboundRecordSpec): boolean => {
  let changed = false;
  for (const field of spec.numeric) {
    const value = record[field];
    if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value)) continue;
    record[field] = Number(value);
    changed = true;
  }
  return changed;
};

function reshape(records: unknown[], spec: ReboundRecordSpec, rng: Rng): ShapeVariant[] {
  const applied: ShapeVariant[] = [];
  for (const record of records) {
    if (!isRecord(record)) continue;
    if (rng.chance(0.5) && walk(record, spec, nullOptional)) applied.push('nullOptional');
    if (rng.chance(0.5) && walk(record, spec, numericForms)) applied.push('numericForms');
    if (rng.chance(0.5)) {
      addExtraFields(record);
      applied.push('unknownValues');
    }
  }
  return applied;
}

type ShapeHook = NonNullable<Route<unknown>['withShapes']>;

const one =
  (spec: ReboundRecordSpec): ShapeHook =>
  (body, rng) =>
    reshape([body], spec, rng);

const listOf =
  (field: string, spec: ReboundRecordSpec): ShapeHook =>
  (body, rng) =>
    isRecord(body) && Array.isArray(body[field]) ? reshape(body[field], spec, rng) : [];

/** The `withShapes` hook of each ReBound route the fault applies to (never the token endpoint). */
export const reboundShapeHooks: Record<string, ShapeHook> = {
  'salesOrders.create': one(salesOrder),
  'salesOrders.get': one(salesOrder),
  'returnOrders.create': one(returnOrder),
  'returnOrders.get': one(returnOrder),
  'returnOrders.cancel': one(returnOrder),
  'returnOrders.list': listOf('returnOrders', returnOrder),
  'returnOrders.events': listOf('events', returnEvent),
  'webhookSubscriptions.put': one(subscription),
};
