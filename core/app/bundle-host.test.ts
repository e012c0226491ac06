import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCore } from '../../test/support/core';
import { octoberExpected, seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { silentLogger } from '../adapters/logger';
import { openBundle } from '../report/bundle';
import { createBundleHandlers } from './bundle-host';
import type { Core } from './create-core';
import { createDispatch } from './dispatch';

// The read-only handler map an evidence bundle is served with, through the same dispatch as the UI.

describe('bundle viewer', () => {
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
      // The search index is rebuilt on the viewer's copy: a partial, lower-case order id finds its return there too.
      const found = await dispatch('returns.list', { filter: { search: 'c-o-2' } });
      expect(found.ok && (found.data as { rows: { returnId: string }[] }).rows.map((r) => r.returnId)).toEqual(['R-2']);
      expect(await dispatch('exceptions.list', {})).toMatchObject({ ok: true });
      expect(await dispatch('dashboard.kpis', {})).toMatchObject({ ok: true });
      expect(await dispatch('audit.verify', {})).toMatchObject({ ok: true, data: { ok: true } });
      expect(await dispatch('returns.explain', { returnId: 'R-1' })).toMatchObject({ ok: true, data: { returnId: 'R-1' } });
      // The outgoing calls and the matcher's suggestions as they stood (issue 24); a bundle never writes, so no freeze.
      expect(await dispatch('outgoing.list', { filter: { states: ['uncertain'] } })).toMatchObject({ ok: true, data: { offset: 0 } });
      expect(await dispatch('matches.suggestions', {})).toMatchObject({ ok: true, data: { offset: 0 } });
      // No action is offered on a bundle (issue 24): the UI shows none, rather than buttons that are then refused.
      const exceptions = await dispatch('exceptions.list', {});
      const ids = exceptions.ok ? (exceptions.data as { rows: { id: number }[] }).rows.map((r) => r.id) : [];
      expect(ids.length).toBeGreaterThan(0);
      const offered = await dispatch('exceptions.actions', { ids });
      expect(offered).toMatchObject({ ok: true, data: { readOnly: expect.stringContaining('read-only') } });
      const all = offered.ok ? (offered.data as { exceptions: { actions: { isAllowed: boolean }[] }[] }).exceptions.flatMap((e) => e.actions) : [];
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((a) => !a.isAllowed)).toBe(true);
      const guard = await dispatch('refunds.explainGuard', { returnId: 'R-1', orderLineId: 'L-1' });
      expect(guard.ok && (guard.data as { actions: { isAllowed: boolean }[] }).actions.map((a) => a.isAllowed)).toEqual([false, false]);
      for (const [command, input] of [
        ['reports.lock', { period: '2026-10' }],
        ['exceptions.resolve', { ids: [1], reason: 'looks fine' }],
        ['sync.runNow', {}],
        ['writes.freeze', { reason: 'month-end' }],
      ] as const) {
        expect(await dispatch(command, input)).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('read-only') } });
      }
    } finally {
      close();
    }
  });
});
