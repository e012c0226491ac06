import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';
import Database from 'better-sqlite3';
import { unzipSync, Zip, ZipDeflate, type AsyncFlateStreamHandler, type ZipInputFile } from 'fflate';
import { z } from 'zod';
import { reportSchema, type Report } from '../contract/reports';
import { verifyAuditSegment, type AuditSegment } from './audit-segment';
import { sha256 } from './locks';
import { explainSnapshotChange, pageHashes } from './snapshot';

// An evidence bundle is one zip file a reviewer can open with no credentials and no network: the period's data as a
// read-only SQLite snapshot, the report files, the mapping files in force, the audit-log segment, and a manifest of
// sha256 hashes sealed by manifest.sha256. Opening it checks every hash, the audit segment's chain and the seal,
// and says exactly what was altered (which file, which table rows, which audit entry).
// The seal catches an edited manifest; a forger who rewrites the manifest, the seal and the files together is caught
// only against the live app, whose audit log records each bundle's manifest hash.

export const bundleFormat = 'returns-workbench/evidence-bundle@1';
export const manifestPath = 'manifest.json';
export const sealPath = 'manifest.sha256';
export const snapshotPath = 'snapshot/period.sqlite';
export const auditPath = 'audit/segment.json';

const fileEntry = z.object({ path: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export const manifestSchema = z.object({
  format: z.literal(bundleFormat),
  period: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  appVersion: z.string(),
  /** Whether the data came from Sandbox mode or from the live systems (null when the tool that made it did not know). */
  sourceMode: z.enum(['sandbox', 'live']).nullable(),
  report: z.object({ path: z.string(), status: z.enum(['live', 'locked']), lockedReportPath: z.string().nullable(), lockedReportSha256: z.string().nullable() }),
  files: z.array(fileEntry),
  snapshot: z.object({
    path: z.string(),
    schemaVersion: z.number().int(),
    /** Rows per table, and a hash (64 bits of sha256) of every database page: which page changed says which rows. */
    tables: z.record(z.string(), z.number().int()),
    pageSize: z.number().int().positive(),
    pages: z.array(z.string()),
  }),
  audit: z.object({ path: z.string(), fromSeq: z.number().int().nullable(), toSeq: z.number().int().nullable(), anchorHash: z.string(), headHash: z.string() }),
  mappings: z.object({ inForce: z.record(z.string(), z.string()), recorded: z.array(z.object({ source: z.string(), version: z.string(), records: z.number().int() })) }),
});
export type Manifest = z.infer<typeof manifestSchema>;

export interface BundleProblem {
  /** The file inside the bundle (or the bundle itself) that is wrong. */
  path: string;
  kind: 'unreadable' | 'missing' | 'altered' | 'unexpected' | 'chain' | 'invalid';
  detail: string;
}

export interface BundleContents {
  period: string;
  createdAt: string;
  createdBy: string;
  appVersion: string;
  sourceMode: 'sandbox' | 'live' | null;
  report: Report;
  /** The locked report exactly as stored at lock time, when the period is locked. */
  lockedReportText: string | null;
  files: { name: string; data: Uint8Array }[];
  snapshot: Uint8Array;
  /** The snapshot already deflated (raw deflate), started while the report files were being rendered. */
  snapshotDeflated: Promise<Uint8Array<ArrayBuffer>>;
  snapshotTables: Record<string, number>;
  snapshotSchemaVersion: number;
  audit: AuditSegment;
  mappings: { files: { name: string; text: string }[]; inForce: Record<string, string>; recorded: Manifest['mappings']['recorded'] };
}

/** Raw deflate on libuv's thread pool: the snapshot compresses while the report files are rendered. */
export const deflateSnapshot = (data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> =>
  promisify(deflateRaw)(data, { level: 1 }).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength) as Uint8Array<ArrayBuffer>);

/** A zip entry whose data is already deflated (fflate builds the archive around it). */
class Predeflated implements ZipInputFile {
  compression = 8;
  ondata?: AsyncFlateStreamHandler;
  constructor(
    readonly filename: string,
    readonly size: number,
    readonly crc: number,
    readonly mtime: Date,
  ) {}
}

/** Writes the bundle to `file` and returns the manifest's sha256 (what the audit log records). */
export async function writeBundle(file: string, contents: BundleContents): Promise<{ bytes: number; sha256: string; manifestSha256: string }> {
  const encoder = new TextEncoder();
  const entries: Record<string, Uint8Array> = {};
  const reportPath = `report/${contents.files.find((f) => f.name.endsWith('.json'))?.name ?? 'report.json'}`;
  for (const f of contents.files) entries[`report/${f.name}`] = f.data;
  const lockedReportPath = contents.lockedReportText === null ? null : `report/locked-report-${contents.period}.json`;
  if (lockedReportPath && contents.lockedReportText !== null) entries[lockedReportPath] = encoder.encode(contents.lockedReportText);
  for (const m of contents.mappings.files) entries[`mappings/${m.name}`] = encoder.encode(m.text);
  entries[auditPath] = encoder.encode(JSON.stringify(contents.audit, null, 2) + '\n');
  entries[snapshotPath] = contents.snapshot;
  const pages = pageHashes(contents.snapshot);

  const manifest: Manifest = {
    format: bundleFormat,
    period: contents.period,
    createdAt: contents.createdAt,
    createdBy: contents.createdBy,
    appVersion: contents.appVersion,
    sourceMode: contents.sourceMode,
    report: {
      path: reportPath,
      status: contents.report.status,
      lockedReportPath,
      lockedReportSha256: contents.report.lock?.reportSha256 ?? null,
    },
    files: Object.entries(entries)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([path, data]) => ({ path, bytes: data.byteLength, sha256: sha256(data) })),
    snapshot: { path: snapshotPath, schemaVersion: contents.snapshotSchemaVersion, tables: contents.snapshotTables, ...pages },
    audit: { path: auditPath, fromSeq: contents.audit.fromSeq, toSeq: contents.audit.toSeq, anchorHash: contents.audit.anchorHash, headHash: contents.audit.headHash },
    mappings: { inForce: contents.mappings.inForce, recorded: contents.mappings.recorded },
  };
  const manifestBytes = encoder.encode(JSON.stringify(manifest, null, 2) + '\n');
  const manifestSha256 = sha256(manifestBytes);
  const mtime = new Date(contents.createdAt);

  const chunks: Uint8Array[] = [];
  const zipped = new Promise<void>((resolve, reject) => {
    const zip = new Zip((error, chunk, final) => {
      if (error) return reject(error);
      chunks.push(chunk);
      if (final) resolve();
    });
    const add = (path: string, data: Uint8Array) => {
      const entry = new ZipDeflate(path, { level: 6 });
      entry.mtime = mtime;
      zip.add(entry);
      entry.push(data, true);
    };
    add(manifestPath, manifestBytes);
    add(sealPath, encoder.encode(`${manifestSha256}  ${manifestPath}\n`));
    for (const [path, data] of Object.entries(entries)) if (path !== snapshotPath) add(path, data);
    const snapshot = new Predeflated(snapshotPath, contents.snapshot.byteLength, crc32(contents.snapshot), mtime);
    zip.add(snapshot);
    contents.snapshotDeflated.then(
      (deflated) => {
        snapshot.ondata?.(null, deflated, true);
        zip.end();
      },
      (error: Error) => reject(error),
    );
  });
  await zipped;
  const zip = Buffer.concat(chunks);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, zip);
  return { bytes: zip.byteLength, sha256: sha256(zip), manifestSha256 };
}

