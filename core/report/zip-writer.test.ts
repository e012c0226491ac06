import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { writeZip } from './zip-writer';

// The streaming zip writer: what any zip tool reads back is what went in (names, bytes, and the CRC and sizes the
// central directory declares), entries arrive in any chunking, and a source that fails half-way leaves no file.

/** Each central directory record: name, CRC, compressed and uncompressed size (a zip with no comment, no zip64). */
function centralDirectory(zip: Uint8Array): { name: string; crc: number; size: number; originalSize: number }[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.byteLength - 22;
  expect(view.getUint32(end, true)).toBe(0x06054b50);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const records = [];
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    const nameLength = view.getUint16(at + 28, true);
    records.push({
      name: new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength)),
      crc: view.getUint32(at + 16, true),
      size: view.getUint32(at + 20, true),
      originalSize: view.getUint32(at + 24, true),
    });
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return records;
}

/** Bytes that compress a little, like a database file. */
function sample(bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i % 251) ^ ((i >> 12) & 0xff);
  return data;
}

async function* chunked(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += size) yield data.subarray(at, at + size);
}

describe('streaming zip writer', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeAll(() => {
    temp = makeTempDir();
  });
  afterAll(() => temp.remove());

  it('writes entries that read back byte for byte, with the CRC and sizes declared, and hashes the archive', async () => {
    const big = sample(3 * 1024 * 1024 + 17);
    const text = new TextEncoder().encode('{"ok": true}\n');
    const file = join(temp.dir, 'a.zip');
    const seen: number[] = [];
    const written = await writeZip(file, new Date(Date.UTC(2026, 10, 1)), async (add) => {
      expect(await add('snapshot/period.sqlite', chunked(big, 65_536), { level: 1, inspect: (c) => seen.push(c.byteLength) })).toBe(big.byteLength);
      await add('report/empty.csv', [], { level: 6 });
      await add('manifest.json', [text], { level: 6 });
    });
    const zip = readFileSync(file);
    expect(written).toMatchObject({ name: 'a.zip', path: file, bytes: zip.byteLength, sha256: createHash('sha256').update(zip).digest('hex') });
    expect(seen.reduce((s, n) => s + n, 0)).toBe(big.byteLength);

    const entries = unzipSync(new Uint8Array(zip));
    expect(Object.keys(entries)).toEqual(['snapshot/period.sqlite', 'report/empty.csv', 'manifest.json']);
    expect(Buffer.from(entries['snapshot/period.sqlite'] ?? []).equals(Buffer.from(big))).toBe(true);
    expect(entries['report/empty.csv']?.byteLength).toBe(0);
    expect(new TextDecoder().decode(entries['manifest.json'])).toBe('{"ok": true}\n');
    expect(centralDirectory(zip)).toEqual([
      { name: 'snapshot/period.sqlite', crc: crc32(big), size: expect.any(Number), originalSize: big.byteLength },
      { name: 'report/empty.csv', crc: 0, size: expect.any(Number), originalSize: 0 },
      { name: 'manifest.json', crc: crc32(text), size: expect.any(Number), originalSize: text.byteLength },
    ]);
    expect(centralDirectory(zip)[0]?.size).toBeLessThan(big.byteLength);
  });

  it('removes the file and throws when an entry fails half-way', async () => {
    const file = join(temp.dir, 'b.zip');
    async function* failing(): AsyncIterable<Uint8Array> {
      yield sample(200_000);
      throw new Error('the snapshot could not be read');
    }
    await expect(
      writeZip(file, new Date(Date.UTC(2026, 10, 1)), async (add) => {
        await add('manifest.json', [new Uint8Array(10)], { level: 6 });
        await add('snapshot/period.sqlite', failing(), { level: 1 });
      }),
    ).rejects.toThrow('the snapshot could not be read');
    expect(existsSync(file)).toBe(false);
  });
});
