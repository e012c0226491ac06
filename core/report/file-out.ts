import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { AppError } from '../errors';
import { pipeline } from 'node:stream/promises';

// Month-end files go to disk as they are produced, never whole in memory, and their sha256 is taken from the bytes on
// their way to the disk. A file appears under its final name only once it is complete: everything is written into a
// hidden staging folder beside the destination (same file system, so a rename moves it whole) and renamed into place
// at the end; a run that fails or is interrupted leaves the files already there untouched.

export interface WrittenFile {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Writes into `path` (which must not exist) what `produce` writes into the stream it is given; `produce` ends that
 * stream, or pipes into it something that does. The sha256 and the size are of the bytes written. When `produce` or
 * the disk fails, the file is removed and the error thrown.
 */
export async function writeHashed(path: string, produce: (out: Writable) => Promise<void> | void): Promise<WrittenFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  const digest = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      callback(null, chunk);
    },
  });
  const file = createWriteStream(path, { flags: 'wx' });
  const written = pipeline(digest, file);
  try {
    await produce(digest);
    await written;
  } catch (error) {
    digest.destroy(error as Error);
    await written.catch(() => undefined);
    // The file is opened asynchronously: a stream destroyed before its open completed still creates the file, later.
    // Removing it before the stream has closed would leave it to appear afterwards, in a folder being removed.
    // (Not events.once: it rejects on the stream's 'error', which a destroyed stream emits before 'close'.)
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    // What was written is not the file: it goes (the staging folder it is in goes too).
    rmSync(path, { force: true });
    throw error;
  }
  return { name: basename(path), path, bytes, sha256: hash.digest('hex') };
}

/** Writes `text` (UTF-8) into `path` through writeHashed, in slices, so a large text is not copied whole again. */
export function writeText(path: string, text: string): Promise<WrittenFile> {
  return writeHashed(path, async (out) => {
    for (let at = 0; at < text.length; ) {
      let end = Math.min(text.length, at + (1 << 20));
      // Never between the two halves of a surrogate pair: each slice is encoded on its own.
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      if (!out.write(text.slice(at, end))) await once(out, 'drain');
      at = end;
    }
    out.end();
  });
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

export interface Staging {
  /** The hidden folder the files are written into. */
  dir: string;
  /** Moves `files` (written in `dir`) into the destination under their own names; returns them with their final paths. Refuses (CONFLICT) if any name is taken there. */
  publish(files: WrittenFile[]): WrittenFile[];
  /** Removes the staging folder and whatever is left in it. */
  discard(): void;
}

/** A staging folder inside `outDir` (created if missing) for files that will be renamed into it. */
export function stageIn(outDir: string): Staging {
  mkdirSync(outDir, { recursive: true });
  const dir = mkdtempSync(join(outDir, '.partial-'));
  return {
    dir,
    // A file already there is someone's evidence: refused, never replaced (a rename would replace it without a word).
    publish: (files) => {
      const taken = files.map((f) => join(outDir, f.name)).filter((path) => existsSync(path));
      if (taken.length > 0) throw new AppError('CONFLICT', `Not written: ${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}, and exports never replace files. Write into another folder.`);
      return files.map((f) => {
        const path = join(outDir, f.name);
        renameSync(f.path, path);
        return { ...f, path };
      });
    },
    discard: () => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
