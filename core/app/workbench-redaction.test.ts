import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock } from '../adapters/fake-clock';
import { createMemorySecretStore } from '../adapters/keytar-secrets';
import { createLogger } from '../adapters/logger';
import type { HttpRequest, HttpResponse } from '../net/http';
import type { SecretStore } from '../ports';
import { openStore } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { createSettingsRepo } from '../store/settings-repo';
import { liveSettingKeys, secretAccounts } from './mode';
import { startWorkbench, type Workbench } from './workbench';

// Issue 21, finding 10: a server that quotes the key in its 401 answer got it into the log in browser mode (whose
// logger had no known-secret redaction) and into the database in every mode (feeds.last_error, exceptions.cause).
// The workbench — what every host runs — masks every secret the keychain hands out before text reaches a log or the
// database, whatever logger the host passed in.

const apiKey = 'mk-live-7f3a9c1e55d2';
const clientSecret = 'rb-live-0c9e4b7d13aa';

describe('known secrets never reach a log or the database', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let workbench: Workbench | null = null;

  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(async () => {
    await workbench?.close();
    temp.remove();
  });

  it('masks a key quoted back by a 401 answer in the log lines and in every database row', async () => {
    const clock = createFakeClock(Date.UTC(2026, 10, 1, 9));
    // Live connections, configured before the start, as a person would have saved them.
    const main = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    const settings = createSettingsRepo(main.db, clock);
    settings.set(liveSettingKeys.miraklBaseUrl, 'https://asos-marketplace.mirakl.net');
    settings.set(liveSettingKeys.miraklShopId, '2001');
    settings.set(liveSettingKeys.reboundBaseUrl, 'https://api.rebound.example');
    settings.set(liveSettingKeys.reboundClientId, 'client-1');
    main.close();
    const secrets: SecretStore = createMemorySecretStore();
    await secrets.set(secretAccounts.miraklApiKey, apiKey);
    await secrets.set(secretAccounts.reboundClientSecret, clientSecret);

    // Both servers refuse the credentials and quote them back.
    const http = async (request: HttpRequest): Promise<HttpResponse> =>
      request.url.includes('mirakl')
        ? { status: 401, headers: {}, body: JSON.stringify({ status: 401, message: `Invalid API key ${request.headers?.authorization ?? ''} for shop 2001` }) }
        : { status: 401, headers: {}, body: JSON.stringify({ error: { code: 'invalid_client', message: `unknown client secret ${String(request.body)}` } }) };
    // The logger a host makes on its own, with no redactor of its own (as browser mode made it).
    const lines: string[] = [];
    const log = createLogger({ clock, sink: (line) => lines.push(line) });

    workbench = await startWorkbench({
      dataDir: temp.dir,
      migrationsDir: sourceMigrationsDir,
      clock,
      random: { next: () => 0.5 },
      ids: { uuid: () => 'id' },
      log,
      secrets,
      http,
      actor: 'tester',
      appVersion: 'test',
      autoStart: false,
    });
    expect(workbench.mode).toBe('live');
    const report = await workbench.sync?.runCycle();
    expect(report?.failed.length).toBeGreaterThan(0);

    const db = workbench.core.store.db;
    const errors = db.prepare('SELECT last_error FROM feeds WHERE last_error IS NOT NULL').pluck().all() as string[];
    const causes = db.prepare(`SELECT cause FROM exceptions WHERE type = 'CREDENTIALS_INVALID'`).pluck().all() as string[];
    expect(errors.length).toBeGreaterThan(0);
    expect(causes.length).toBeGreaterThan(0);
    // What the servers said is kept, with the secret masked.
    expect(errors.join('\n')).toMatch(/Invalid API key \[redacted\] for shop 2001/);
    expect(causes.join('\n')).toContain('[redacted]');
    await workbench.close();
    workbench = null;

    const everything = [lines.join('\n'), ...readdirSync(temp.dir).filter((n) => n.startsWith('workbench.sqlite')).map((n) => readFileSync(join(temp.dir, n)).toString('latin1'))];
    for (const text of everything) {
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain(clientSecret);
    }
  });
});
