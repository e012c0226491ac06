import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'electron/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/chaos/**/*.test.ts', 'test/bench/**/*.test.ts'],
    environment: 'node',
    // A per-user state folder of each test file's own (RW_STATE_DIR), never the machine's real one.
    setupFiles: ['test/support/state-dir-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
