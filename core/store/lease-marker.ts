import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The engine lease's figures kept beside the database (issue 25, quarantine after restore): which database this
// folder's engine last ran on, the epoch it took and how many calls had been claimed on it. A database restored from
// a backup carries older figures than this file; one copied in from elsewhere carries another id. The file is written
// after the database has committed the figures, and before the call they count goes out: a crash in between leaves
// the database ahead of the file, which reads as no restore. How it is written: writeFigures.

export const leaseMarkerFileName = 'engine-lease.json';

export interface LeaseMarkerFigures {
  databaseId: string;
  epoch: number;
  claims: number;
}

export interface LeaseMarker {
  /** The figures last written; null when there is no file. A file that cannot be read says so (it names no database). */
  read(): LeaseMarkerFigures | 'unreadable' | null;
  write(figures: LeaseMarkerFigures): void;
}

export function createLeaseMarker(dir: string): LeaseMarker {
  const file = join(dir, leaseMarkerFileName);
  return {
    read() {
      const parsed = readFigures<LeaseMarkerFigures>(file);
      if (parsed === null || parsed === 'unreadable') return parsed;
      if (typeof parsed.databaseId !== 'string' || !Number.isInteger(parsed.epoch) || !Number.isInteger(parsed.claims)) return 'unreadable';
      return { databaseId: parsed.databaseId, epoch: parsed.epoch as number, claims: parsed.claims as number };
    },
    write: (figures) => writeFigures(file, figures),
  };
}

// The same figures kept once more outside the data folder, per database id, in a per-user state folder of this machine
// (issue 25, a whole-folder restore): a backup of the whole data folder puts back the database and its
// engine-lease.json together, which agree with each other, so only a record the restore does not touch shows that this
// database had gone further. Written at the same moments as engine-lease.json. One file per database id, so engines on
// different databases never write the same file; an id this machine has never seen (a first start here, or the first
// since this record was added) says nothing.

export const engineStateFolderName = 'engine-leases';

export interface MachineLeaseFigures extends LeaseMarkerFigures {
  /** The folder of the database the figures were written for. */
  folder: string;
}

export interface MachineLeaseBook {
  /** Where the figures of this database id are kept (for a person to find it), or null for an id that cannot name a file. */
  fileOf(databaseId: string): string | null;
  /** The figures last written for this database id; null when there are none. */
  read(databaseId: string): MachineLeaseFigures | 'unreadable' | null;
  write(figures: MachineLeaseFigures): void;
}

/** Database ids are UUIDs the engine made; anything else (a crafted database) names no file here. */
const fileSafeId = /^[A-Za-z0-9-]{1,64}$/;

export function createMachineLeaseBook(stateDir: string): MachineLeaseBook {
  const folder = join(stateDir, engineStateFolderName);
  const fileOf = (databaseId: string): string | null => (fileSafeId.test(databaseId) ? join(folder, `${databaseId}.json`) : null);
  return {
    fileOf,
    read(databaseId) {
      const file = fileOf(databaseId);
      if (file === null) return null;
      const parsed = readFigures<MachineLeaseFigures>(file);
      if (parsed === null || parsed === 'unreadable') return parsed;
      if (parsed.databaseId !== databaseId || !Number.isInteger(parsed.epoch) || !Number.isInteger(parsed.claims) || typeof parsed.folder !== 'string') return 'unreadable';
      return { databaseId, epoch: parsed.epoch as number, claims: parsed.claims as number, folder: parsed.folder };
    },
    write(figures) {
      const file = fileOf(figures.databaseId);
      if (file === null) return;
      mkdirSync(folder, { recursive: true });
      writeFigures(file, figures);
    },
  };
}

/** A figures file's JSON, unchecked; null when there is no file, 'unreadable' when it is not JSON. */
function readFigures<T>(file: string): Partial<T> | 'unreadable' | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  // One line; what follows it is the tail of a longer record written before (writeFigures).
  const end = text.indexOf('\n');
  try {
    const parsed: unknown = JSON.parse(end === -1 ? text : text.slice(0, end));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<T>) : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * One line of JSON, written over the file that is there, which is read up to the line's end: a shorter record leaves
 * the tail of a longer one after its newline, unread. The figures are written before every call the engine sends, and a
 * new file renamed over the old one each time cost about 0.2 ms a write against 0.03 ms in place (ext4; more where an
 * antivirus looks at every new file). A record is one write of a few hundred bytes, so a reader or a crash finds the old
 * record or the new one; the old one reads as the database being ahead, no restore (above). The first
 * write makes the file from a temporary one, renamed, so no reader ever finds it empty.
 */
function writeFigures(file: string, figures: object): void {
  const line = JSON.stringify(figures) + '\n';
  try {
    writeFileSync(file, line, { flag: 'r+' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, line);
  renameSync(temporary, file);
}
