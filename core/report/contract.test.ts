import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCore } from '../../test/support/core';
import { octoberExpected, seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import type { Core } from '../app/create-core';
import { createBundleHandlers } from './bundle-host';
import { openBundle } from './bundle';
import { createDispatch } from '../app/dispatch';
import { silentLogger } from '../adapters/logger';

// reports.* through the same dispatch as the UI (inputs and outputs validated by the contract), and the read-only
// handler map an evidence bundle is served with.

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

  it('serves a bundle read-only: its report and data, app.info with the bundle, every change refused', async () => {
    const generated = await core.dispatch('reports.generate', { period: '2026-10', bundle: true });
    if (!generated.ok) throw new Error(generated.error.message);
    const opened = openBundle((generated.data as { bundle: { path: string } }).bundle.path, { extractTo: join(temp.dir, 'viewer') });
    const { handlers, close } = createBundleHandlers(opened, { clock: { now: () => Date.UTC(2026, 11, 1) }, log: silentLogger, appVersion: 'test' });
    const dispatch = createDispatch(handlers, silentLogger);
    try {
      expect(await dispatch('app.info', {})).toMatchObject({ ok: true, data: { bundle: { period: '2026-10', verified: true, problems: [] } } });
      expect(await dispatch('reports.get', { period: '2026-10' })).toMatchObject({ ok: true, data: { returns: octoberExpected.returns } });
      expect(await dispatch('reports.get', { period: '2026-09' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      const returns = await dispatch('returns.list', {});
      expect(returns.ok && (returns.data as { rows: { returnId: string }[] }).rows.map((r) => r.returnId).sort()).toEqual(['R-1', 'R-2', 'R-3', 'R-4']);
      expect(await dispatch('exceptions.list', {})).toMatchObject({ ok: true });
      expect(await dispatch('dashboard.kpis', {})).toMatchObject({ ok: true });
      expect(await dispatch('audit.verify', {})).toMatchObject({ ok: true, data: { ok: true } });
      expect(await dispatch('returns.explain', { returnId: 'R-1' })).toMatchObject({ ok: true, data: { returnId: 'R-1' } });
      for (const [command, input] of [
        ['reports.lock', { period: '2026-10' }],
        ['exceptions.resolve', { ids: [1], reason: 'looks fine' }],
        ['sync.runNow', {}],
      ] as const) {
        expect(await dispatch(command, input)).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('read-only') } });
      }
    } finally {
      close();
    }
  });
});
