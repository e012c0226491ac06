import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { createLeaseMarker, createMachineLeaseBook, engineStateFolderName, leaseMarkerFileName } from './lease-marker';

// The engine lease's figures outside the database (issue 25): written before every call the engine sends, read when an
// engine starts. Written in place after the first time (a new file and a rename for every call cost more than the
// call's own bookkeeping), as one line that is read up to its end.

let temp: ReturnType<typeof makeTempDir>;
afterEach(() => temp?.remove());

const databaseId = '3f1c2b9e-8d4a-4c6f-9b1e-2a7d5c0e4f11';

describe('lease marker', () => {
  it('reads back what was written last, and reads nothing where nothing was written', () => {
    temp = makeTempDir('rw-marker-');
    const marker = createLeaseMarker(temp.dir);
    expect(marker.read()).toBeNull();
    marker.write({ databaseId, epoch: 1, claims: 0 });
    for (let claims = 1; claims <= 120; claims++) marker.write({ databaseId, epoch: 1, claims });
    expect(marker.read()).toEqual({ databaseId, epoch: 1, claims: 120 });
  });

  it('after the first write, writes into the same file: no new file and no rename per call, and no temporary file left', () => {
    temp = makeTempDir('rw-marker-');
    const marker = createLeaseMarker(temp.dir);
    const file = join(temp.dir, leaseMarkerFileName);
    marker.write({ databaseId, epoch: 1, claims: 0 });
    const inode = statSync(file).ino;
    for (let claims = 1; claims <= 5; claims++) {
      marker.write({ databaseId, epoch: 2, claims });
      expect(statSync(file).ino, `after write ${claims}`).toBe(inode);
    }
    expect(readdirSync(temp.dir)).toEqual([leaseMarkerFileName]);
  });

  it('a shorter record written over a longer one reads as the shorter: what is left after its line is not read', () => {
    temp = makeTempDir('rw-marker-');
    const book = createMachineLeaseBook(temp.dir);
    book.write({ databaseId, epoch: 12, claims: 1_000_000, folder: '/home/analyst/Returns Workbench/a folder with a long name' });
    book.write({ databaseId, epoch: 13, claims: 7, folder: '/data' });
    expect(book.read(databaseId)).toEqual({ databaseId, epoch: 13, claims: 7, folder: '/data' });
    const text = readFileSync(join(temp.dir, engineStateFolderName, `${databaseId}.json`), 'utf8');
    expect(text.split('\n')[0]).toBe(JSON.stringify({ databaseId, epoch: 13, claims: 7, folder: '/data' }));
  });

  it('reads a file written whole (as earlier versions wrote it), and says a file that is not a record cannot be read', () => {
    temp = makeTempDir('rw-marker-');
    const marker = createLeaseMarker(temp.dir);
    const file = join(temp.dir, leaseMarkerFileName);
    writeFileSync(file, JSON.stringify({ databaseId, epoch: 3, claims: 9 }) + '\n');
    expect(marker.read()).toEqual({ databaseId, epoch: 3, claims: 9 });
    writeFileSync(file, JSON.stringify({ databaseId, epoch: 3, claims: 9 }));
    expect(marker.read()).toEqual({ databaseId, epoch: 3, claims: 9 });
    for (const text of ['', '\n', '{"databaseId":"x","epo', 'not json\n{"databaseId":"x","epoch":1,"claims":1}\n', '{"databaseId":"x","epoch":1.5,"claims":1}\n']) {
      writeFileSync(file, text);
      expect(marker.read(), JSON.stringify(text)).toBe('unreadable');
    }
  });
});
