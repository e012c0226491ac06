import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFileSecretStore } from './file-secrets';

describe('credentials file (headless team server)', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (temp = makeTempDir()));
  afterEach(() => temp.remove());

  it('reads, writes and deletes secrets in a file only its owner may read', async () => {
    const file = join(temp.dir, 'credentials.json');
    const store = createFileSecretStore(file);
    expect(await store.get('mirakl.apiKey')).toBeNull();
    await store.set('mirakl.apiKey', 'key-1');
    await store.set('rebound.clientSecret', 'secret-2');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'mirakl.apiKey': 'key-1', 'rebound.clientSecret': 'secret-2' });
    expect(await store.delete('mirakl.apiKey')).toBe(true);
    expect(await store.delete('mirakl.apiKey')).toBe(false);
    expect(await store.get('rebound.clientSecret')).toBe('secret-2');
  });

  it('refuses a file others can read, or one that is not an object of strings, saying what to do', async () => {
    const file = join(temp.dir, 'credentials.json');
    writeFileSync(file, '{"mirakl.apiKey": "k"}');
    chmodSync(file, 0o644);
    await expect(createFileSecretStore(file).get('mirakl.apiKey')).rejects.toThrow(/mode 644.*chmod 600/);
    chmodSync(file, 0o600);
    expect(await createFileSecretStore(file).get('mirakl.apiKey')).toBe('k');
    writeFileSync(file, '{"mirakl.apiKey": 42}');
    await expect(createFileSecretStore(file).get('x')).rejects.toThrow(/"mirakl.apiKey" must be a string/);
    writeFileSync(file, '["k"]');
    await expect(createFileSecretStore(file).get('x')).rejects.toThrow(/one JSON object/);
    writeFileSync(file, '{"mirakl.apiKey": ');
    await expect(createFileSecretStore(file).get('x')).rejects.toThrow(/not valid JSON/);
  });
});
