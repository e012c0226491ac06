import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock } from '../adapters/fake-clock';
import { createMemorySecretStore } from '../adapters/keytar-secrets';
import { silentLogger } from '../adapters/logger';
import type { Command, Output, Result } from '../contract';
import { shippedMappingsDir } from '../mappings/load';
import { createMappingStore } from '../mappings/store';
import type { HttpRequest, HttpResponse } from '../net/http';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { createCore, type Core } from './create-core';

// Issue 21, finding 3: "Test connection" sent the keychain's Mirakl key and ReBound secret to whatever address it
// was given, over plain http too. A stored secret goes only to the stored address; any other address needs the
// secret typed; live addresses are https (plain http only on this machine's loopback, for the sandbox).

const apiKey = 'mk-stored-4b1d9e0c7a';
const clientSecret = 'rb-stored-91ce55f0';

describe('test connection and stored secrets', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let core: Core;
  let sent: HttpRequest[];

  const call = <K extends Command>(command: K, input: unknown) => core.dispatch(command, input) as Promise<Result<Output<K>>>;
  const carriesSecret = (r: HttpRequest) => [apiKey, clientSecret].some((s) => JSON.stringify([r.url, r.headers, r.body]).includes(s));

  beforeEach(async () => {
    temp = makeTempDir();
    sent = [];
    const clock = createFakeClock(Date.UTC(2026, 10, 1));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    const http = async (request: HttpRequest): Promise<HttpResponse> => {
      sent.push(request);
      return { status: 401, headers: {}, body: '{"message":"unauthorized"}' };
    };
    core = createCore({
      store,
      dataDir: temp.dir,
      clock,
      ids: { uuid: () => 'id' },
      log: silentLogger,
      secrets: createMemorySecretStore(),
      appVersion: 'test',
      mode: 'sandbox',
      mappings: createMappingStore(shippedMappingsDir, join(temp.dir, 'mappings')),
      actor: 'tester',
      http,
    });
    const saved = await call('settings.saveConnections', {
      mirakl: { baseUrl: 'https://asos-marketplace.mirakl.net', shopId: 2001 },
      rebound: { baseUrl: 'https://api.rebound.example/v2', clientId: 'client-1' },
      secrets: { miraklApiKey: apiKey, reboundClientSecret: clientSecret },
    });
    expect(saved.ok).toBe(true);
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('never sends a stored secret to an address other than the stored one', async () => {
    for (const baseUrl of ['https://attacker.example', 'https://asos-marketplace.mirakl.net.attacker.example', 'https://asos-marketplace.mirakl.net:8443']) {
      const mirakl = await call('settings.testConnection', { system: 'mirakl', baseUrl });
      expect(mirakl, baseUrl).toEqual({ ok: true, data: { ok: false, message: expect.stringMatching(/type the API key/i) } });
      const rebound = await call('settings.testConnection', { system: 'rebound', baseUrl, clientId: 'client-1' });
      expect(rebound, baseUrl).toEqual({ ok: true, data: { ok: false, message: expect.stringMatching(/type the client secret/i) } });
    }
    expect(sent.filter(carriesSecret)).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('uses the stored secret for the stored address, however it is typed, and a typed secret anywhere', async () => {
    await call('settings.testConnection', { system: 'mirakl', baseUrl: 'https://asos-marketplace.mirakl.net/' });
    await call('settings.testConnection', { system: 'rebound' });
    expect(sent.map((r) => new URL(r.url).host)).toEqual(['asos-marketplace.mirakl.net', 'api.rebound.example']);
    expect(sent.every(carriesSecret)).toBe(true);
    await call('settings.testConnection', { system: 'mirakl', baseUrl: 'https://other.mirakl.net', apiKey: 'typed-key-123' });
    expect(sent[2]?.headers?.authorization).toBe('typed-key-123');
  });

  it('refuses plain http except on loopback (the sandbox), naming the field', async () => {
    const refused = await call('settings.testConnection', { system: 'mirakl', baseUrl: 'http://asos-marketplace.mirakl.net', apiKey: 'typed-key-123' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION', issues: [{ path: ['baseUrl'], message: expect.stringMatching(/https/) }] } });
    const save = await call('settings.saveConnections', {
      mirakl: { baseUrl: 'http://asos-marketplace.mirakl.net' },
      rebound: { baseUrl: 'https://api.rebound.example/v2', clientId: 'client-1' },
    });
    expect(save).toMatchObject({ ok: false, error: { code: 'VALIDATION', issues: [{ path: ['mirakl', 'baseUrl'] }] } });
    expect(sent).toEqual([]);
    for (const loopback of ['http://127.0.0.1:8123', 'http://localhost:8123', 'http://[::1]:8123']) {
      await call('settings.testConnection', { system: 'mirakl', baseUrl: loopback, apiKey: 'typed-key-123' });
    }
    expect(sent.map((r) => new URL(r.url).hostname)).toEqual(['127.0.0.1', 'localhost', '[::1]']);
  });
});
