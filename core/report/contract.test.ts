import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCore } from '../../test/support/core';
import { octoberExpected, seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import type { Core } from '../app/create-core';
import type { Output } from '../contract';

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
    const data = generated.data as Output<'reports.generate'>;
    const stamp = data.exportedAt.replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
    expect(data.outDir).toBe(join(temp.dir, 'reports', '2026-10', `${stamp}-not-locked`));
    expect(data.earlierExports).toBe(0);
    expect(data.files.every((f) => existsSync(f.path))).toBe(true);
    expect(data.bundle && existsSync(data.bundle.path)).toBe(true);
    const bundleBytes = readFileSync(data.bundle?.path ?? '');
    expect(await core.dispatch('reports.file', { path: data.bundle?.path ?? '' })).toEqual({
      ok: true,
      data: { name: 'returns-evidence-2026-10.zip', path: data.bundle?.path, bytes: bundleBytes.byteLength },
    });

    const locked = await core.dispatch('reports.lock', { period: '2026-10', reason: 'October close' });
    expect(locked).toMatchObject({ ok: true, data: { period: '2026-10', lockedBy: 'tester' } });

    // Exported again once locked: a folder of its own, the files made before the lock kept as they were.
    const again = await core.dispatch('reports.generate', { period: '2026-10', bundle: true });
    if (!again.ok) throw new Error(again.error.message);
    const second = again.data as Output<'reports.generate'>;
    expect(second.outDir).toBe(join(temp.dir, 'reports', '2026-10', `${second.exportedAt.replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-')}-locked`));
    expect(second.earlierExports).toBe(1);
    expect(second.report.status).toBe('locked');
    expect(readFileSync(data.bundle?.path ?? '').equals(bundleBytes)).toBe(true);
    expect(readdirSync(join(temp.dir, 'reports', '2026-10')).sort()).toEqual([`${stamp}-not-locked`, basename(second.outDir)].sort());
    // The same second once more: a numbered folder, never the same one.
    const third = await core.dispatch('reports.generate', { period: '2026-10' });
    if (!third.ok) throw new Error(third.error.message);
    expect((third.data as Output<'reports.generate'>).outDir).toBe(`${second.outDir}-2`);
    expect(await core.dispatch('reports.lock', { period: '2026-10' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await core.dispatch('reports.lock', { period: '2026-11' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('has not ended') } });
    expect(await core.dispatch('reports.get', { period: '2026-10' })).toMatchObject({ ok: true, data: { status: 'locked', lock: { reason: 'October close', isIntact: true } } });
  });

  it('reopens a locked month at once in the desktop app (one person), with the reason it requires, audited', async () => {
    expect(await core.dispatch('reports.unlock', { period: '2026-10' })).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('reason') } });
    expect(await core.dispatch('reports.unlock', { period: '2026-10', reason: '' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringContaining('reason: say why the month is reopened') },
    });
    expect(await core.dispatch('reports.unlock', { period: '2026-10', reason: 'typo' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('is not locked') } });
    const locked = await core.dispatch('reports.lock', { period: '2026-10', reason: 'October close' });
    if (!locked.ok) throw new Error(locked.error.message);
    expect(await core.dispatch('reports.unlock', { period: '2026-10', reason: 'Late credit note' })).toMatchObject({
      ok: true,
      data: { period: '2026-10', ended: { lockedBy: 'tester', unlockedBy: 'tester', proposedBy: null, reason: 'Late credit note', reportSha256: (locked.data as Output<'reports.lock'>).reportSha256 } },
    });
    expect(await core.dispatch('reports.get', { period: '2026-10' })).toMatchObject({ ok: true, data: { status: 'live', lock: null } });
    expect(await core.dispatch('audit.list', { limit: 5, subject: 'period:2026-10' })).toMatchObject({
      ok: true,
      data: { rows: [{ action: 'period.unlock', actor: 'tester', reason: 'Late credit note' }, { action: 'period.lock' }] },
    });
  });

  it('names the field of a bad period', async () => {
    expect(await core.dispatch('reports.get', { period: '10/2026' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringContaining('period: expected a month as YYYY-MM') },
    });
  });
});
