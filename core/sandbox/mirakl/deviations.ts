import type { AcceptedDeviation } from './openapi/validator';
import type { MiraklOperationId } from './openapi/operations';
import { unannouncedValue } from './shape-faults';

// Every way the sandbox's Mirakl answers deliberately leave the seller OpenAPI schemas, in one place. Each is
// something Mirakl itself publishes: a response example in the spec that differs from its own schema, or the
// General Notes' warning that fields and enum values appear without notice. The conformance validator accepts
// exactly these (ValidationOptions.deviations) and still reports anything else, so the sandbox can disagree with
// our client only in ways Mirakl has been seen to.
//
// Seen in the same examples but within the schemas, so not listed: refunds with quantity 0 and state
// WAITING_REFUND_PAYMENT, order_tax_mode TAX_EXCLUDED, tax lines coded tax1/tax2 (OR11 application/json-0).

export interface Deviation extends AcceptedDeviation {
  /** What the answer does, in words. */
  what: string;
  /** Where Mirakl shows it: an example in the spec, by name and JSON path, or the General Notes. */
  source: string;
  /**
   * The example in mirakl-seller-examples.json that shows it, which a test validates to prove it: by operation,
   * 'request' or the response status, the example's name, and the pointer pattern there if it differs from `at`.
   */
  evidence: { operationId: MiraklOperationId; part: 'request' | '200'; example: string; at?: string } | null;
}

const example = (operationId: MiraklOperationId, name = 'application/json-0', at?: string): Deviation['evidence'] => ({
  operationId,
  part: '200',
  example: name,
  ...(at !== undefined ? { at } : {}),
});

const specPath = {
  RT11: 'paths./api/returns.get.responses.200',
  RT04: 'paths./api/returns.put.responses.200',
  OR11: 'paths./api/orders.get.responses.200',
  OR28: 'paths./api/orders/refund.put.responses.200',
  OR28request: 'paths./api/orders/refund.put.requestBody',
  RE01: 'paths./api/reasons.get.responses.200',
  OF21: 'paths./api/offers.get.responses.200',
} as const;

const inExample = (path: string, name: string, where: string) => `example ${name} at ${path} in the spec: ${where}`;

/** Operations whose answers the `shapes` fault reshapes (shape-faults.ts). */
const reshaped: readonly MiraklOperationId[] = ['RT11', 'RT04', 'RT21', 'RT25', 'RT26', 'RT27', 'RT29', 'OR11', 'OR28', 'OF21', 'STO02', 'RE01'];
/** Operations answering JSON, where the unknownEnum and extraFields faults (and shapes) may add to an answer. */
const jsonAnswers: readonly MiraklOperationId[] = [...reshaped, 'A01', 'STO01', 'OF52', 'OF53'];
/** Reshaped operations with amounts or quantities. */
const numeric: readonly MiraklOperationId[] = ['RT11', 'RT04', 'OR11', 'OR28', 'OF21', 'STO02'];

const nullEvidence: Partial<Record<MiraklOperationId, { evidence: Deviation['evidence']; where: string }>> = {
  RT11: {
    evidence: example('RT11'),
    where: inExample(specPath.RT11, 'application/json-0', 'data[0].label_url, data[1].rma, data[1].tracking, data[0].return_lines[1].compliance and previous_page_token are null'),
  },
  RT04: { evidence: example('RT04'), where: inExample(specPath.RT04, 'application/json-0', 'return_success[0].tracking.carrier_code is null') },
  OR11: {
    evidence: example('OR11'),
    where: inExample(specPath.OR11, 'application/json-0', 'orders[0].quote_id, order_state_reason_code, order_lines[0].price_additional_info and order_taxes[1].rate are null'),
  },
  OF21: { evidence: example('OF21'), where: inExample(specPath.OF21, 'application/json-0', 'offers[0].all_prices[0].channel_code is null') },
};

