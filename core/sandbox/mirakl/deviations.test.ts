import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { miraklDeviations, type Deviation } from './deviations';
import type { ExamplesDocument } from './openapi/derive';
import { createMiraklSpecValidator, formatIssue } from './openapi/validator';

// The deviations list is only as good as its sources: each one that names an example must be something that example
// really does (validated without the list, the example shows the issue; with that one deviation, the issue goes).

const examples = JSON.parse(readFileSync(new URL('./openapi/mirakl-seller-examples.json', import.meta.url), 'utf8')) as ExamplesDocument;
const validator = createMiraklSpecValidator();

function validateEvidence(evidence: NonNullable<Deviation['evidence']>, deviations: Deviation[]): string[] {
  const operation = examples.operations[evidence.operationId];
  const found = evidence.part === 'request' ? operation?.request?.[evidence.example] : operation?.responses[evidence.part]?.[evidence.example];
  if (!found) throw new Error(`no example ${evidence.example} for ${evidence.operationId} ${evidence.part}`);
  const options = { deviations };
  const issues =
    evidence.part === 'request'
      ? validator.validateRequestBody(evidence.operationId, found.mediaType, found.value, options)
      : validator.validateResponse(evidence.operationId, Number(evidence.part), found.mediaType, found.value, options);
  return issues.map(formatIssue);
}

describe('Mirakl deviations', () => {
  const withEvidence = miraklDeviations.filter((d): d is Deviation & { evidence: NonNullable<Deviation['evidence']> } => d.evidence !== null);

  it.each(withEvidence.map((d) => [`${d.operationId} ${d.keyword} ${d.at}`, d] as const))('%s is shown by the example it cites', (_name, deviation) => {
    const { evidence } = deviation;
    // Read the deviation as if it were the evidence's own (same operation, location and, if given, pointer).
    const asEvidence: Deviation = {
      ...deviation,
      operationId: evidence.operationId,
      location: evidence.part === 'request' ? 'requestBody' : 'response',
      at: evidence.at ?? deviation.at,
    };
    const before = validateEvidence(evidence, []);
    const after = validateEvidence(evidence, [asEvidence]);
    expect(after.length).toBeLessThan(before.length);
    // Nothing it accepts was not already an issue.
    expect(after.every((issue) => before.includes(issue))).toBe(true);
  });

  it('names a source for every deviation, and an example or the General Notes as that source', () => {
    for (const d of miraklDeviations) {
      expect(d.source).toMatch(/^(example \S+ at paths\.\S+ in the spec|no null in this operation's own examples|General Notes)/);
      expect(d.what.length).toBeGreaterThan(10);
      if (d.evidence === null) expect(d.source).toMatch(/^General Notes/);
    }
  });

  it('accepts, with the whole list, every deviation the business examples of the reshaped operations show', () => {
    // What remains is what the sandbox never does (A01's missing billing_info, OF21's discount_price null…).
    const remaining: string[] = [];
    for (const operationId of ['RT11', 'RT04', 'OR11', 'OR28', 'RE01'] as const) {
      const example = examples.operations[operationId]?.responses['200']?.['application/json-0'];
      if (!example) continue;
      remaining.push(...validator.validateResponse(operationId, 200, example.mediaType, example.value, { deviations: miraklDeviations }).map(formatIssue));
    }
    expect(remaining).toEqual([]);
  });
});
