import { createHash } from 'node:crypto';
import { unzipSync, Zip, ZipDeflate, ZipPassThrough } from 'fflate';

// Hostile evidence bundles for the exploit and fuzz tests: a zip writer that keeps any entry name (`__proto__`,
// duplicates, backslashes, folders), unix modes (symlinks) and stored or deflated data, and a way to rewrite a
// bundle's manifest and seal so it is consistent in itself — what a forger who resealed it would hand over.

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** External attributes (unix mode in the high 16 bits), e.g. a symlink: (0o120777 << 16) >>> 0. */
  attrs?: number;
  /** Stored instead of deflated. */
  isStored?: boolean;
}

export const symlinkAttrs = (0o120777 << 16) >>> 0;

export function writeZip(entries: ZipEntry[]): Uint8Array<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  let isDone = false;
  const zip = new Zip((error, chunk, final) => {
    if (error) throw error;
    chunks.push(chunk);
    if (final) isDone = true;
  });
  for (const entry of entries) {
    const file = entry.isStored ? new ZipPassThrough(entry.name) : new ZipDeflate(entry.name, { level: 6 });
    if (entry.attrs !== undefined) {
      file.os = 3;
      file.attrs = entry.attrs;
    }
    file.mtime = new Date(Date.UTC(2026, 10, 1));
    zip.add(file);
    file.push(entry.data, true);
  }
  zip.end();
  if (!isDone) throw new Error('the zip writer did not finish');
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The entries of a bundle this app wrote (its names are ordinary), in the order of the zip. */
export function readZip(data: Uint8Array): ZipEntry[] {
  return Object.entries(unzipSync(data)).map(([name, bytes]) => ({ name, data: bytes }));
}

const encoder = new TextEncoder();
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface ManifestLike {
  files: { path: string; bytes: number; sha256: string }[];
  snapshot: { path: string };
  report: { path: string; lockedReportPath: string | null };
  audit: { path: string };
  [key: string]: unknown;
}

export function manifestOf(entries: ZipEntry[]): ManifestLike {
  const entry = entries.find((e) => e.name === 'manifest.json');
  if (!entry) throw new Error('no manifest');
  return JSON.parse(new TextDecoder().decode(entry.data)) as ManifestLike;
}

/**
 * The entries with a manifest that lists every other file entry as it now is (`listed` picks which), edited by
 * `edit`, and a seal that matches it: a bundle that a forger rebuilt, consistent in itself.
 */
export function reseal(entries: ZipEntry[], edit: (manifest: ManifestLike) => void = () => {}, listed: (name: string) => boolean = () => true): ZipEntry[] {
  const manifest = manifestOf(entries);
  const others = entries.filter((e) => e.name !== 'manifest.json' && e.name !== 'manifest.sha256');
  manifest.files = others
    .filter((e) => !e.name.endsWith('/') && listed(e.name))
    .map((e) => ({ path: e.name, bytes: e.data.byteLength, sha256: sha256(e.data) }));
  edit(manifest);
  const manifestBytes = encoder.encode(JSON.stringify(manifest, null, 2) + '\n');
  return [
    { name: 'manifest.json', data: manifestBytes },
    { name: 'manifest.sha256', data: encoder.encode(`${sha256(manifestBytes)}  manifest.json\n`) },
    ...others,
  ];
}
