import { once } from 'node:events';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { Zip, type AsyncFlateStreamHandler, type ZipInputFile } from 'fflate';
import { writeHashed, type WrittenFile } from './file-out';

// A zip written to disk entry by entry as each entry's bytes arrive: zlib deflates them on the thread pool and the
// compressed bytes go straight on to the file, so neither an entry nor the archive is ever whole in memory. fflate
// frames the archive (local headers with data descriptors, then the central directory), as it did when bundles were
// built in memory, and the bundle opener reads it with fflate.

/** An entry whose deflated bytes are handed to fflate as zlib produces them; its size and CRC are set before the last. */
class StreamedEntry implements ZipInputFile {
  compression = 8;
  size = 0;
  crc = 0;
  ondata?: AsyncFlateStreamHandler;
  constructor(
    readonly filename: string,
    readonly mtime: Date,
  ) {}
}

/** The most a zip entry holds without zip64 records, which fflate does not write. */
const maxEntryBytes = 0xffff_ffff;

export interface EntryOptions {
  /** zlib's deflate level, 1 (fastest) to 9. */
  level: number;
  /** Sees every chunk of the entry's uncompressed bytes, in order (to hash them on the way). */
  inspect?: (chunk: Uint8Array) => void;
}

/** Adds one entry from `source`; entries are added one after the other (await each). Resolves to its size. */
export type AddEntry = (name: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: EntryOptions) => Promise<number>;

/** Writes a zip into `path` (which must not exist) with the entries `fill` adds, in that order. */
export function writeZip(path: string, mtime: Date, fill: (add: AddEntry) => Promise<void>): Promise<WrittenFile> {
  return writeHashed(path, async (out) => {
    let failure: Error | null = null;
    const zip = new Zip((error, chunk, final) => {
      if (error) {
        failure ??= error;
        return;
      }
      out.write(chunk);
      if (final) out.end();
    });
    const check = () => {
      if (failure) throw failure;
    };
    const add: AddEntry = async (name, source, options) => {
      const entry = new StreamedEntry(name, mtime);
      zip.add(entry);
      check();
      const deflate = createDeflateRaw({ level: options.level });
      let size = 0;
      let crc = 0;
      const feeding = (async () => {
        for await (const chunk of source) {
          size += chunk.byteLength;
          crc = crc32(chunk, crc);
          options.inspect?.(chunk);
          if (!deflate.write(chunk)) await once(deflate, 'drain');
        }
        deflate.end();
      })().catch((error: unknown) => deflate.destroy(error as Error));
      for await (const compressed of deflate as AsyncIterable<Uint8Array<ArrayBuffer>>) {
        entry.ondata?.(null, compressed, false);
        check();
        if (out.writableNeedDrain) await once(out, 'drain');
      }
      await feeding;
      if (size > maxEntryBytes) throw new Error(`${name} is ${size} bytes, more than a zip entry holds without zip64`);
      entry.size = size;
      entry.crc = crc;
      entry.ondata?.(null, new Uint8Array(0), true);
      check();
      return size;
    };
    await fill(add);
    zip.end();
    check();
  });
}
