import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createKeytarSecretStore, createMemorySecretStore } from '../adapters/keytar-secrets';
import { silentLogger } from '../adapters/logger';
import type { Command, Output, Result } from '../contract';
import type { SecretStore } from '../ports';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { bootCore, type Core } from './create-core';

// Connections and secrets through the contract: addresses go to the settings table, secrets only to the SecretStore
// and never back out; without a keychain the error says so and nothing is half-saved.

const apiKey = 'mk-9f3c1d2e-very-secret';
const clientSecret = 'rb-secret-77aa01';

describe('settings', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let secrets: SecretStore;

  async function boot(store: SecretStore): Promise<void> {
    secrets = store;
    core = await bootCore({
      dataDir: temp.dir,
      migrationsDir: sourceMigrationsDir,
      clock: createFakeClock(Date.UTC(2026, 10, 1)),
      ids: { uuid: () => 'id' },
      log: silentLogger,
      secrets: store,
      actor: 'tester',
      appVersion: '0.0.0-test',
    });
  }
  const call = <K extends Command>(command: K, input: unknown) => core.dispatch(command, input) as Promise<Result<Output<K>>>;

  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  const connections = {
    mirakl: { baseUrl: 'https://asos-marketplace.mirakl.net/', shopId: 2001 },
    rebound: { baseUrl: 'https://api.rebound.example/v2', clientId: 'client-1', flowKey: 'flow-a' },
  };

  it('starts empty: nothing configured, no secret set, the keychain answers', async () => {
    await boot(createMemorySecretStore());
    const result = await call('settings.get', {});
    expect(result).toEqual({
      ok: true,
      data: {
        mode: 'sandbox',
        person: { name: 'tester', osName: 'tester', isSet: false },
        connections: { mirakl: { baseUrl: null, shopId: null }, rebound: { baseUrl: null, clientId: null, flowKey: null } },
        secrets: { miraklApiKey: false, reboundClientSecret: false },
        keychain: { available: true, message: null },
      },
    });
  });

  it('saves addresses to the settings table and secrets only to the keychain; no answer carries a secret', async () => {
    await boot(createMemorySecretStore());
    const saved = await call('settings.saveConnections', { ...connections, secrets: { miraklApiKey: apiKey, reboundClientSecret: clientSecret } });
    expect(saved.ok).toBe(true);
    if (!saved.ok) return;
    expect(saved.data.settings.connections).toEqual({
      mirakl: { baseUrl: 'https://asos-marketplace.mirakl.net', shopId: 2001 },
      rebound: { baseUrl: 'https://api.rebound.example/v2', clientId: 'client-1', flowKey: 'flow-a' },
    });
    expect(saved.data.settings.secrets).toEqual({ miraklApiKey: true, reboundClientSecret: true });
    // Without a workbench around it, the core cannot restart a sync service: it says when the change applies.
    expect(saved.data).toMatchObject({ restarted: false, message: expect.stringContaining('next time') as string });
    expect(await secrets.get('mirakl.apiKey')).toBe(apiKey);
    expect(await secrets.get('rebound.clientSecret')).toBe(clientSecret);

    const audit = await call('audit.list', { subject: 'settings:connections' });
    expect(audit.ok && audit.data.rows[0]).toMatchObject({
      actor: 'tester',
      action: 'settings.saveConnections',
      before: { mirakl: { baseUrl: null } },
      after: { mirakl: { baseUrl: 'https://asos-marketplace.mirakl.net' }, secretsReplaced: ['miraklApiKey', 'reboundClientSecret'] },
    });

    const answers = JSON.stringify([saved, await call('settings.get', {}), audit]);
    expect(answers).not.toContain(apiKey);
    expect(answers).not.toContain(clientSecret);

    core.store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const name of readdirSync(temp.dir).filter((n) => n.startsWith('workbench.sqlite'))) {
      const bytes = readFileSync(join(temp.dir, name));
      expect(bytes.includes(Buffer.from(apiKey)), name).toBe(false);
      expect(bytes.includes(Buffer.from(clientSecret)), name).toBe(false);
    }
    expect(readFileSync(join(temp.dir, 'workbench.sqlite')).includes(Buffer.from('asos-marketplace.mirakl.net'))).toBe(true);
  });

  it('keeps a stored secret when a save leaves it out, and clears an optional field left empty', async () => {
    await boot(createMemorySecretStore());
    await call('settings.saveConnections', { ...connections, secrets: { miraklApiKey: apiKey } });
    const again = await call('settings.saveConnections', { mirakl: { baseUrl: 'https://other.mirakl.net' }, rebound: { baseUrl: 'https://rb.example', clientId: 'c2' } });
    expect(again.ok && again.data.settings).toMatchObject({
      connections: { mirakl: { baseUrl: 'https://other.mirakl.net', shopId: null }, rebound: { flowKey: null } },
      secrets: { miraklApiKey: true, reboundClientSecret: false },
    });
  });

  it('names the field of a bad address', async () => {
    await boot(createMemorySecretStore());
    for (const baseUrl of ['not a url', 'ftp://files.example', 'https://user:pw@example.mirakl.net']) {
      const result = await call('settings.saveConnections', { ...connections, mirakl: { baseUrl } });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('VALIDATION');
        expect(result.error.issues?.[0]?.path).toEqual(['mirakl', 'baseUrl']);
      }
    }
    expect((await call('settings.get', {})).ok && true).toBe(true);
  });

  it('without a keychain: says so, refuses a secret with KEYCHAIN_UNAVAILABLE and saves nothing', async () => {
    await boot(
      createKeytarSecretStore('Returns Workbench test', async () => {
        throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
      }),
    );
    const view = await call('settings.get', {});
    expect(view.ok && view.data.keychain.available).toBe(false);
    expect(view.ok && view.data.keychain.message).toMatch(/keychain is not available.*gnome-keyring/s);

    const refused = await call('settings.saveConnections', { ...connections, secrets: { miraklApiKey: apiKey } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringContaining('keychain is not available') as string } });
    const after = await call('settings.get', {});
    expect(after.ok && after.data.connections.mirakl.baseUrl).toBeNull();

    // Addresses alone need no keychain.
    const withoutSecrets = await call('settings.saveConnections', connections);
    expect(withoutSecrets.ok && withoutSecrets.data.settings.connections.rebound.clientId).toBe('client-1');
  });

  it('a connection test without an address or a secret says what to enter', async () => {
    await boot(createMemorySecretStore());
    expect(await call('settings.testConnection', { system: 'mirakl' })).toEqual({ ok: true, data: { ok: false, message: expect.stringContaining('Mirakl address') as string } });
    expect(await call('settings.testConnection', { system: 'mirakl', baseUrl: 'https://x.mirakl.net' })).toEqual({
      ok: true,
      data: { ok: false, message: expect.stringContaining('API key') as string },
    });
    expect(await call('settings.testConnection', { system: 'rebound', baseUrl: 'https://rb.example' })).toEqual({
      ok: true,
      data: { ok: false, message: expect.stringContaining('client id') as string },
    });
  });

  it('"Your name" is the actor of the person\'s actions from the next one on; setting it is audited; empty goes back to the OS name', async () => {
    await boot(createMemorySecretStore());
    const set = await call('settings.setName', { name: '  Ada Lovelace ' });
    expect(set).toMatchObject({ ok: true, data: { person: { name: 'Ada Lovelace', osName: 'tester', isSet: true } } });
    const renamed = await call('audit.list', { subject: 'settings:person' });
    // Recorded under the name before the change: the log says who renamed whom.
    expect(renamed.ok && renamed.data.rows).toMatchObject([
      { actor: 'tester', action: 'settings.setName', before: { name: 'tester', isSet: false }, after: { name: 'Ada Lovelace', isSet: true } },
    ]);

    expect(await call('writes.freeze', { reason: 'month-end close' })).toMatchObject({ ok: true });
    expect(await call('writes.status', {})).toMatchObject({ ok: true, data: { frozen: { by: 'Ada Lovelace' } } });
    const frozen = await call('audit.list', { action: 'writes.freeze' });
    expect(frozen.ok && frozen.data.rows[0]).toMatchObject({ actor: 'Ada Lovelace', reason: 'month-end close' });

    // The same name again changes nothing and adds no entry; empty goes back to the computer's name, audited.
    await call('settings.setName', { name: 'Ada Lovelace' });
    const back = await call('settings.setName', { name: '' });
    expect(back).toMatchObject({ ok: true, data: { person: { name: 'tester', isSet: false } } });
    const all = await call('audit.list', { subject: 'settings:person' });
    expect(all.ok && all.data.rows.map((r) => [r.actor, (r.after as { name: string }).name])).toEqual([
      ['Ada Lovelace', 'tester'],
      ['tester', 'Ada Lovelace'],
    ]);
    expect(await call('writes.unfreeze', { reason: 'close done' })).toMatchObject({ ok: true });
    const unfrozen = await call('audit.list', { action: 'writes.unfreeze' });
    expect(unfrozen.ok && unfrozen.data.rows[0]).toMatchObject({ actor: 'tester' });
    expect(await call('audit.verify', {})).toMatchObject({ ok: true, data: { ok: true } });
  });

  it('refuses a name with control characters or over 200 characters, naming the field', async () => {
    await boot(createMemorySecretStore());
    for (const name of ['Ada\nLovelace', 'x'.repeat(201)]) {
      const refused = await call('settings.setName', { name });
      expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
      if (!refused.ok) expect(refused.error.issues?.[0]?.path).toEqual(['name']);
    }
    expect(await call('settings.get', {})).toMatchObject({ ok: true, data: { person: { name: 'tester', isSet: false } } });
  });

  it('sync controls answer CONFLICT with the reason when no sync service runs', async () => {
    await boot(createMemorySecretStore());
    const status = await call('sync.status', {});
    expect(status.ok && status.data).toMatchObject({ state: 'stopped', mode: 'sandbox', lastCycleAt: null, cycles: 0 });
    expect(await call('sync.pause', {})).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });
});
