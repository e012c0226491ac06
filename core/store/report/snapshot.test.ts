import { describe, expect, it } from 'vitest';
import { createPageHasher, pageHashes } from './snapshot';

// The page hashes a bundle's manifest keeps are taken while the snapshot streams into the zip: in chunks of any size
// they must be the hashes of the whole file, page by page, as the opener recomputes them.

/** A fake database file: SQLite's header says `pageSize` (1 for 65,536), then bytes that differ page to page. */
function fakeDatabase(pageSize: number, bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + Math.floor(i / 4096)) & 0xff;
  const raw = pageSize === 65_536 ? 1 : pageSize;
  if (bytes > 17) [data[16], data[17]] = [raw >> 8, raw & 0xff];
  return data;
}

function streamed(data: Uint8Array, chunkSizes: number[]) {
  const hasher = createPageHasher();
  let at = 0;
  for (let i = 0; at < data.byteLength; i++) {
    const size = chunkSizes[i % chunkSizes.length] ?? 1;
    hasher.update(data.subarray(at, at + size));
    at += size;
  }
  return hasher.digest();
}

describe('snapshot page hashes over a stream', () => {
  it.each([
    ['page-aligned chunks', 4096, 4096 * 10, [1 << 16]],
    ['chunks that split pages and the header', 4096, 4096 * 7 + 123, [5, 10, 4000, 9000, 1]],
    ['64 KiB pages read in 1 MiB chunks', 65_536, 65_536 * 20, [1 << 20]],
    ['a file shorter than its header', 4096, 10, [3]],
    ['an empty file', 4096, 0, [1]],
  ])('%s give the hashes of the whole file', (_name, pageSize, bytes, chunks) => {
    const data = fakeDatabase(pageSize, bytes);
    const whole = pageHashes(data);
    expect(streamed(data, chunks)).toEqual(whole);
    expect(whole.pages).toHaveLength(Math.ceil(bytes / whole.pageSize));
  });
});
