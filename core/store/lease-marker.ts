import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The engine lease's figures kept beside the database (issue 25, quarantine after restore): which database this
// folder's engine last ran on, the epoch it took and how many calls had been claimed on it. A database restored from
// a backup carries older figures than this file; one copied in from elsewhere carries another id. The file is written
// after the database has committed the figures, and before the call they count goes out: a crash in between leaves
// the database ahead of the file, which reads as no restore. Written to a temporary file and renamed, so a reader
// never sees half of it.

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
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      try {
        const parsed = JSON.parse(text) as Partial<LeaseMarkerFigures>;
        if (typeof parsed.databaseId !== 'string' || !Number.isInteger(parsed.epoch) || !Number.isInteger(parsed.claims)) return 'unreadable';
        return { databaseId: parsed.databaseId, epoch: parsed.epoch as number, claims: parsed.claims as number };
      } catch {
        return 'unreadable';
      }
    },
    write(figures) {
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(figures) + '\n');
      renameSync(temporary, file);
    },
  };
}
