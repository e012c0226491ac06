import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { systemClock } from '../../core/adapters/system';
import type { Result } from '../../core/contract';
import { shippedMappingsDir } from '../../core/mappings/load';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { createScaledClock } from '../../core/sandbox/clock';
import { defaultScenario, startSandbox, type Sandbox } from '../../core/sandbox/index';
import { databaseFileName } from '../../core/store/db';
import { engineStateFolderName } from '../../core/store/lease-marker';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { bootHostedCore } from './boot';

// The desktop core in live mode against a standalone sandbox, as a user would point it at real endpoints: the
// credentials go in through Settings, the sync runs, and (1) no secret is found in the database files, the logs
// or an export; (2) quitting while a call is out records it, and the next start probes it instead of sending it
// again.

const speed = 7200;

interface Running {
  sandbox: Sandbox;
  temp: ReturnType<typeof makeTempDir>;
}
let running: Running | null = null;

afterEach(async () => {
  await running?.sandbox.close();
  running?.temp.remove();
  running = null;
});

async function until<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function setup(seed: number) {
  const clock = createScaledClock(systemClock, defaultScenario.startMs + 60_000, speed);
  const sandbox = await startSandbox({ seed, clock, tickMs: 100 });
  const temp = makeTempDir('rw-live-');
  running = { sandbox, temp };
  const keychain = createMemorySecretStore();
  // The per-user state folder outside the data folder: this test file's own (test/support/state-dir-setup.ts).
  const engineStateDir = join(process.env.RW_STATE_DIR as string, basename(temp.dir));
  const config = { dataDir: temp.dir, engineStateDir, migrationsDir: sourceMigrationsDir, mappingsDir: shippedMappingsDir, appVersion: '0.0.0-test' };
  // Sandbox mode (before the connections are saved) runs its own world on top of this clock: at 1x of it, no warm-up.
  const boot = (http: HttpPort = fetchHttp) =>
    bootHostedCore(config, {
      secrets: keychain,
      workbench: { clock, http, idleMs: { live: 50, sandbox: 50 }, sandbox: { webhooks: false, speed: 1, warmupSeconds: 0, caughtUpDays: 0, tickMs: 100 } },
    });
  const connect = async (hosted: Awaited<ReturnType<typeof boot>>) => {
    const saved = (await hosted.dispatch('settings.saveConnections', {
      mirakl: { baseUrl: sandbox.mirakl.baseUrl, shopId: sandbox.mirakl.shopId },
      rebound: { baseUrl: sandbox.rebound.baseUrl, clientId: sandbox.rebound.clientId },
      secrets: { miraklApiKey: sandbox.mirakl.apiKey, reboundClientSecret: sandbox.rebound.clientSecret },
    })) as Result<{ mode: string; restarted: boolean }>;
    expect(saved).toMatchObject({ ok: true, data: { mode: 'live', restarted: true } });
  };
  return { sandbox, temp, keychain, config, boot, connect };
}

const intentsOf = (db: Database.Database, kind: string) =>
  db
    .prepare(`SELECT id, json_extract(payload, '$.clientOrderId') AS clientOrderId, state, last_error AS lastError FROM intents WHERE kind = ? ORDER BY id`)
    .all(kind) as {
    id: number;
    clientOrderId: string | null;
    state: string;
    lastError: string | null;
  }[];

