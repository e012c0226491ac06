import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    expect((error as MappingError).problems).toEqual([{ path: 'reasons[0].refund', message: expect.stringMatching(/expected string/i) }]);
  });

  it('rejects broken YAML with its line, and a cadence faster than Mirakl allows', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'sku-offers.yaml'), 'version: 1\noverrides: [\n');
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/sku-offers\.yaml is not a valid mapping file:\n  at line \d+/);
    writeFileSync(join(userDir, 'sku-offers.yaml'), 'version: 1\noverrides: []\n');
    const policy = loadMappings(shippedMappingsDir).sources.policy;
    const text = readFileSync(policy, 'utf8').replace('returnsPollSeconds: 300', 'returnsPollSeconds: 60');
    writeFileSync(join(userDir, 'policy.yaml'), text);
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/cadences\.returnsPollSeconds: Mirakl allows RT11 at most every 5 minutes/);
  });

  it('rejects a reason mapped twice', () => {
    const userDir = join(temp.dir, 'mappings');
    mkdirSync(userDir);
    const row = '  - mirakl: RETURN_PDNT_TOO_SMALL\n    rebound: Too small\n    refund: "11"\n';
    writeFileSync(join(userDir, 'reason-codes.yaml'), `version: 1\nreasons:\n${row}${row}`);
    expect(() => loadMappings(shippedMappingsDir, userDir)).toThrow(/reasons\[1\]\.mirakl: RETURN_PDNT_TOO_SMALL is already mapped at reasons\[0\]/);
  });
});
