import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCore } from '../../test/support/core';
import { octoberExpected, seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import type { Core } from '../app/create-core';

// reports.* through the same dispatch as the UI (inputs and outputs validated by the contract). The read-only handler
// map an evidence bundle is served with is tested beside it, in core/app/bundle-host.test.ts.

describe('reports commands', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core } = await makeTestCore(temp.dir));
    seedOctober(core.store.db);
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('lists months, gets a report, writes its files and bundle, and locks once', async () => {
    const list = await core.dispatch('reports.list', {});
    expect(list).toMatchObject({ ok: true, data: { periods: expect.arrayContaining([expect.objectContaining({ period: '2026-10', returnsOpened: 3, lock: null, isComplete: true })]) } });

    const got = await core.dispatch('reports.get', { period: '2026-10' });
    expect(got).toMatchObject({ ok: true, data: { period: '2026-10', status: 'live', returns: octoberExpected.returns, money: octoberExpected.money } });

    const generated = await core.dispatch('reports.generate', { period: '2026-10', bundle: true });
    if (!generated.ok) throw new Error(generated.error.message);
    const data = generated.data as { outDir: string; files: { path: string }[]; bundle: { path: string } | null };
    expect(data.outDir).toBe(join(temp.dir, 'reports', '2026-10'));
    expect(data.files.every((f) => existsSync(f.path))).toBe(true);
    expect(data.bundle && existsSync(data.bundle.path)).toBe(true);

    const locked = await core.dispatch('reports.lock', { period: '2026-10', reason: 'October close' });
    expect(locked).toMatchObject({ ok: true, data: { period: '2026-10', lockedBy: 'tester' } });
    expect(await core.dispatch('reports.lock', { period: '2026-10' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await core.dispatch('reports.lock', { period: '2026-11' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('has not ended') } });
    expect(await core.dispatch('reports.get', { period: '2026-10' })).toMatchObject({ ok: true, data: { status: 'locked', lock: { reason: 'October close', isIntact: true } } });
  });

  it('names the field of a bad period', async () => {
    expect(await core.dispatch('reports.get', { period: '10/2026' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringContaining('period: expected a month as YYYY-MM') },
    });
  });
});