describe('the desktop core in live mode against a standalone sandbox', () => {
  it('keeps the secrets typed in Settings out of the database files, the logs and an export', async () => {
    const { sandbox, temp, keychain, boot, connect } = await setup(11);
    const secrets = [sandbox.mirakl.apiKey, sandbox.rebound.clientSecret];
    const hosted = await boot();
    expect(hosted.mode).toBe('sandbox');
    await connect(hosted);
    expect(hosted.mode).toBe('live');
    // They went to the keychain, and only there.
    expect(await keychain.get('mirakl.apiKey')).toBe(sandbox.mirakl.apiKey);
    expect(await keychain.get('rebound.clientSecret')).toBe(sandbox.rebound.clientSecret);

    // Real work against the sandbox: returns read from Mirakl and created in ReBound.
    const db = hosted.workbench.core.store.db;
    await until('a return created in ReBound', () => intentsOf(db, 'rebound.createReturn').some((i) => i.state === 'confirmed'));
    const settingsView = (await hosted.dispatch('settings.get', {})) as Result<unknown>;
    expect(JSON.stringify(settingsView)).not.toContain(sandbox.mirakl.apiKey);
    const exportedCsv = await exportCsv(hosted);
    // Every file the app wrote in its data folder (both databases, logs, report files), read while it runs (the -wal
    // holds the latest writes then) and again after it stopped (the -wal has been folded into the database).
    const snapshot = (when: string) =>
      (readdirSync(temp.dir, { recursive: true }) as string[])
        .map((f) => join(temp.dir, f))
        .filter((f) => statSync(f).isFile())
        .map((file) => ({ file: `${file} (${when})`, bytes: readFileSync(file) }));
    const whileRunning = snapshot('while running');
    expect(await hosted.shutdown(10_000)).toEqual({ isDrained: true, interrupted: 0 });
    const haystacks = [...whileRunning, ...snapshot('after quitting')];
    const names = haystacks.map((h) => basename(h.file.split(' (')[0] ?? ''));
    expect(names).toEqual(expect.arrayContaining([databaseFileName, `${databaseFileName}-wal`, 'workbench.log']));
    expect(whileRunning.find((h) => h.file.includes(`${databaseFileName}-wal`))?.bytes.length).toBeGreaterThan(0);
    haystacks.push({ file: 'CSV export', bytes: Buffer.from(exportedCsv) });
    // The search can see what is there: the non-secret connection settings are in the database, the log has lines.
    expect(haystacks.some((h) => h.bytes.includes(sandbox.rebound.clientId))).toBe(true);
    expect(haystacks.find((h) => h.file.includes('workbench.log'))?.bytes.length).toBeGreaterThan(0);
    expect(exportedCsv.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
        for (const { file, bytes } of haystacks) expect(bytes.includes(form), `${form} found in ${file}`).toBe(false);
      }
    }
  }, 90_000);

  it('records a call still out at quit as interrupted, and the next start probes it instead of sending it again', async () => {
    const { sandbox, config, boot, connect } = await setup(12);
    // ReBound creates the return, but its answer is held until released: the call is out when the user quits.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldCalls = 0;
    const holding: HttpPort = async (request) => {
      const response = await fetchHttp(request);
      // Only the standalone sandbox's ReBound: Sandbox mode, before the connections are saved, has its own.
      if (request.method === 'POST' && request.url === `${sandbox.rebound.baseUrl}/return-orders`) {
        heldCalls++;
        await held;
      }
      return response;
    };
    const hosted = await boot(holding);
    await connect(hosted);
    const db = hosted.workbench.core.store.db;
    const inFlight = await until('a return creation in flight', () => intentsOf(db, 'rebound.createReturn').find((i) => i.state === 'sending'));

    const report = await hosted.shutdown(300);
    expect(report.isDrained).toBe(false);
    expect(report.interrupted).toBeGreaterThanOrEqual(1);
    const file = new Database(join(config.dataDir, databaseFileName), { readonly: true });
    const afterQuit = intentsOf(file, 'rebound.createReturn');
    file.close();
    expect(afterQuit.find((i) => i.id === inFlight.id)).toMatchObject({ state: 'uncertain', lastError: 'the app stopped while this call was in flight' });
    expect(afterQuit.filter((i) => i.state === 'sending')).toEqual([]);
    expect(heldCalls).toBe(1);

    // ReBound did create it (the answer was lost, as can happen in real life).
    const { clientOrderId } = inFlight;
    expect(sandbox.truth().rebound.returnOrders.filter((r) => r.clientOrderId === clientOrderId)).toHaveLength(1);
    release();

    const restarted = await boot();
    expect(restarted.mode).toBe('live');
    const db2 = restarted.workbench.core.store.db;
    await until('the interrupted creation to be settled by a probe', () => intentsOf(db2, 'rebound.createReturn').find((i) => i.id === inFlight.id && i.state === 'confirmed'));
    expect(sandbox.truth().rebound.returnOrders.filter((r) => r.clientOrderId === clientOrderId)).toHaveLength(1);
    expect(await restarted.shutdown(10_000)).toMatchObject({ isDrained: true });
    // The Live engine recorded its database's lease outside the data folder too (Sandbox mode's throw-away one did not).
    const records = readdirSync(join(config.engineStateDir, engineStateFolderName)).map((f) => JSON.parse(readFileSync(join(config.engineStateDir, engineStateFolderName, f), 'utf8')) as { folder: string; epoch: number });
    expect(records).toEqual([expect.objectContaining({ folder: config.dataDir, epoch: 2 })]);
  }, 90_000);
});

/** The month-end report's CSV files for the current period, generated through the contract as a finance analyst would. */
async function exportCsv(hosted: Awaited<ReturnType<typeof bootHostedCore>>): Promise<string> {
  const period = new Date(hosted.workbench.core.clock.now()).toISOString().slice(0, 7);
  const generated = (await hosted.dispatch('reports.generate', { period })) as Result<{ files: { name: string; path: string }[] }>;
  if (!generated.ok) throw new Error(`reports.generate failed: ${generated.error.code} ${generated.error.message}`);
  const csv = generated.data.files.filter((f) => f.name.endsWith('.csv'));
  expect(csv.length).toBeGreaterThan(0);
  return csv.map((f) => readFileSync(f.path, 'utf8')).join('\n');
}
