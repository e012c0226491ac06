import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { createMemorySecretStore } from '../adapters/keytar-secrets';
import { silentLogger } from '../adapters/logger';
import type { Command, Output, Result } from '../contract';
import { createExceptionStore } from '../ledger/exceptions';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { bootCore, type Core } from './create-core';

// What holds refunds and stock updates back by itself (FOREIGN_WRITE until a person acknowledges it, RESTORED_DATABASE
// until Mirakl was read again) is part of the writes status every page's banner reads, with the exception to open.

describe('writes.status while the engine holds refunds and stock back', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  const clock = createFakeClock(Date.UTC(2026, 10, 1));
  const call = <K extends Command>(command: K, input: unknown) => core.dispatch(command, input) as Promise<Result<Output<K>>>;

  beforeEach(async () => {
    temp = makeTempDir();
    core = await bootCore({
      dataDir: temp.dir,
      migrationsDir: sourceMigrationsDir,
      clock,
      ids: { uuid: () => 'id' },
      log: silentLogger,
      secrets: createMemorySecretStore(),
      actor: 'tester',
      appVersion: '0.0.0-test',
    });
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('names each open FOREIGN_WRITE with its title, and nothing once a person has acknowledged it', async () => {
    expect(await call('writes.status', {})).toMatchObject({ ok: true, data: { frozen: null, paused: [] } });
    const exceptions = createExceptionStore(core.store.db, clock);
    exceptions.raise({ type: 'FOREIGN_WRITE', subjectKey: 'refund:R-1', cause: 'Mirakl shows refund R-1 of 30.50 on line L-1 that this app did not send.' });
    const paused = await call('writes.status', {});
    expect(paused).toMatchObject({ ok: true, data: { frozen: null, paused: [{ type: 'FOREIGN_WRITE', title: expect.stringMatching(/refunds and stock paused/) }] } });
    const id = paused.ok ? (paused.data.paused[0]?.exceptionId as number) : -1;
    const acted = await call('exceptions.act', { ids: [id], action: 'acknowledge', reason: 'goodwill refund agreed by customer service' });
    expect(acted).toMatchObject({ ok: true, data: { results: [{ ok: true }] } });
    expect(await call('writes.status', {})).toMatchObject({ ok: true, data: { paused: [] } });
  });
});
