import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { loadMappings, MappingError, shippedMappingsDir } from './load';

describe('mappings', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('loads every shipped mapping file', () => {
    const m = loadMappings(shippedMappingsDir);
    expect(m.reasonCodes.reasons.length).toBeGreaterThan(5);
    expect(m.policy.refunds.allowCarrierScanRefunds).toBe(false);
    expect(m.versions.reasonCodes).toMatch(/^reasonCodes@v1:[0-9a-f]{12}$/);
  });

  it("prefers the user's copy and records its version", () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'reason-codes.yaml'), 'version: 2\nreasons:\n  - mirakl: RETURN_WARRANTY\n    rebound: Warranty\n    refund: "12"\n');
    const m = loadMappings(shippedMappingsDir, userDir);
    expect(m.reasonCodes.reasons).toEqual([{ mirakl: 'RETURN_WARRANTY', rebound: 'Warranty', refund: '12' }]);
    expect(m.versions.reasonCodes).toMatch(/^reasonCodes@v2:/);
    expect(m.sources.reasonCodes).toBe(join(userDir, 'reason-codes.yaml'));
  });

  it('rejects a malformed file naming the file, the path inside it and what was expected', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'reason-codes.yaml'), 'version: 1\nreasons:\n  - mirakl: RETURN_PDNT_TOO_SMALL\n    rebound: Too small\n');
    let error: unknown;
    try {
      loadMappings(shippedMappingsDir, userDir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).message).toContain(join(userDir, 'reason-codes.yaml'));
    expect((error as MappingError).problems).toEqual([{ path: 'reasons[0].refund', message: expect.stringMatching(/is missing: one of Mirakl's refund reasons/) }]);
  });

  it('rejects broken YAML with its line, and a cadence faster than Mirakl allows', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'sku-offers.yaml'), 'version: 1\noverrides: [\n');
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/sku-offers\.yaml is not a valid mapping file:\n  at line \d+/);
    writeFileSync(join(userDir, 'sku-offers.yaml'), 'version: 1\noverrides: []\n');
    const policy = loadMappings(shippedMappingsDir).sources.policy;
    const text = readFileSync(policy, 'utf8').replace(/returnsPollSeconds: \d+/, 'returnsPollSeconds: 60');
    writeFileSync(join(userDir, 'policy.yaml'), text);
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/cadences\.returnsPollSeconds: Mirakl allows RT11 at most every 5 minutes/);
  });

  it('rejects a reason mapped twice', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    const row = '  - mirakl: RETURN_PDNT_TOO_SMALL\n    rebound: Too small\n    refund: "11"\n';
    writeFileSync(join(userDir, 'reason-codes.yaml'), `version: 1\nreasons:\n${row}${row}`);
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/reasons\[1\]\.mirakl: RETURN_PDNT_TOO_SMALL is already mapped in row 1/);
  });

  // Accepted before: planning took the last line for the SKU, the mapping editor's preview and a person's "restock them"
  // the first, so units went to an offer the preview never named.
  it('rejects an order SKU overridden twice', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'sku-offers.yaml'), 'version: 1\noverrides:\n  - orderSku: TEE-M\n    offerSku: TEE-M-2027\n  - orderSku: TEE-M\n    restock: false\n');
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/overrides\[1\]\.orderSku: TEE-M already has an override in row 1/);
  });
});

// Issue 21, finding 7: an alias bomb (or a file too large to be a mapping) is a MappingError naming the file, the
// place in it and what was expected — never a ReferenceError, never INTERNAL.
describe('hostile mapping files', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  /** Nine levels of nine aliases: 300 bytes that expand to 387,420,489 strings. */
  const aliasBomb = [
    'version: 1',
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
    'overrides: *i',
  ].join('\n');

  const thrown = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    return null;
  };

  it('refuses an alias bomb in a user copy, naming the file, the line of the alias and the limit', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'sku-offers.yaml'), aliasBomb);
    const error = thrown(() => loadMappings(shippedMappingsDir, userDir));
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).file).toBe(join(userDir, 'sku-offers.yaml'));
    expect((error as MappingError).problems).toEqual([{ path: expect.stringMatching(/^line 3, column \d+$/), message: expect.stringMatching(/alias/i) }]);
  });

  it('refuses a file over 1 MB before parsing it', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    const rows = Array.from({ length: 40_000 }, (_, i) => `  - orderSku: SKU-${i}\n    offerSku: OFFER-${i}\n`).join('');
    writeFileSync(join(userDir, 'sku-offers.yaml'), `version: 1\noverrides:\n${rows}`);
    const error = thrown(() => loadMappings(shippedMappingsDir, userDir));
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).problems).toEqual([{ path: '', message: expect.stringMatching(/at most 1 MB/) }]);
  });

  it('answers mappings.preview of an alias bomb with the problem, not INTERNAL', async () => {
    const { core } = await makeTestCore(join(temp.dir, 'data'));
    try {
      const result = await core.dispatch('mappings.preview', { file: 'skuOffers', text: aliasBomb });
      expect(result).toEqual({ ok: true, data: { ok: false, problems: [{ path: expect.stringMatching(/^line 3/), message: expect.stringMatching(/alias/i) }] } });
    } finally {
      core.close();
    }
  });
});
