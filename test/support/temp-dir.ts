import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh data directory per test, removed afterwards (STYLE.md §13). Removal retries: a file a closing store's worker
 * thread still writes (the checkpointer's log) may appear while the folder is being removed (seen under load in CI as
 * ENOTEMPTY).
 */
export function makeTempDir(prefix = 'rw-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}
