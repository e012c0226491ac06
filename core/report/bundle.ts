import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { reportSchema, type Report } from '../contract/reports';
import { MappingError, mappingFiles, parseMappingFile } from '../mappings/load';
import { createPageHasher } from '../store/report/snapshot';
import { explainSnapshotFileChange, quickCheckSnapshot } from '../store/report/snapshot-file';
import { verifyAuditSegment, type AuditSegment } from './audit-segment';
import { inflateEntries, listZip, unsafeNameReason, type ZipIndex, type ZipListing } from './bundle-zip';
import type { WrittenFile } from './file-out';
import { sha256 } from './locks';
import { writeZip } from './zip-writer';

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

/** A file a bundle may hold: one of its four folders, then a plain file name. Nothing else is ever extracted. */
const bundleFilePath = z
  .string()
  .max(255)
  .regex(/^(report|mappings|audit|snapshot)\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected report/, mappings/, audit/ or snapshot/ and a plain file name')
  .refine((path) => unsafeNameReason(path) === null, { message: 'not a name that can be written safely on every platform' });
const reportPath = bundleFilePath.regex(/^report\/[^/]+\.json$/, 'expected report/<name>.json');
const fileEntry = z.object({ path: bundleFilePath, bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const countKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128);
export const manifestSchema = z
  .object({
    format: z.literal(bundleFormat),
    period: z.string().regex(/^\d{4}-\d{2}$/, 'expected a month such as 2026-10'),
    createdAt: z.string().max(64),
    createdBy: z.string().max(500),
    appVersion: z.string().max(100),
    /** Whether the data came from Sandbox mode or from the live systems (null when the tool that made it did not know). */
    sourceMode: z.enum(['sandbox', 'live']).nullable(),
    report: z.object({ path: reportPath, status: z.enum(['live', 'locked']), lockedReportPath: reportPath.nullable(), lockedReportSha256: z.string().nullable() }),
    files: z.array(fileEntry).max(1000),
    snapshot: z.object({
      path: z.literal(snapshotPath, { error: `the snapshot is always ${snapshotPath}` }),
      schemaVersion: z.number().int(),
      /** Rows per table, and a hash (64 bits of sha256) of every database page: which page changed says which rows. */
      tables: z.record(countKey, z.number().int()),
      pageSize: z.number().int().positive(),
      pages: z.array(z.string()),
    }),
    audit: z.object({
      path: z.literal(auditPath, { error: `the audit segment is always ${auditPath}` }),
      fromSeq: z.number().int().nullable(),
      toSeq: z.number().int().nullable(),
      anchorHash: z.string(),
      headHash: z.string(),
    }),
    mappings: z.object({ inForce: z.record(countKey, z.string()), recorded: z.array(z.object({ source: z.string(), version: z.string(), records: z.number().int() })) }),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.files.forEach((f, i) => {
      if (seen.has(f.path)) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `${f.path} is listed twice` });
      seen.add(f.path);
    });
    const mustBeListed: [string[], string | null][] = [
      [['snapshot', 'path'], m.snapshot.path],
      [['audit', 'path'], m.audit.path],
      [['report', 'path'], m.report.path],
      [['report', 'lockedReportPath'], m.report.lockedReportPath],
    ];
    for (const [path, value] of mustBeListed) {
      if (value !== null && !seen.has(value)) ctx.addIssue({ code: 'custom', path, message: `${value} must be one of the files the manifest lists` });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;

export interface BundleProblem {
  /** The file inside the bundle (or the bundle itself) that is wrong. */
  path: string;
  /**
   * `unsafe`: a name that could not be written safely on every platform; `duplicate`: a name twice; `too_large`: over
   * a limit, so nothing was inflated.
   */
  kind: 'unreadable' | 'missing' | 'altered' | 'unexpected' | 'chain' | 'invalid' | 'unsafe' | 'duplicate' | 'too_large';
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
  /**
   * The report files, being written to disk beside the bundle (they are zipped from there once the snapshot is in,
   * and each must still have the sha256 it was written with).
   */
  files: Promise<WrittenFile[]>;
  /** The snapshot database, a closed file: it is streamed into the bundle, hashed on the way. */
  snapshotFile: string;
  snapshotTables: Record<string, number>;
  snapshotSchemaVersion: number;
  audit: AuditSegment;
  mappings: { files: { name: string; text: string }[]; inForce: Record<string, string>; recorded: Manifest['mappings']['recorded'] };
}

/** Chunks of a file read from disk: a multiple of every SQLite page size, so the page hasher seldom keeps a rest. */
const readChunk = 1 << 20;

/**
 * Writes the bundle into `file` (which must not exist yet) and returns it with the manifest's sha256 (what the audit
 * log records). Every entry is streamed from disk or from a string into the zip; the hashes the manifest lists are
 * taken on the way, so nothing is read twice. The manifest and its seal come last, once every hash is known.
 */
export async function writeBundle(file: string, contents: BundleContents): Promise<WrittenFile & { manifestSha256: string }> {
  const encoder = new TextEncoder();
  const listed: Manifest['files'] = [];
  let snapshot: { pageSize: number; pages: string[] } = { pageSize: 0, pages: [] };
  let reportPath = 'report/report.json';
  const lockedReportPath = contents.lockedReportText === null ? null : `report/locked-report-${contents.period}.json`;
  let manifestSha256 = '';

  const written = await writeZip(file, new Date(contents.createdAt), async (add) => {
    /** Adds an entry from `source` and lists it with the sha256 and size of the bytes that went in. */
    const addListed = async (path: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, level: number, inspect?: (chunk: Uint8Array) => void) => {
      const hash = createHash('sha256');
      const bytes = await add(path, source, {
        level,
        inspect: (chunk) => {
          hash.update(chunk);
          inspect?.(chunk);
        },
      });
      const entry = { path, bytes, sha256: hash.digest('hex') };
      listed.push(entry);
      return entry;
    };
    const text = (t: string) => [encoder.encode(t)];

    // The snapshot first, while the report files are still being written: it is most of the bundle.
    const pages = createPageHasher();
    await addListed(snapshotPath, createReadStream(contents.snapshotFile, { highWaterMark: readChunk }), 1, (chunk) => pages.update(chunk));
    snapshot = pages.digest();
    for (const f of await contents.files) {
      const entry = await addListed(`report/${f.name}`, createReadStream(f.path, { highWaterMark: readChunk }), 6);
      if (entry.sha256 !== f.sha256 || entry.bytes !== f.bytes) throw new Error(`${f.name} changed on disk after it was written, before it was put in the bundle`);
      if (f.name.endsWith('.json') && reportPath === 'report/report.json') reportPath = entry.path;
    }
    if (lockedReportPath && contents.lockedReportText !== null) await addListed(lockedReportPath, text(contents.lockedReportText), 6);
    for (const m of contents.mappings.files) await addListed(`mappings/${m.name}`, text(m.text), 6);
    await addListed(auditPath, text(JSON.stringify(contents.audit, null, 2) + '\n'), 6);

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
      files: [...listed].sort((a, b) => a.path.localeCompare(b.path)),
      snapshot: { path: snapshotPath, schemaVersion: contents.snapshotSchemaVersion, tables: contents.snapshotTables, ...snapshot },
      audit: { path: auditPath, fromSeq: contents.audit.fromSeq, toSeq: contents.audit.toSeq, anchorHash: contents.audit.anchorHash, headHash: contents.audit.headHash },
      mappings: { inForce: contents.mappings.inForce, recorded: contents.mappings.recorded },
    };
    const manifestBytes = encoder.encode(JSON.stringify(manifest, null, 2) + '\n');
    manifestSha256 = sha256(manifestBytes);
    await add(manifestPath, [manifestBytes], { level: 6 });
    await add(sealPath, text(`${manifestSha256}  ${manifestPath}\n`), { level: 6 });
  });
  return { ...written, manifestSha256 };
}

export interface OpenedBundle {
  file: string;
  verified: boolean;
  problems: BundleProblem[];
  manifest: Manifest | null;
  report: Report | null;
  /** The snapshot extracted to a file of its own (when `extractTo` was given and it is a readable SQLite database). */
  snapshotFile: string | null;
  audit: AuditSegment | null;
  /** The extraction folder (when `extractTo` was given and the bundle could be extracted); the caller removes it. */
  dir: string | null;
}

/** What opening a bundle may cost. Each is checked on what the zip declares, before anything is inflated. */
export interface BundleLimits {
  /** The bundle file itself. */
  maxBundleBytes: number;
  /** Entries in the zip, folders included. */
  maxEntries: number;
  /** Uncompressed size of one entry. */
  maxEntryBytes: number;
  /** Uncompressed size of every listed entry together. */
  maxTotalBytes: number;
  /** Uncompressed ÷ compressed, for an entry above 1 MiB: a bundle's own files stay far below it. */
  maxRatio: number;
  /** The manifest, its seal, the audit segment, the reports and mapping files: read whole as text. */
  maxTextBytes: number;
}

export const defaultBundleLimits: BundleLimits = {
  maxBundleBytes: 1024 * 1024 * 1024,
  maxEntries: 1000,
  maxEntryBytes: 1024 * 1024 * 1024,
  maxTotalBytes: 1536 * 1024 * 1024,
  maxRatio: 200,
  maxTextBytes: 64 * 1024 * 1024,
};
const ratioFloorBytes = 1024 * 1024;

export interface OpenBundleOptions {
  /** A folder to extract the listed files into (created; it must not hold anything yet), or true for a fresh temp folder. */
  extractTo?: string | true;
  limits?: Partial<BundleLimits>;
  /** The SQLite driver's native binding, where the default one is not the right build (Electron). */
  nativeBinding?: string;
}

const textPaths = (manifest: Manifest) =>
  new Set([manifest.audit.path, manifest.report.path, ...(manifest.report.lockedReportPath ? [manifest.report.lockedReportPath] : []), ...manifest.files.map((f) => f.path).filter((p) => p.startsWith('mappings/'))]);

/**
 * Opens a bundle and checks it: limits first (on the zip's own listing, before anything is inflated), every entry's
 * name, the seal, every file's sha256, nothing missing, added or twice, the snapshot's rows table by table and that it
 * is a readable SQLite database, the mapping files against their schemas, the audit segment's chain, the report
 * itself. With `extractTo` the files the manifest lists are written out — and nothing else — each checked to land
 * inside the folder. It never throws: every failure is a listed problem, and a folder it made is removed on failure.
 */
export function openBundle(file: string, options: OpenBundleOptions = {}): OpenedBundle {
  const problems: BundleProblem[] = [];
  const result: OpenedBundle = { file, verified: false, problems, manifest: null, report: null, snapshotFile: null, audit: null, dir: null };
  try {
    checkBundle(file, options, result);
  } catch (error) {
    problems.push({ path: file, kind: 'unreadable', detail: `the bundle could not be checked: ${(error as Error).message}` });
    // Whatever was extracted before the failure goes: a half-written folder is never left behind or served.
    if (result.dir) rmSync(result.dir, { recursive: true, force: true });
    result.dir = null;
    result.snapshotFile = null;
  }
  result.verified = problems.length === 0;
  return result;
}

/** The checks of openBundle; `result.dir` is set as soon as the extraction folder exists. */
function checkBundle(file: string, options: OpenBundleOptions, result: OpenedBundle): void {
  const { problems } = result;
  const limits = { ...defaultBundleLimits, ...options.limits };
  const size = statSync(file).size;
  if (size > limits.maxBundleBytes) {
    problems.push({ path: file, kind: 'too_large', detail: `the bundle is ${size} bytes; at most ${limits.maxBundleBytes} bytes are opened` });
    return;
  }
  const zip = new Uint8Array(readFileSync(file));
  let index: ZipIndex;
  try {
    index = listZip(zip);
  } catch (error) {
    problems.push({ path: file, kind: 'unreadable', detail: `not a readable evidence bundle: ${(error as Error).message}` });
    return;
  }
  if (index.count > limits.maxEntries) {
    problems.push({ path: file, kind: 'too_large', detail: `the bundle holds ${index.count} entries; at most ${limits.maxEntries} are opened` });
    return;
  }

  // Every entry's name, before anything is inflated: folders are skipped, a name twice or one that could not be
  // written safely on every platform is a problem of its own.
  const usable = new Map<string, ZipListing>();
  for (const [name, listings] of index.entries) {
    if (name.endsWith('/')) {
      if (listings.some((l) => l.originalSize > 0)) problems.push({ path: name, kind: 'unexpected', detail: 'a folder entry that carries data' });
      continue;
    }
    const unsafe = unsafeNameReason(name);
    if (unsafe) {
      problems.push({ path: name, kind: 'unsafe', detail: `"${name}" is not a safe name for a file in a bundle (${unsafe}); it is never written out` });
      continue;
    }
    if (listings.length > 1) {
      problems.push({ path: name, kind: 'duplicate', detail: `the bundle holds ${listings.length} entries named ${name}; which one a tool shows is not sealed by the manifest` });
      continue;
    }
    usable.set(name, listings[0] as ZipListing);
  }
  const tooLarge = (listing: ZipListing, max: number): string | null => {
    if (listing.originalSize > max) return `it is ${listing.originalSize} bytes uncompressed; at most ${max} bytes are allowed for one file`;
    if (listing.originalSize > ratioFloorBytes && listing.originalSize > listing.size * limits.maxRatio) {
      return `it is ${listing.originalSize} bytes uncompressed from ${listing.size} (over ${limits.maxRatio} to 1): a zip bomb, not a bundle's file`;
    }
    if (listing.compression !== 0 && listing.compression !== 8) return `it uses compression method ${listing.compression}; bundles use deflate`;
    return null;
  };

  const manifestListing = usable.get(manifestPath);
  if (!manifestListing) {
    if (!problems.some((p) => p.path === manifestPath)) problems.push({ path: manifestPath, kind: 'missing', detail: 'the bundle has no manifest, so nothing in it can be checked' });
    return;
  }
  for (const [path, listing] of [[manifestPath, manifestListing], [sealPath, usable.get(sealPath)]] as const) {
    const why = listing ? tooLarge(listing, limits.maxTextBytes) : null;
    if (why) {
      problems.push({ path, kind: 'too_large', detail: why });
      return;
    }
  }
  const head = inflateEntries(zip, new Set([manifestPath, sealPath].filter((p) => usable.has(p))));
  const manifestBytes = head.get(manifestPath) ?? new Uint8Array(0);
  const sealBytes = head.get(sealPath);
  const seal = sealBytes ? decode(sealBytes).trim().split(/\s+/)[0] ?? '' : null;
  const manifestSha = sha256(manifestBytes);
  if (seal === null) {
    if (!problems.some((p) => p.path === sealPath)) problems.push({ path: sealPath, kind: 'missing', detail: 'the seal of the manifest is missing' });
  } else if (seal !== manifestSha) {
    problems.push({ path: manifestPath, kind: 'altered', detail: `the manifest was edited: its sha256 is ${manifestSha}, its seal says ${seal}` });
  }
  const parsed = manifestSchema.safeParse(safeJson(decode(manifestBytes)));
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
    problems.push({ path: manifestPath, kind: 'invalid', detail: `the manifest cannot be read: ${issues.join('; ')}` });
    return;
  }
  const manifest = parsed.data;
  result.manifest = manifest;

  // Limits on what the manifest lists, still before anything is inflated.
  const listed = new Set(manifest.files.map((f) => f.path));
  const texts = textPaths(manifest);
  let total = 0;
  let isOverLimit = false;
  for (const f of manifest.files) {
    const listing = usable.get(f.path);
    if (!listing) {
      if (!index.entries.has(f.path)) problems.push({ path: f.path, kind: 'missing', detail: 'listed in the manifest but not in the bundle' });
      continue;
    }
    total += listing.originalSize;
    const why = tooLarge(listing, texts.has(f.path) ? limits.maxTextBytes : limits.maxEntryBytes);
    if (why) {
      problems.push({ path: f.path, kind: 'too_large', detail: why });
      isOverLimit = true;
    }
  }
  if (total > limits.maxTotalBytes) {
    problems.push({ path: file, kind: 'too_large', detail: `the listed files are ${total} bytes uncompressed; at most ${limits.maxTotalBytes} bytes are opened` });
    isOverLimit = true;
  }
  for (const [path] of usable) {
    if (path !== manifestPath && path !== sealPath && !listed.has(path)) problems.push({ path, kind: 'unexpected', detail: 'in the bundle but not in its manifest; never written out' });
  }
  if (isOverLimit) return;

  const entries = inflateEntries(zip, new Set([...listed].filter((p) => usable.has(p))));
  for (const f of manifest.files) {
    const data = entries.get(f.path);
    if (!data) continue;
    const actual = sha256(data);
    if (actual === f.sha256 && data.byteLength === f.bytes) continue;
    if (f.path === snapshotPath) problems.push({ path: f.path, kind: 'altered', detail: snapshotDifference(data, manifest, options.nativeBinding) });
    else problems.push({ path: f.path, kind: 'altered', detail: `its content changed (sha256 ${actual}, the manifest says ${f.sha256}; ${data.byteLength} bytes, the manifest says ${f.bytes})` });
  }
  const text = (path: string) => {
    const data = entries.get(path);
    return data ? decode(data) : null;
  };

  const auditText = text(manifest.audit.path);
  if (auditText !== null) {
    const segment = auditSegmentSchema.safeParse(safeJson(auditText));
    if (!segment.success) {
      problems.push({ path: manifest.audit.path, kind: 'invalid', detail: 'the audit segment cannot be read: it is not an audit segment' });
    } else {
      result.audit = segment.data as AuditSegment;
      const s = result.audit;
      if (s.anchorHash !== manifest.audit.anchorHash || s.fromSeq !== manifest.audit.fromSeq) {
        problems.push({ path: manifest.audit.path, kind: 'chain', detail: 'the segment does not start where the manifest says it does' });
      }
      for (const p of verifyAuditSegment(s)) problems.push({ path: manifest.audit.path, kind: 'chain', detail: `audit entry ${p.seq} ${p.detail}` });
      const last = s.rows[s.rows.length - 1];
      if ((last?.hash ?? s.anchorHash) !== manifest.audit.headHash) {
        problems.push({ path: manifest.audit.path, kind: 'chain', detail: 'the segment does not end with the entry the manifest names: entries were removed from its end' });
      }
    }
  }

  const reportText = text(manifest.report.path);
  if (reportText !== null) {
    const report = reportSchema.safeParse(safeJson(reportText));
    if (report.success && report.data.period === manifest.period) result.report = report.data;
    else problems.push({ path: manifest.report.path, kind: 'invalid', detail: report.success ? `it is the report of ${report.data.period}, not ${manifest.period}` : 'it is not a report' });
  }
  const locked = manifest.report.lockedReportPath ? entries.get(manifest.report.lockedReportPath) : undefined;
  if (manifest.report.lockedReportPath && locked && sha256(locked) !== manifest.report.lockedReportSha256) {
    problems.push({ path: manifest.report.lockedReportPath, kind: 'altered', detail: `the locked report no longer has the sha256 recorded when the period was locked (${manifest.report.lockedReportSha256})` });
  }

  // Mapping files: what the viewer would load, checked now against the app's schemas. A bad one is never extracted.
  const badMappings = new Set<string>();
  for (const path of texts) {
    const name = path.startsWith('mappings/') ? path.slice('mappings/'.length) : null;
    const kind = name ? Object.values(mappingFiles).find((m) => m.file === name) : undefined;
    const mappingText = text(path);
    if (!kind || mappingText === null) continue;
    try {
      parseMappingFile(path, mappingText, kind.schema);
    } catch (error) {
      badMappings.add(path);
      const detail = error instanceof MappingError ? error.problems.map((p) => `at ${p.path || '(top level)'}: ${p.message}`).join('; ') : (error as Error).message;
      problems.push({ path, kind: 'invalid', detail: `not a valid mapping file (${detail}); the viewer shows the app's own default instead` });
    }
  }

  if (!options.extractTo) {
    // The snapshot is still checked as a database, from a private copy that is removed at once.
    const snapshot = entries.get(snapshotPath);
    if (snapshot) {
      const scratch = mkdtempSync(join(tmpdir(), 'rw-snapshot-open-'));
      try {
        writeFileSync(join(scratch, 'period.sqlite'), snapshot);
        const why = sqliteProblem(join(scratch, 'period.sqlite'), options.nativeBinding);
        if (why) problems.push({ path: snapshotPath, kind: 'invalid', detail: why });
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    return;
  }

  const dir = options.extractTo === true ? mkdtempSync(join(tmpdir(), 'rw-bundle-')) : freshFolder(options.extractTo);
  result.dir = dir;
  const root = resolve(dir);
  for (const [path, data] of entries) {
    if (badMappings.has(path)) continue;
    const target = resolve(root, ...path.split('/'));
    // The manifest's names were checked already; this is the last word on where a file lands.
    if (!target.startsWith(root + sep) || relative(root, target).split(sep).includes('..')) throw new Error(`${path} would be written outside the extraction folder`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, data, { flag: 'wx' });
  }
  const snapshot = join(root, ...snapshotPath.split('/'));
  if (entries.has(snapshotPath)) {
    const why = sqliteProblem(snapshot, options.nativeBinding);
    if (why) problems.push({ path: snapshotPath, kind: 'invalid', detail: why });
    else result.snapshotFile = snapshot;
  }
}

/** `dir` created for the extraction; refused when it already holds anything (it could hold links leading out). */
function freshFolder(dir: string): string {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`the extraction folder ${dir} is not empty`);
  return dir;
}

const sqliteMagic = 'SQLite format 3\u0000';

/** Why `file` is not a SQLite database the viewer can read, or null when it is. Opened read-only, schema untrusted. */
function sqliteProblem(file: string, nativeBinding?: string): string | null {
  const head = readFileSync(file).subarray(0, 16).toString('latin1');
  if (head !== sqliteMagic) return 'the snapshot is not a SQLite database (its header is wrong)';
  try {
    const check = quickCheckSnapshot(file, nativeBinding);
    if (check !== 'ok') return `the snapshot is a damaged SQLite database (${String(check)})`;
    return null;
  } catch (error) {
    return `the snapshot is not a readable SQLite database (${(error as Error).message})`;
  }
}

const decode = (data: Uint8Array) => new TextDecoder().decode(data);

const auditSegmentSchema = z.object({
  fromSeq: z.number().int().nullable(),
  toSeq: z.number().int().nullable(),
  anchorHash: z.string(),
  headHash: z.string(),
  rows: z.array(
    z.object({
      seq: z.number().int(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      subject: z.string(),
      before: z.string().nullable(),
      after: z.string().nullable(),
      reason: z.string().nullable(),
      prev_hash: z.string(),
      hash: z.string(),
    }),
  ),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Which of the snapshot's tables and rows changed, from the page hashes and row counts in the manifest. */
function snapshotDifference(data: Uint8Array, manifest: Manifest, nativeBinding?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rw-snapshot-check-'));
  const file = join(dir, 'period.sqlite');
  writeFileSync(file, data);
  try {
    const differences = explainSnapshotFileChange(file, data, manifest.snapshot, nativeBinding);
    return `the snapshot's data was edited: ${differences.join('; ')}`;
  } catch (error) {
    return `the snapshot is no longer a readable SQLite database (${(error as Error).message})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
