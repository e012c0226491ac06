import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../../core/app/create-core';
import { shippedMappingsDir } from '../../core/mappings/load';
import { sourceMigrationsDir } from '../../core/store/paths';
import { makeTestCore } from '../../test/support/core';
import { octoberExpected, seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { bootCore } from './boot';

// The desktop app opens an evidence bundle (File › Open Evidence Bundle…) by rebooting its core process with the
// bundle in the boot config: the core then answers the window from the bundle, read-only, as `npm run web --
// --bundle` does, and leaves nothing behind when it stops.

describe('the core process showing an evidence bundle', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let bundleFile: string;

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core } = await makeTestCore(join(temp.dir, 'source')));
    seedOctober(core.store.db);
    const generated = await core.dispatch('reports.generate', { period: '2026-10', bundle: true });
    if (!generated.ok) throw new Error(generated.error.message);
    bundleFile = (generated.data as { bundle: { path: string } }).bundle.path;
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('boots on the bundle from the boot config, serves it read-only without touching the app’s own data', async () => {
    const dataDir = join(temp.dir, 'desktop');
    const viewer = await bootCore({
      dataDir,
      migrationsDir: sourceMigrationsDir,
      mappingsDir: shippedMappingsDir,
      appVersion: 'test',
      bundleFile,
    });
    expect(await viewer.dispatch('app.info', {})).toMatchObject({ ok: true, data: { bundle: { file: bundleFile, period: '2026-10', verified: true, problems: [] } } });
    expect(await viewer.dispatch('reports.get', { period: '2026-10' })).toMatchObject({ ok: true, data: { returns: octoberExpected.returns } });
    expect(await viewer.dispatch('sync.runNow', {})).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringContaining('read-only') } });
    // Nothing of the app's own data was touched: no database was created in the desktop data folder.
    expect(existsSync(join(dataDir, 'workbench.sqlite'))).toBe(false);
    expect(await viewer.shutdown(1_000)).toEqual({ isDrained: true, interrupted: 0 });
  });

  it('says plainly when the file is not an evidence bundle, instead of failing to start', async () => {
    const viewer = await bootCore({
      dataDir: join(temp.dir, 'desktop'),
      migrationsDir: sourceMigrationsDir,
      mappingsDir: shippedMappingsDir,
      appVersion: 'test',
      bundleFile: join(temp.dir, 'source', 'workbench.sqlite'),
    });
    expect(await viewer.dispatch('app.info', {})).toMatchObject({ ok: true, data: { bundle: { verified: false, problems: [{ kind: 'unreadable' }] } } });
    await viewer.shutdown(1_000);
  });
});
