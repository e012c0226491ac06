import { unzipSync } from 'fflate';

// Reading a zip that may be hostile. The central directory is listed first without inflating anything, so limits
// (entry count, sizes, ratio) are checked on what the archive declares before a byte is inflated; then only the
// entries asked for are inflated, each into a buffer of its declared size (fflate never grows it, so an entry that
// lies about its size is cut there and fails its hash). Names are kept in a Map, never as keys of a plain object:
// `__proto__`, `constructor` or `toString` are names like any other.

export interface ZipListing {
  name: string;
  /** Compressed bytes. */
  size: number;
  /** Uncompressed bytes, as the central directory declares them. */
  originalSize: number;
  compression: number;
}

export interface ZipIndex {
  /** Every entry name, with the entries under it (more than one: a duplicate). */
  entries: Map<string, ZipListing[]>;
  count: number;
}

/** Lists the central directory. Throws when the archive cannot be read as a zip. */
export function listZip(data: Uint8Array): ZipIndex {
  const entries = new Map<string, ZipListing[]>();
  let count = 0;
  unzipSync(data, {
    filter: (file) => {
      count++;
      const listing: ZipListing = { name: file.name, size: file.size, originalSize: file.originalSize, compression: file.compression };
      const same = entries.get(file.name);
      if (same) same.push(listing);
      else entries.set(file.name, [listing]);
      return false;
    },
  });
  return { entries, count };
}

/**
 * Inflates the entries named in `names` (each must appear once in the archive) and nothing else. Throws when the
 * archive cannot be read.
 */
export function inflateEntries(data: Uint8Array, names: ReadonlySet<string>): Map<string, Uint8Array> {
  const inflated = unzipSync(data, { filter: (file) => names.has(file.name) });
  const out = new Map<string, Uint8Array>();
  for (const name of names) if (Object.prototype.hasOwnProperty.call(inflated, name)) out.set(name, inflated[name] as Uint8Array);
  return out;
}

const windowsDevice = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * Why `name` could not be written safely under a folder on any platform, or null when it can. Checked the same on
 * every platform, so a bundle that is refused on Windows is refused everywhere.
 */
export function unsafeNameReason(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > 255) return 'it is longer than 255 characters';
  if (name.includes('\\')) return 'it contains a backslash, a folder separator on Windows';
  if (name.includes(':')) return 'it contains a colon (a drive letter or a data stream on Windows)';
  if (name.startsWith('/')) return 'it is an absolute path';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.')) return 'it has a "." or ".." part';
  if (parts.some((p) => p === '')) return 'it has an empty part';
  if (parts.some((p) => windowsDevice.test(p))) return 'it names a Windows device';
  if (parts.some((p) => /[. ]$/.test(p))) return 'a part ends with a dot or a space, which Windows drops';
  return null;
}