export interface OpenedBundle {
  file: string;
  verified: boolean;
  problems: BundleProblem[];
  manifest: Manifest | null;
  report: Report | null;
  /** The snapshot extracted to a file of its own (when `extractTo` was given and the bundle holds one). */
  snapshotFile: string | null;
  audit: AuditSegment | null;
  dir: string | null;
}

/**
 * Opens a bundle and checks it: the seal, every file's sha256, nothing missing or added, the snapshot's rows table by
 * table, the audit segment's chain, the report itself. With `extractTo` (a directory, or true for a fresh temp
 * directory) the files are also written out, so the snapshot can be opened read-only.
 */
export function openBundle(file: string, options: { extractTo?: string | true } = {}): OpenedBundle {
  const problems: BundleProblem[] = [];
  const result: OpenedBundle = { file, verified: false, problems, manifest: null, report: null, snapshotFile: null, audit: null, dir: null };
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(readFileSync(file)));
  } catch (error) {
    problems.push({ path: file, kind: 'unreadable', detail: `not a readable evidence bundle: ${(error as Error).message}` });
    return result;
  }
  const text = (path: string) => new TextDecoder().decode(entries[path]);
  if (!entries[manifestPath]) {
    problems.push({ path: manifestPath, kind: 'missing', detail: 'the bundle has no manifest, so nothing in it can be checked' });
    return result;
  }
  const seal = entries[sealPath] ? text(sealPath).trim().split(/\s+/)[0] : null;
  const manifestSha = sha256(entries[manifestPath]);
  if (seal === null) problems.push({ path: sealPath, kind: 'missing', detail: 'the seal of the manifest is missing' });
  else if (seal !== manifestSha) {
    problems.push({ path: manifestPath, kind: 'altered', detail: `the manifest was edited: its sha256 is ${manifestSha}, its seal says ${seal}` });
  }
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(text(manifestPath)));
  } catch (error) {
    problems.push({ path: manifestPath, kind: 'invalid', detail: `the manifest cannot be read: ${(error as Error).message.split('\n')[0]}` });
    return result;
  }
  result.manifest = manifest;

  const dir = options.extractTo === true ? mkdtempSync(join(tmpdir(), 'rw-bundle-')) : (options.extractTo ?? null);
  result.dir = dir;
  if (dir) {
    for (const [path, data] of Object.entries(entries)) {
      const target = join(dir, ...path.split('/').filter((p) => p !== '..' && p !== '.' && p !== ''));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, data);
    }
    const snapshot = join(dir, ...manifest.snapshot.path.split('/'));
    if (existsSync(snapshot)) result.snapshotFile = snapshot;
  }

  const listed = new Set(manifest.files.map((f) => f.path));
  for (const f of manifest.files) {
    const data = entries[f.path];
    if (!data) {
      problems.push({ path: f.path, kind: 'missing', detail: 'listed in the manifest but not in the bundle' });
      continue;
    }
    const actual = sha256(data);
    if (actual === f.sha256) continue;
    if (f.path === manifest.snapshot.path) problems.push({ path: f.path, kind: 'altered', detail: snapshotDifference(data, manifest) });
    else problems.push({ path: f.path, kind: 'altered', detail: `its content changed (sha256 ${actual}, the manifest says ${f.sha256}; ${data.byteLength} bytes, the manifest says ${f.bytes})` });
  }
  for (const path of Object.keys(entries)) {
    if (path !== manifestPath && path !== sealPath && !listed.has(path)) problems.push({ path, kind: 'unexpected', detail: 'in the bundle but not in its manifest' });
  }

  if (entries[manifest.audit.path]) {
    try {
      const segment = JSON.parse(text(manifest.audit.path)) as AuditSegment;
      result.audit = segment;
      if (segment.anchorHash !== manifest.audit.anchorHash || segment.fromSeq !== manifest.audit.fromSeq) {
        problems.push({ path: manifest.audit.path, kind: 'chain', detail: 'the segment does not start where the manifest says it does' });
      }
      for (const p of verifyAuditSegment(segment)) problems.push({ path: manifest.audit.path, kind: 'chain', detail: `audit entry ${p.seq} ${p.detail}` });
      const last = segment.rows[segment.rows.length - 1];
      if ((last?.hash ?? segment.anchorHash) !== manifest.audit.headHash) {
        problems.push({ path: manifest.audit.path, kind: 'chain', detail: 'the segment does not end with the entry the manifest names: entries were removed from its end' });
      }
    } catch (error) {
      problems.push({ path: manifest.audit.path, kind: 'invalid', detail: `the audit segment cannot be read: ${(error as Error).message}` });
    }
  }

  if (entries[manifest.report.path]) {
    const parsed = reportSchema.safeParse(safeJson(text(manifest.report.path)));
    if (parsed.success && parsed.data.period === manifest.period) result.report = parsed.data;
    else problems.push({ path: manifest.report.path, kind: 'invalid', detail: parsed.success ? `it is the report of ${parsed.data.period}, not ${manifest.period}` : 'it is not a report' });
  }
  const locked = manifest.report.lockedReportPath ? entries[manifest.report.lockedReportPath] : undefined;
  if (manifest.report.lockedReportPath && locked) {
    const actual = sha256(locked);
    if (actual !== manifest.report.lockedReportSha256) {
      problems.push({ path: manifest.report.lockedReportPath, kind: 'altered', detail: `the locked report no longer has the sha256 recorded when the period was locked (${manifest.report.lockedReportSha256})` });
    }
  }
  result.verified = problems.length === 0;
  return result;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Which of the snapshot's tables and rows changed, from the page hashes and row counts in the manifest. */
function snapshotDifference(data: Uint8Array, manifest: Manifest): string {
  const dir = mkdtempSync(join(tmpdir(), 'rw-snapshot-check-'));
  const file = join(dir, 'period.sqlite');
  writeFileSync(file, data);
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const differences = explainSnapshotChange(db, data, manifest.snapshot);
    return `the snapshot's data was edited: ${differences.join('; ')}`;
  } catch (error) {
    return `the snapshot is no longer a readable SQLite database (${(error as Error).message})`;
  } finally {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
