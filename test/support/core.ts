import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { createFakeClock, type FakeClock } from '../../core/adapters/fake-clock';
import { silentLogger } from '../../core/adapters/logger';
import { bootCore, type Core } from '../../core/app/create-core';
import { sourceMigrationsDir } from '../../core/store/paths';
import { createReconFixture, type ReconFixture } from './recon-fixture';
import { makeTempDir } from './temp-dir';

type TempDir = ReturnType<typeof makeTempDir>;

let counter = 0;

/** A core on a temp data dir with a fake clock and an in-memory secret store: one line in a test. */
export async function makeTestCore(dataDir: string) {
  const clock = createFakeClock(Date.UTC(2026, 10, 1, 9, 0, 0));
  const core = await bootCore({
    dataDir,
    migrationsDir: sourceMigrationsDir,
    clock,
    ids: { uuid: () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}` },
    log: silentLogger,
    secrets: createMemorySecretStore(),
    actor: 'tester',
    appVersion: '0.0.0-test',
  });
  return { core, clock };
}

/** A test core with what tests read it through; its fields are those of the test running (see corePerTest). */
export interface TestCore {
  temp: TempDir;
  core: Core;
  clock: FakeClock;
  fixture: ReconFixture;
  /** The core's database, for arranging rows and reading them back. */
  db(): Database;
  /** A command through the contract that must succeed: its data, or a throw naming the command and the error. */
  ok<T = Record<string, unknown>>(command: string, input: unknown): Promise<T>;
}

/**
 * A fresh core per test on a folder of its own, with a recon fixture over its database; closed and the folder removed
 * after the test (registers the beforeEach and afterEach). Read the fields inside a test or a hook, never at collection.
 */
export function corePerTest(): TestCore {
  const app: TestCore = {
    db: () => app.core.store.db,
    async ok<T = Record<string, unknown>>(command: string, input: unknown): Promise<T> {
      const result = await app.core.dispatch(command, input);
      if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
      return result.data as T;
    },
  } as Pick<TestCore, 'db' | 'ok'> as TestCore;
  beforeEach(async () => {
    app.temp = makeTempDir();
    ({ core: app.core, clock: app.clock } = await makeTestCore(app.temp.dir));
    app.fixture = createReconFixture(app.db(), app.clock);
  });
  afterEach(() => {
    app.core.close();
    app.temp.remove();
  });
  return app;
}
