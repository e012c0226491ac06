import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../core/adapters/fake-clock';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import type { Logger } from '../../core/ports';
import { startWorkbench, type Workbench, type WorkbenchOptions } from '../../core/app/workbench';
import type { Command, Input, Output } from '../../core/contract';
import { defaultScenario, startSandbox, type Sandbox, type Scenario } from '../../core/sandbox/index';
import { createRng } from '../../core/sandbox/rng';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../support/temp-dir';

// The workbench as the hosts run it: the core plus its sync service. In Sandbox mode it carries returns through
// every stage against its own simulated systems; a saved reason mapping resolves the exception it was raised for;
// in live mode, configured through Settings and the keychain only, it does exactly the same against a standalone
// sandbox — same world, same outcome — and no secret reaches a file.

const hour = 3_600_000;
const seed = 5;
/** A smaller world than the default so the test runs in seconds; 5% unmapped reasons so one is certain. */
const scenario: Partial<Scenario> = { ordersPerDay: 120, historyDays: 6, returnAfterDays: [1, 6], unmappedReasonRate: 0.05 };
const stepSandboxMs = 5 * hour;
const steps = 24;
const sandboxStart = defaultScenario.startMs + 60_000;

interface Captured extends Logger {
  lines: string[];
}

function capturingLogger(): Captured {
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

function options(dataDir: string, clock: FakeClock, log: Logger, secrets = createMemorySecretStore()): WorkbenchOptions {
  const random = createRng(seed).fork('engine');
  return {
    dataDir,
    migrationsDir: sourceMigrationsDir,
    clock,
    random: { next: () => random.float() },
    ids: { uuid: () => 'id' },
    log,
    secrets,
    actor: 'tester',
    appVersion: '0.0.0-test',
    // One sandbox hour per real second throughout, no timers, no notifications: cycles are driven by the test.
    sandbox: { seed, faults: 'none', tickMs: 0, webhooks: false, speed: 3600, warmupSeconds: 0, caughtUpDays: 0, scenario },
    autoStart: false,
  };
}

async function call<K extends Command>(wb: Workbench, command: K, input: Input<K>): Promise<Output<K>> {
  const result = await wb.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  return result.data as Output<K>;
}

function summary(wb: Workbench) {
  const db = wb.core.store.db;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    returns: count('SELECT count(*) AS n FROM mirakl_returns'),
    inReBound: count('SELECT count(*) AS n FROM rebound_return_orders'),
    received: count(`SELECT count(DISTINCT return_id) AS n FROM units WHERE stage IN ('registered', 'graded')`),
    refunded: count(`SELECT count(*) AS n FROM mirakl_refunds WHERE refund_state = 'REFUNDED'`),
    restocked: count(`SELECT count(*) AS n FROM stock_increments WHERE state = 'applied'`),
    closed: count(`SELECT count(*) AS n FROM mirakl_returns WHERE state = 'CLOSED'`),
    openExceptions: db.prepare(`SELECT type, count(*) AS n FROM exceptions WHERE state != 'resolved' GROUP BY type ORDER BY type`).all(),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('workbench: core + sync service', () => {
  let temp: ReturnType<typeof makeTempDir>;
  /** The Sandbox-mode run both tests start from, and what it reached before anyone touched it. */
  let sandboxMode: Workbench;
  let expected: ReturnType<typeof summary>;
  let wb: Workbench | null = null;
  let standalone: Sandbox | null = null;

  beforeAll(async () => {
    temp = makeTempDir();
    // Sandbox mode: each step moves the real clock under it one second (one sandbox hour at 3600x, times 3), the
    // simulated world catches up, and the sync service runs one cycle.
    const clock = createFakeClock(0);
    sandboxMode = await startWorkbench(options(join(temp.dir, 'sandbox-run'), clock, capturingLogger()));
    for (let i = 0; i < steps; i++) {
      clock.advance(stepSandboxMs / 3600);
      sandboxMode.sandbox?.advance();
      await sandboxMode.sync?.runCycle();
    }
    expected = summary(sandboxMode);
  }, 120_000);
  afterAll(async () => {
    await sandboxMode.close();
    temp.remove();
  });
  afterEach(async () => {
    await wb?.close();
    await standalone?.close();
    wb = null;
    standalone = null;
  });

  it('Sandbox mode: returns flow through every stage, and a saved reason mapping resolves UNMAPPED_REASON', async () => {
    const workbench = sandboxMode;
    expect(workbench.mode).toBe('sandbox');
    const info = await call(workbench, 'app.info', {});
    expect(info.databaseFile).toBe(join(temp.dir, 'sandbox-run', 'sandbox', String(process.pid), 'workbench.sqlite'));

    const s = expected;
    expect(s.inReBound).toBeGreaterThan(0);
    expect(s.received).toBeGreaterThan(0);
    expect(s.refunded).toBeGreaterThan(0);
    expect(s.restocked).toBeGreaterThan(0);

    const status = await call(workbench, 'sync.status', {});
    expect(status).toMatchObject({ state: 'stopped', mode: 'sandbox', cycles: steps, lastError: null });
    expect(status.feeds.map((f) => f.feed)).toContain('mirakl.returns');
    expect(status.feeds.every((f) => f.apiErrors === 0 && f.rateLimitWaits === 0 && f.lastSuccessAt !== null)).toBe(true);

    // The queue holds an UNMAPPED_REASON for the sandbox's reason code the shipped mapping leaves out.
    const unmapped = await call(workbench, 'exceptions.list', { filter: { type: 'UNMAPPED_REASON' } });
    expect(unmapped.rows.length).toBeGreaterThan(0);
    expect(unmapped.rows[0]?.cause).toContain('RETURN_DAMAGED_PACKAGING');
    const waiting = unmapped.rows.map((r) => r.returnId as string);

    const current = await call(workbench, 'mappings.get', {});
    expect(current.files.reasonCodes.source).toBe('shipped');
    const edited = `${current.files.reasonCodes.text.trimEnd()}\n  - mirakl: RETURN_DAMAGED_PACKAGING\n    rebound: Damaged packaging\n    refund: "12"\n`;

    const preview = await call(workbench, 'mappings.preview', { file: 'reasonCodes', text: edited });
    expect(preview.ok).toBe(true);
    if (preview.ok) {
      expect(preview.affected[0]).toMatchObject({ description: expect.stringContaining('resolves') as string, count: waiting.length });
      // Which returns it lets through, by order number (issue 24).
      expect(preview.affected[0]?.returns?.total).toBe(new Set(unmapped.rows.map((r) => r.returnId)).size);
    }

    // The windows are told what changed by the writes themselves, once per command (issue 20).
    const announced: string[][] = [];
    const stopListening = workbench.events.on('data.changed', ({ tables }) => void announced.push(tables));
    const saved = await call(workbench, 'mappings.save', { file: 'reasonCodes', text: edited, reason: 'map damaged packaging', baseVersion: current.files.reasonCodes.version });
    expect(announced).toHaveLength(1);
    expect(announced[0]).toEqual(expect.arrayContaining(['audit_log', 'exceptions']));
    expect(saved.resolvedExceptions).toBeGreaterThanOrEqual(waiting.length);
    expect((await call(workbench, 'exceptions.list', { filter: { type: 'UNMAPPED_REASON' } })).rows).toEqual([]);
    const after = await call(workbench, 'mappings.get', {});
    expect(after.files.reasonCodes).toMatchObject({ source: 'edited', version: saved.version, text: edited });
    expect(readFileSync(join(temp.dir, 'sandbox-run', 'sandbox', String(process.pid), 'mappings', 'reason-codes.yaml'), 'utf8')).toBe(edited);

    const audit = await call(workbench, 'audit.list', { offset: 0, limit: 10, subject: 'mapping:reasonCodes' });
    expect(audit.total).toBe(1);
    expect(audit.rows[0]).toMatchObject({ actor: 'tester', action: 'mappings.save', reason: 'map damaged packaging' });
    expect(audit.rows[0]?.after).toMatchObject({ version: saved.version });

    // The next cycle carries the held returns on to ReBound, and says so; a cycle with nothing due says nothing.
    announced.length = 0;
    await workbench.sync?.runCycle();
    expect(announced.flat()).toEqual(expect.arrayContaining(['return_intake', 'rebound_return_orders']));
    // With the clock standing still, the work runs out; a cycle whose feeds then ran and found nothing says nothing.
    let quiet: { ran: string[] } | undefined;
    for (let i = 0; i < 6 && !quiet; i++) {
      announced.length = 0;
      workbench.sync?.runNow();
      const report = await workbench.sync?.runCycle();
      await new Promise((resolve) => setImmediate(resolve));
      if (announced.length === 0) quiet = report;
    }
    expect(quiet?.ran.length).toBeGreaterThan(0);
    stopListening();
    const stages = workbench.core.store.db
      .prepare(`SELECT stage FROM return_intake WHERE return_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(waiting)) as { stage: string }[];
    expect(stages.length).toBe(waiting.length);
    expect(stages.every((r) => r.stage !== 'blocked')).toBe(true);
  }, 120_000);

  it('the mapping editor refuses a refund reason Mirakl does not have (RE01), in the preview and at the save (issue 24)', async () => {
    const current = await call(sandboxMode, 'mappings.get', {});
    // The shipped file's first refund reason "12" is row 7 (reasons[6]); "twelve" is no RE01 reason of type REFUND.
    const text = current.files.reasonCodes.text.replace('refund: "12"', 'refund: "twelve"');
    expect(text).not.toBe(current.files.reasonCodes.text);
    const preview = await call(sandboxMode, 'mappings.preview', { file: 'reasonCodes', text });
    expect(preview).toMatchObject({ ok: false, problems: [{ path: 'reasons[6].refund', row: 7, message: expect.stringContaining('twelve') as string }] });
    const saved = await sandboxMode.dispatch('mappings.save', { file: 'reasonCodes', text, reason: 'typo', baseVersion: current.files.reasonCodes.version });
    expect(saved).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect((await call(sandboxMode, 'mappings.get', {})).files.reasonCodes.version).toBe(current.files.reasonCodes.version);
  });

  it('live mode against a standalone sandbox runs the same flow as Sandbox mode, and no secret reaches a file', async () => {
    // A standalone sandbox, as `npm run sandbox` starts it: the app knows only its addresses and credentials.
    const clock = createFakeClock(sandboxStart);
    standalone = await startSandbox({ seed, clock, scenario: { ...defaultScenario, ...scenario } });
    const secrets = createMemorySecretStore();
    const log = capturingLogger();
    const dataDir = join(temp.dir, 'live-run');
    const workbench = await startWorkbench(options(dataDir, clock, log, secrets));
    wb = workbench;
    expect(workbench.mode).toBe('sandbox');

    const saved = await call(workbench, 'settings.saveConnections', {
      mirakl: { baseUrl: standalone.mirakl.baseUrl, shopId: standalone.mirakl.shopId },
      rebound: { baseUrl: `${standalone.rebound.baseUrl}/`, clientId: standalone.rebound.clientId },
      secrets: { miraklApiKey: standalone.mirakl.apiKey, reboundClientSecret: standalone.rebound.clientSecret },
    });
    expect(saved).toMatchObject({ mode: 'live', restarted: true, settings: { mode: 'live', secrets: { miraklApiKey: true, reboundClientSecret: true } } });
    expect(saved.settings.connections.rebound.baseUrl).toBe(standalone.rebound.baseUrl);
    expect(JSON.stringify(saved)).not.toContain(standalone.mirakl.apiKey);
    expect(JSON.stringify(await call(workbench, 'settings.get', {}))).not.toContain(standalone.rebound.clientSecret);
    expect(await secrets.get('mirakl.apiKey')).toBe(standalone.mirakl.apiKey);
    expect(workbench.mode).toBe('live');
    expect((await call(workbench, 'app.info', {})).databaseFile).toBe(join(dataDir, 'workbench.sqlite'));

    expect(await call(workbench, 'settings.testConnection', { system: 'mirakl' })).toMatchObject({ ok: true, status: 200 });
    expect(await call(workbench, 'settings.testConnection', { system: 'rebound' })).toMatchObject({ ok: true, status: 200 });
    expect(await call(workbench, 'settings.testConnection', { system: 'mirakl', apiKey: 'wrong-key' })).toMatchObject({ ok: false, status: 401 });

    for (let i = 0; i < steps; i++) {
      clock.advance(stepSandboxMs);
      standalone.advance();
      await workbench.sync?.runCycle();
    }
    const live = summary(workbench);
    expect(live.refunded).toBeGreaterThan(0);
    expect(live.restocked).toBeGreaterThan(0);
    // Same seed, same world, same steps: live mode reaches exactly what Sandbox mode reached.
    expect(live).toEqual(expected);

    await workbench.close();
    wb = null;
    const secretsText = [standalone.mirakl.apiKey, standalone.rebound.clientSecret];
    for (const file of filesUnder(dataDir)) {
      const bytes = readFileSync(file);
      for (const secret of secretsText) expect(bytes.includes(Buffer.from(secret)), `${secret} found in ${file}`).toBe(false);
    }
    for (const secret of secretsText) expect(log.lines.join('\n')).not.toContain(secret);
  }, 180_000);
});
