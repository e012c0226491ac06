import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOctoberBundle } from '../../test/support/bundle-fixture';
import { manifestOf, readZip, reseal, symlinkAttrs, writeZip, type ManifestLike, type ZipEntry } from '../../test/support/bundle-zip';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import { openBundle, type OpenedBundle } from './bundle';
import { openBundleViewer } from '../app/bundle-host';

// The bundle opener against mutated bundles, with a fixed seed so a failure is the same on every run: hostile names,
// sizes, manifest fields, duplicate, folder and symlink entries, truncations and random bytes. Over every bundle:
// no crash, no file written outside the extraction folder (and no link anywhere), the extraction folder always
// removed, and every outcome either "verified" — only for a bundle whose files are the ones sealed, or one a forger
// resealed — or a listed problem.

const seed = 0x21_2026;
const bundles = 1200;
/** One bundle in this many also goes through the viewer (a private copy with indexes, the read-only contract). */
const viewerEvery = 25;

/** mulberry32: a small seeded generator, enough to pick mutations. */
function rng(start: number) {
  let a = start >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof rng>;

const hostileNames = [
  '..\\..\\..\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\x.bat',
  '../../escaped.txt',
  'report/../../escaped.txt',
  '/tmp/escaped.txt',
  'C:\\escaped.txt',
  'C:escaped.txt',
  'report/a:stream',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'report/__proto__',
  'report/CON',
  'report/x.',
  'report/\u0000nul',
  'report//double',
  './manifest.json',
  'manifest.json/',
  'snapshot/period.sqlite/',
  'snapshot/../snapshot/period.sqlite',
  'x'.repeat(300),
  'report/ünïcödé.csv',
];
const folders = ['audit/', 'mappings/', 'report/', 'snapshot/', '__proto__/', '../'];

interface Case {
  entries: ZipEntry[];
  /** The zip's bytes, when a mutation works on them rather than on the entries. */
  raw?: Uint8Array;
  /** Files and manifest as sealed: must verify. */
  isUnchanged: boolean;
  /** A forger rewrote the manifest and its seal: may verify with other content (a bundle is sealed, not signed). */
  isResealed: boolean;
  what: string[];
}

function mutateManifest(r: Rng, manifest: ManifestLike, names: string[]): string {
  const values: unknown[] = [null, -1, 0, 2 ** 53, 'x', '', '../../other.sqlite', '__proto__', 'constructor', [], {}, true, 'report/returns-report-2026-10.json', 'snapshot/period.sqlite'];
  const target = r.int(9);
  const value = r.pick(values);
  const m = manifest as Record<string, unknown> & ManifestLike;
  switch (target) {
    case 0:
      m.snapshot.path = String(r.pick(['../../other.sqlite', 'snapshot/other.sqlite', 'report/returns-report-2026-10.json', '/etc/passwd', 'snapshot\\period.sqlite']));
      return 'manifest snapshot.path';
    case 1:
      m.report.path = String(r.pick(['constructor', 'toString', '../x.json', 'report/missing.json', 'audit/segment.json']));
      return 'manifest report.path';
    case 2: {
      const f = m.files[r.int(m.files.length)];
      if (f) f.path = String(r.pick([...hostileNames, ...names]));
      return 'manifest file path';
    }
    case 3: {
      const f = m.files[r.int(m.files.length)];
      if (f) f.bytes = r.pick([0, -1, 1e12, f.bytes + 1]);
      return 'manifest file size';
    }
    case 4:
      m.files.push({ path: r.pick([...hostileNames, ...names]), bytes: r.int(100), sha256: '0'.repeat(64) });
      return 'manifest extra file';
    case 5:
      m.files = m.files.slice(0, r.int(m.files.length));
      return 'manifest files dropped';
    case 6:
      (m as Record<string, unknown>)[r.pick(['format', 'period', 'snapshot', 'audit', 'mappings', 'report', 'files', 'sourceMode'])] = value;
      return 'manifest field replaced';
    case 7:
      (m.snapshot as Record<string, unknown>).tables = JSON.parse(r.pick(['{"__proto__": 1}', '{"constructor": -1}', '{"mirakl_returns": 999}', '[]'])) as unknown;
      return 'manifest tables';
    default:
      m.audit.path = String(r.pick(['../audit.json', 'audit/other.json', 'toString']));
      return 'manifest audit.path';
  }
}

/** One mutated bundle. */
function mutate(r: Rng, original: ZipEntry[]): Case {
  const names = original.map((e) => e.name);
  let entries = original.map((e) => ({ ...e }));
  const c: Case = { entries, isUnchanged: true, isResealed: false, what: [] };
  const roll = r.next();
  if (roll < 0.04) {
    c.what.push('unchanged');
    return c;
  }
  if (roll < 0.08) {
    // Re-zipped: folder entries, another order, some stored. Same files, same manifest: it verifies.
    entries = [...folders.slice(0, 4).map((name) => ({ name, data: new Uint8Array(0) })), ...entries.reverse().map((e) => ({ ...e, isStored: r.next() < 0.5 }))];
    return { entries, isUnchanged: true, isResealed: false, what: ['re-zipped'] };
  }
  c.isUnchanged = false;
  const steps = 1 + r.int(3);
  for (let s = 0; s < steps; s++) {
    const kind = r.int(12);
    const i = r.int(entries.length);
    const entry = entries[i] as ZipEntry;
    switch (kind) {
      case 0:
        entry.name = r.pick(hostileNames);
        c.what.push(`renamed to ${JSON.stringify(entry.name).slice(0, 40)}`);
        break;
      case 1:
        entries.push({ name: r.pick([...hostileNames, ...names]), data: r.next() < 0.5 ? entry.data : r.bytes(r.int(2000)) });
        c.what.push('extra or duplicate entry');
        break;
      case 2:
        entries.splice(r.int(entries.length), 0, { name: r.pick(folders), data: r.next() < 0.3 ? r.bytes(10) : new Uint8Array(0) });
        c.what.push('folder entry');
        break;
      case 3:
        entries.push({ name: r.pick([...names, 'report/link', '__proto__']), data: new TextEncoder().encode(r.pick(['/etc/passwd', '../../../../tmp', 'C:\\Windows'])), attrs: symlinkAttrs });
        c.what.push('symlink entry');
        break;
      case 4:
        entry.data = entry.data.subarray(0, r.int(entry.data.byteLength + 1));
        c.what.push(`truncated ${entry.name}`);
        break;
      case 5: {
        const data = entry.data.slice();
        for (let k = 0; k < 1 + r.int(8); k++) if (data.byteLength) data[r.int(data.byteLength)] = r.int(256);
        entry.data = data;
        c.what.push(`flipped bytes of ${entry.name}`);
        break;
      }
      case 6:
        entry.data = r.bytes(r.int(70_000));
        c.what.push(`random bytes as ${entry.name}`);
        break;
      case 7:
        entries.splice(i, 1);
        c.what.push(`removed ${entry.name}`);
        break;
      case 8:
        // 2 MiB of zeros: past the ratio floor, refused by its ratio.
        entries.push({ name: r.pick(['report/zeros.csv', 'snapshot/period.sqlite']), data: new Uint8Array(2 * 1024 * 1024) });
        c.what.push('compression bomb');
        break;
      case 9: {
        let m: ManifestLike;
        try {
          m = manifestOf(entries);
        } catch {
          c.what.push('manifest already unreadable');
          break;
        }
        c.what.push(mutateManifest(r, m, names));
        entries = entries.map((e) => (e.name === 'manifest.json' ? { name: e.name, data: new TextEncoder().encode(JSON.stringify(m)) } : e));
        break;
      }
      case 10:
        entry.isStored = !entry.isStored;
        c.what.push('stored instead of deflated');
        break;
      default:
        entries = entries.map((e) => (e.name.startsWith('mappings/') ? { ...e, data: new TextEncoder().encode(r.pick(['version: [', 'version: 1\nreasons: 7\n', 'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'])) } : e));
        c.what.push('bad mapping files');
    }
  }
  // Half of them resealed, as a forger would: the manifest lists the files as they now are.
  if (entries.some((e) => e.name === 'manifest.json') && r.next() < 0.5) {
    try {
      const m = manifestOf(entries);
      const edit = r.next() < 0.5 ? (x: ManifestLike) => void mutateManifest(r, x, names) : () => undefined;
      entries = reseal(entries, (x) => {
        x.snapshot = { ...m.snapshot, ...x.snapshot };
        edit(x);
      });
      c.isResealed = true;
      c.what.push('resealed');
    } catch {
      c.what.push('manifest not JSON: not resealed');
    }
  }
  c.entries = entries;
  const zipRoll = r.next();
  if (zipRoll < 0.06) {
    const zip = writeZip(entries);
    c.raw = zip.subarray(0, r.int(zip.byteLength));
    c.what.push('zip truncated');
  } else if (zipRoll < 0.12) {
    const zip = writeZip(entries);
    for (let k = 0; k < 1 + r.int(16); k++) zip[r.int(zip.byteLength)] = r.int(256);
    c.raw = zip;
    c.what.push('zip bytes flipped');
  } else if (zipRoll < 0.14) {
    c.raw = r.bytes(r.int(5000));
    c.what.push('random bytes for a zip');
  }
  return c;
}

/** Every file, folder and link under `dir`. */
function walk(dir: string): { path: string; isLink: boolean; isDir: boolean }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    return [{ path, isLink: stat.isSymbolicLink(), isDir: stat.isDirectory() }, ...(stat.isDirectory() ? walk(path) : [])];
  });
}

