import { describe, expect, it } from 'vitest';
import { createMemorySecretStore } from '../../core/adapters/keytar-secrets';
import { silentLogger } from '../../core/adapters/logger';
import { commands } from '../../core/contract';
import { shippedMappingsDir } from '../../core/mappings/load';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { bootHostedCore } from './boot';

// The handler map the desktop's core process serves is the contract: one handler per command, nothing more.
describe('the desktop core’s handler map', () => {
  it('has a handler for every contract command and nothing else', async () => {
    const temp = makeTempDir('rw-handlers-');
    const hosted = await bootHostedCore(
      { dataDir: temp.dir, migrationsDir: sourceMigrationsDir, mappingsDir: shippedMappingsDir, appVersion: '0.0.0-test' },
      { secrets: createMemorySecretStore(), log: silentLogger, workbench: { autoStart: false, sandbox: { webhooks: false, caughtUpDays: 0 } } },
    );
    try {
      expect(Object.keys(hosted.workbench.core.handlers).sort()).toEqual(Object.keys(commands).sort());
    } finally {
      await hosted.shutdown(5_000);
      temp.remove();
    }
  });
});
