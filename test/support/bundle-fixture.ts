import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeClock } from '../../core/adapters/fake-clock';
import { createAuditLog } from '../../core/audit/log';
import { loadMappings, shippedMappingsDir } from '../../core/mappings/load';
import { createReports } from '../../core/report/service';
import { openStore } from '../../core/store/db';
import { sourceMigrationsDir } from '../../core/store/paths';
import { seedOctober } from './report-fixture';

/** A real October 2026 evidence bundle, written into `dir` the way the app writes one; returns its file and bytes. */
export async function makeOctoberBundle(dir: string): Promise<{ file: string; bytes: Uint8Array<ArrayBuffer> }> {
  const clock = createFakeClock(Date.UTC(2026, 10, 3, 9));
  const store = openStore({ dataDir: join(dir, 'live'), migrationsDir: sourceMigrationsDir, clock });
  try {
    seedOctober(store.db);
    const audit = createAuditLog(store.db, clock);
    audit.append({ actor: 'cs.lead', action: 'exception.assign', subject: 'exception:1', after: { assignee: 'amy' } });
    const mappings = loadMappings(shippedMappingsDir);
    const reports = createReports({ db: store.db, clock, audit, mappings: () => mappings, actor: () => 'finance.lead', appVersion: 'test', mode: 'sandbox' });
    const generated = await reports.generateFiles('2026-10', join(dir, 'out'), { bundle: true });
    const file = generated.bundle?.path ?? '';
    return { file, bytes: new Uint8Array(readFileSync(file)) };
  } finally {
    store.close();
  }
}