describe('bundle opener fuzz', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let original: ZipEntry[];
  let sealed: Map<string, string>;

  beforeAll(async () => {
    temp = makeTempDir('rw-bundle-fuzz-');
    original = readZip((await makeOctoberBundle(join(temp.dir, 'source'))).bytes);
    sealed = new Map(manifestOf(original).files.map((f) => [f.path, f.sha256]));
  });
  afterAll(() => temp.remove());

  it(`opens ${bundles} mutated bundles (seed ${seed}): no crash, no escape, nothing left behind, every outcome verified or a listed problem`, async () => {
    const r = rng(seed);
    const started = performance.now();
    const tally = { tried: 0, crashes: 0, escapes: 0, leftovers: 0, verified: 0, unchanged: 0, withProblems: 0, falselyVerified: 0, viewer: 0 };
    const kinds = new Map<string, number>();
    const failures: string[] = [];
    const viewerOptions = { clock: createFakeClock(Date.UTC(2026, 10, 5)), log: silentLogger, appVersion: 'fuzz' };

    for (let n = 0; n < bundles; n++) {
      const c = mutate(r, original);
      const root = join(temp.dir, 'cases', String(n));
      mkdirSync(join(root, 'a', 'b'), { recursive: true });
      const file = join(root, 'bundle.zip');
      writeFileSync(file, c.raw ?? writeZip(c.entries));
      const extractTo = join(root, 'a', 'b', 'extract');
      // Now and then the folder to extract into already holds a link leading out of it: refused, never followed.
      const isLinkPlanted = r.next() < 0.02;
      if (isLinkPlanted) {
        mkdirSync(extractTo);
        symlinkSync(join(root, 'a'), join(extractTo, 'report'));
      }
      const isViewer = n % viewerEvery === 0;
      tally.tried++;
      let opened: OpenedBundle | null = null;
      try {
        if (isViewer) {
          tally.viewer++;
          const viewer = openBundleViewer(file, viewerOptions);
          opened = viewer.opened;
          const info = await viewer.dispatch('app.info', {});
          const list = await viewer.dispatch('returns.list', {});
          if (!info.ok || (!list.ok && list.error.code !== 'NOT_FOUND')) failures.push(`#${n} viewer answered ${JSON.stringify([info, list]).slice(0, 200)}`);
          const dir = opened.dir;
          viewer.close();
          if (dir && existsSync(dir)) tally.leftovers++;
        } else {
          opened = openBundle(file, { extractTo });
        }
      } catch (error) {
        tally.crashes++;
        failures.push(`#${n} [${c.what.join(', ')}] threw ${(error as Error).stack ?? String(error)}`);
        continue;
      }

      // Nothing outside the extraction folder but what the case itself made; no link anywhere but the planted one.
      for (const entry of walk(root)) {
        const rel = relative(root, entry.path);
        const isInside = entry.path === extractTo || entry.path.startsWith(extractTo + sep);
        const isCaseOwn = ['bundle.zip', 'a', join('a', 'b')].includes(rel);
        const isPlanted = isLinkPlanted && entry.path === join(extractTo, 'report');
        if ((!isInside && !isCaseOwn) || (entry.isLink && !isPlanted)) {
          tally.escapes++;
          failures.push(`#${n} [${c.what.join(', ')}] wrote ${rel}${entry.isLink ? ' (a link)' : ''}`);
        }
      }
      // A failed open leaves no folder; a successful one leaves exactly the listed files (which the caller removes).
      if (!isViewer && opened.dir === null && !isLinkPlanted && existsSync(extractTo) && walk(extractTo).length > 0) {
        tally.leftovers++;
        failures.push(`#${n} [${c.what.join(', ')}] left ${walk(extractTo).length} files after failing`);
      }

      if (opened.verified !== (opened.problems.length === 0)) failures.push(`#${n} verified=${opened.verified} with ${opened.problems.length} problems`);
      for (const p of opened.problems) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
      if (opened.verified) {
        tally.verified++;
        if (c.isUnchanged) tally.unchanged++;
        // Verified means the files are the ones sealed — or a forger resealed them (sealed, not signed).
        const same = (opened.manifest?.files ?? []).every((f) => sealed.get(f.path) === f.sha256) && opened.manifest?.files.length === sealed.size;
        if (!same && !c.isResealed) {
          tally.falselyVerified++;
          failures.push(`#${n} [${c.what.join(', ')}] verified with other content`);
        }
        const listed = new Set((opened.manifest?.files ?? []).map((f) => f.path));
        // (The planted link is the case's own: a viewer extracts into a folder of its own and leaves it there.)
        for (const e of walk(extractTo).filter((x) => !x.isDir && !(isLinkPlanted && x.path === join(extractTo, 'report')))) {
          if (!listed.has(relative(extractTo, e.path).split(sep).join('/'))) failures.push(`#${n} extracted an unlisted ${relative(extractTo, e.path)}`);
        }
      } else {
        tally.withProblems++;
        if (c.isUnchanged && !isLinkPlanted) failures.push(`#${n} [${c.what.join(', ')}] an unchanged bundle did not verify: ${JSON.stringify(opened.problems).slice(0, 300)}`);
      }
      if (!isViewer && opened.dir) rmSync(opened.dir, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    }

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const byKind = [...kinds].sort().map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(
      `bundle fuzz (seed ${seed}): ${tally.tried} bundles tried, ${tally.crashes} crashes, ${tally.escapes} escapes, ${tally.leftovers} folders left behind; ` +
        `${tally.verified} verified (${tally.unchanged} unchanged), ${tally.withProblems} with listed problems (${byKind}); ${tally.viewer} through the viewer; ${seconds} s\n`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    expect(tally).toMatchObject({ crashes: 0, escapes: 0, leftovers: 0, falselyVerified: 0 });
    expect(tally.tried).toBeGreaterThanOrEqual(1000);
    expect(tally.unchanged).toBeGreaterThan(0);
  }, 240_000);
});