export const miraklDeviations: readonly Deviation[] = [
  // Null for an optional field: every reshaped answer (nullOptional), as the examples above do for theirs.
  ...reshaped.map(
    (operationId): Deviation => ({
      operationId,
      keyword: 'type',
      at: '/**',
      value: 'null-if-optional',
      what: 'an optional field sent as null, also where it has no value (rather than left out)',
      source:
        nullEvidence[operationId]?.where ??
        `no null in this operation's own examples; Mirakl's RT11 and OR11 examples send null for optional fields (${inExample(specPath.RT11, 'application/json-0', 'label_url, rma, tracking: null')})`,
      evidence: nullEvidence[operationId]?.evidence ?? example('RT11'),
    }),
  ),

  // RT11 and the return objects RT04 answers with.
  {
    operationId: 'RT11',
    keyword: 'required',
    at: '/data/*/return_lines/*/reason_code',
    what: "the reason on the return (reason_code) and not on each return line, when the lines share one",
    source: inExample(specPath.RT11, 'application/json-0', 'data[0].reason_code is set and its return_lines[*] have no reason_code'),
    evidence: example('RT11'),
  },
  {
    operationId: 'RT04',
    keyword: 'required',
    at: '/return_success/*/return_lines/*/reason_code',
    what: 'the reason on the return and not on each return line',
    source: inExample(specPath.RT04, 'application/json-0', 'return_success[0].return_lines[0] has no reason_code'),
    evidence: example('RT04'),
  },
  ...(['RT11', 'RT04'] as const).flatMap((operationId) =>
    (['carrierCode', 'carrierName'] as const).map(
      (field): Deviation => ({
        operationId,
        keyword: 'unknownProperty',
        at: `/${operationId === 'RT11' ? 'data' : 'return_success'}/*/tracking/${field}`,
        what: `tracking.${field} in place of tracking.${field === 'carrierCode' ? 'carrier_code' : 'carrier_name'}`,
        source: inExample(specPath.RT11, 'application/json-0', `data[0].tracking.${field}${operationId === 'RT04' ? ' (the same return object RT04 answers with)' : ''}`),
        evidence: example('RT11', 'application/json-0', `/data/*/tracking/${field}`),
      }),
    ),
  ),
  ...(['RT11', 'RT04'] as const).map(
    (operationId): Deviation => ({
      operationId,
      keyword: 'undocumentedEnum',
      at: `/${operationId === 'RT11' ? 'data' : 'return_success'}/*/method_code`,
      value: ['RETURN_METHOD_DROP_OFF'],
      what: 'method_code RETURN_METHOD_DROP_OFF, outside the documented values (RETURN_METHOD_DROP_OFF_POINT…)',
      source: operationId === 'RT11' ? inExample(specPath.RT11, 'application/json-0', 'data[1].method_code') : inExample(specPath.RT04, 'application/json-0', 'return_success[0].method_code'),
      evidence: example(operationId),
    }),
  ),

  // OR11.
  {
    operationId: 'OR11',
    keyword: 'type',
    at: '/orders/*/order_lines/*/description',
    value: 'null',
    what: 'an order line description of null, although the schema requires a string',
    source: inExample(specPath.OR11, 'application/json-0', 'orders[0].order_lines[0].description is null'),
    evidence: example('OR11'),
  },
  ...(
    [
      ['/orders/*/paymentType', 'payment_type alone, without the deprecated but required paymentType', 'orders[0] has payment_type and no paymentType'],
      ['/orders/*/order_lines/*/commission_vat', 'no commission_vat on a line (deprecated, still required)', 'orders[0].order_lines[0] has no commission_vat'],
      ['/orders/*/order_lines/*/commission_rate_vat', 'no commission_rate_vat on a line (deprecated, still required)', 'orders[0].order_lines[0] has no commission_rate_vat'],
      ['/orders/*/order_lines/*/refunds/*/refund_state', "a refund's deprecated state alone, without refund_state", 'orders[0].order_lines[0].refunds[0] has state WAITING_REFUND_PAYMENT and no refund_state'],
      ['/orders/*/order_lines/*/taxes/*/tax_calculation_rule', 'a line tax without tax_calculation_rule', 'orders[0].order_lines[0].taxes[1] has none'],
      ['/orders/*/order_lines/*/shipping_taxes/*/tax_calculation_rule', 'a line shipping tax without tax_calculation_rule', 'orders[0].order_lines[0].shipping_taxes[0] has none'],
    ] as const
  ).map(
    ([at, what, where]): Deviation => ({ operationId: 'OR11', keyword: 'required', at, what, source: inExample(specPath.OR11, 'application/json-0', where), evidence: example('OR11') }),
  ),

  // OR28, RE01, OF21.
  {
    operationId: 'OR28',
    keyword: 'unknownProperty',
    at: '/refunds/*/tax_legal_notice',
    what: 'tax_legal_notice on a refund, which the answer schema does not declare',
    source: inExample(specPath.OR28, 'application/json-0', 'refunds[0].tax_legal_notice'),
    evidence: example('OR28'),
  },
  {
    operationId: 'RE01',
    keyword: 'required',
    at: '/total_count',
    what: 'no total_count (deprecated, still required)',
    source: inExample(specPath.RE01, 'application/json-0', 'the answer has reasons and no total_count'),
    evidence: example('RE01'),
  },
  ...(['max_order_quantity', 'min_quantity_alert'] as const).map(
    (field): Deviation => ({
      operationId: 'OF21',
      keyword: 'required',
      at: `/offers/*/${field}`,
      what: `an offer without ${field}`,
      source: inExample(specPath.OF21, 'application/json-0', `offers[0] has no ${field}`),
      evidence: example('OF21'),
    }),
  ),

  // Numbers written as strings (numericStrings).
  ...numeric.map(
    (operationId): Deviation => ({
      operationId,
      keyword: 'type',
      at: '/**',
      value: 'numeric-string',
      what: 'an amount as a decimal string ("12.50"), a rate or a quantity as a string ("20", "2")',
      source: `${inExample(specPath.OR28request, 'application/json-0', 'refunds[0].taxes[*].amount and shipping_taxes[*].amount are "1"')}; and example application/json-0 at paths./api/offers.post.requestBody (OF24): offers[0].quantity is "5000"`,
      evidence: { operationId: 'OR28', part: 'request', example: 'application/json-0' },
    }),
  ),

  // Unannounced values and fields (unknownValues; the unknownEnum and extraFields faults).
  ...jsonAnswers.flatMap((operationId): Deviation[] => [
    {
      operationId,
      keyword: 'undocumentedEnum',
      at: '/**',
      value: [unannouncedValue],
      what: `an enum value nobody announced (${unannouncedValue})`,
      source: 'General Notes (specs NOTES.md §1, "Compatibility"): new enum values can appear at any time, so parse enums as strings',
      evidence: null,
    },
    {
      operationId,
      keyword: 'unknownProperty',
      at: '/**/sandbox_extra_*',
      what: 'fields the schema does not declare (named sandbox_extra_*)',
      source: 'General Notes (specs NOTES.md §1, "Compatibility"): new fields can appear at any time; ignore unknown fields',
      evidence: null,
    },
  ]),
];
