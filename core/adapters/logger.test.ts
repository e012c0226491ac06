import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock';
import { createMemorySecretStore, rememberSecrets } from './keytar-secrets';
import { createLogger, createSecretRedactor, redact, type SecretRedactor } from './logger';

function capture(redactor?: SecretRedactor) {
  const lines: string[] = [];
  const log = createLogger({ clock: createFakeClock(), sink: (l) => lines.push(l), ...(redactor ? { redactor } : {}) });
  return { log, lines };
}

describe('log redaction', () => {
  it('replaces fields named like credentials, at any depth', () => {
    const { log, lines } = capture();
    log.info('saved', { apiKey: 'k-1', nested: { client_secret: 's-1', list: [{ password: 'p-1' }] }, user: 'ana', Authorization: 'x' });
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({ apiKey: '[redacted]', nested: { client_secret: '[redacted]', list: [{ password: '[redacted]' }] }, user: 'ana', Authorization: '[redacted]' });
  });

  it('masks credential shapes inside free text: headers, bearer tokens, query strings, form bodies, JSON', () => {
    const cases: [string, string][] = [
      ['request failed: Authorization: 0f9a8b7c6d5e', 'request failed: Authorization: [redacted]'],
      ['sent {"authorization":"0f9a8b7c6d5e"}', 'sent {"authorization":"[redacted]"}'],
      ['got 401 for Bearer eyJhbGciOi.abc.def', 'got 401 for Bearer [redacted]'],
      ['GET /api/orders?api_key=0f9a8b7c&max=10', 'GET /api/orders?api_key=[redacted]&max=10'],
      ['grant_type=client_credentials&client_id=rw&client_secret=s3cr3t!', 'grant_type=client_credentials&client_id=rw&client_secret=[redacted]'],
      ['body was {"client_secret": "s3\\"cr3t", "id": 1}', 'body was {"client_secret": "[redacted]", "id": 1}'],
    ];
    for (const [text, expected] of cases) expect(redact(text)).toBe(expected);
    expect(redact('3 returns moved to RECEIVED; tokens of work: none')).toBe('3 returns moved to RECEIVED; tokens of work: none');
  });

  it('masks the values read from or written to the keychain, wherever they appear, including URL-encoded', async () => {
    const redactor = createSecretRedactor();
    const secrets = rememberSecrets(createMemorySecretStore(), redactor);
    await secrets.set('mirakl.apiKey', 'mk-7f3a9c21e0');
    const store = createMemorySecretStore();
    await store.set('rebound.clientSecret', 'rb/secret+value');
    const tracked = rememberSecrets(store, redactor);
    expect(await tracked.get('rebound.clientSecret')).toBe('rb/secret+value');

    const { log, lines } = capture(redactor);
    log.error('mirakl refused mk-7f3a9c21e0 (key mk-7f3a9c21e0)', {
      error: new Error('POST https://auth.example/token failed; body had rb%2Fsecret%2Bvalue'),
      detail: ['echo: rb/secret+value'],
    });
    const line = lines[0] ?? '';
    expect(line).not.toContain('mk-7f3a9c21e0');
    expect(line).not.toContain('rb/secret+value');
    expect(line).not.toContain('rb%2Fsecret%2Bvalue');
    expect(JSON.parse(line)).toMatchObject({
      message: 'mirakl refused [redacted] (key [redacted])',
      error: 'POST https://auth.example/token failed; body had [redacted]',
      detail: ['echo: [redacted]'],
    });
  });

  it('keeps the parts of a line that are not secret, and never remembers trivially short values', () => {
    const redactor = createSecretRedactor();
    redactor.remember('abc');
    expect(redactor.scrub('abc order abcdef')).toBe('abc order abcdef');
    const { log, lines } = capture(redactor);
    log.warn('feed failed', { feed: 'mirakl.returns', error: '503 Service Unavailable' });
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'warn', message: 'feed failed', feed: 'mirakl.returns', error: '503 Service Unavailable' });
  });
});
