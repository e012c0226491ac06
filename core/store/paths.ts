import { fileURLToPath } from 'node:url';

// Where the shipped migrations are when core runs from source (CLI, tests). Electron passes its own path.
export const sourceMigrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));
