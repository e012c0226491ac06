import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, sep } from 'node:path';
import { AppError } from '../errors';
import { parsePeriod } from './period';

// Where the app's exports go, and which files it hands out again (a browser download, the desktop's "Show in folder").
// Evidence is never overwritten: every export of a month gets a folder of its own under
// `<data folder>/reports/<YYYY-MM>/`, named by when it was made and whether the month was locked then, so files made
// before a lock stay beside the ones made after it, each saying what it is. Only regular files inside the reports
// folder are ever handed out: no path outside it, through `..` or a link, resolves.

export interface ExportedFile {
  name: string;
  path: string;
  bytes: number;
}

export function reportsRoot(dataDir: string): string {
  return join(dataDir, 'reports');
}

/**
 * A new folder name for an export of `periodId` made at `atMs`: `2026-10-01T00-01-00Z-locked` (or `-not-locked`);
 * `-2`, `-3`… when an export of the same second is already there. The folder is not created.
 */
export function newExportFolder(dataDir: string, periodId: string, atMs: number, isLocked: boolean): string {
  const period = parsePeriod(periodId);
  const stamp = new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
  const base = join(reportsRoot(dataDir), period.id, `${stamp}-${isLocked ? 'locked' : 'not-locked'}`);
  let folder = base;
  for (let n = 2; existsSync(folder); n++) folder = `${base}-${n}`;
  return folder;
}

/** How many earlier exports of the month are kept beside `folder` (its sibling export folders). */
export function earlierExports(folder: string): number {
  const parent = join(folder, '..');
  if (!existsSync(parent)) return 0;
  return readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && join(parent, e.name) !== folder).length;
}

/**
 * The exported file at `path`, if it is a regular file inside the data folder's reports folder (after resolving links);
 * NOT_FOUND names why not. The staging folders of an export still being written are not handed out.
 */
export function findExportedFile(dataDir: string, path: string): ExportedFile {
  if (!isAbsolute(path)) throw new AppError('VALIDATION', `"${path}" is not an absolute path to an exported file.`);
  const refuse = (why: string) => new AppError('NOT_FOUND', `${path}: ${why}`);
  let root: string;
  let real: string;
  try {
    root = realpathSync(reportsRoot(dataDir));
  } catch {
    throw refuse('nothing has been exported yet (there is no reports folder).');
  }
  try {
    real = realpathSync(path);
  } catch {
    throw refuse('there is no such file.');
  }
  if (!real.startsWith(root + sep)) throw refuse(`only files in the app's reports folder (${reportsRoot(dataDir)}) are handed out.`);
  if (real.slice(root.length + 1).split(sep).some((part) => part.startsWith('.'))) throw refuse('that file is still being written.');
  const stat = statSync(real);
  if (!stat.isFile()) throw refuse('it is not a file.');
  return { name: basename(real), path: real, bytes: stat.size };
}
