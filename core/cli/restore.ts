import { pathToFileURL } from 'node:url';
import { systemClock } from '../adapters/system';
import { RestoreError, restoreBackup } from '../store/backups';
import { parseFlags, UsageError } from './args';
import { defaultDataDir } from './paths';
import { reportFatal } from './web';

const usage = `Usage: npm run restore -- --from FILE [--data-dir DIR]
  Puts a backup (DIR/backups/workbench-*.sqlite, or a copy of one) in place of the data folder's database, with the
  server or app stopped. The database it replaces is kept as DIR/backups/replaced-<time>.sqlite.
  At its next start the engine sees a database older than its folder's record and starts quarantined: no refund and no
  stock import goes out until Mirakl's refunds and stock have been read again (a RESTORED_DATABASE exception says so).
  --from FILE     the backup to restore
  --data-dir DIR  the data folder (default: ${defaultDataDir()})`;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { from: 'string', 'data-dir': 'string' }, usage);
  if (!flags.from) throw new UsageError(`--from is required.\n${usage}`);
  const dataDir = flags['data-dir'] ?? defaultDataDir();
  try {
    const { replaced } = await restoreBackup({ dataDir, from: flags.from, clock: systemClock });
    process.stdout.write(
      `Restored ${flags.from} into ${dataDir}.\n${replaced ? `The database it replaced is kept as ${replaced}.\n` : ''}` +
        'At the next start refunds and stock updates stay paused until Mirakl has been read again (RESTORED_DATABASE).\n',
    );
  } catch (error) {
    if (error instanceof RestoreError) throw new UsageError(error.message);
    throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(reportFatal);
}
