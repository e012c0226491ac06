import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { silentLogger } from '../../core/adapters/logger';
import { bootCore } from '../../core/app/create-core';
import { sourceMigrationsDir } from '../../core/store/paths';

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
