import { afterAll } from 'vitest';
import { makeTempDir } from './temp-dir';

// Every test file gets a per-user state folder of its own (RW_STATE_DIR, core/app/state-dir.ts), so no test — nor a
// CLI a test starts, which inherits the environment — ever reads or writes this machine's real one, and parallel test
// files never share one.
const stateDir = makeTempDir('rw-state-');
process.env.RW_STATE_DIR = stateDir.dir;
afterAll(() => stateDir.remove());
