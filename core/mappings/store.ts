import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { loadMappings, MappingError, mappingFiles, mappingVersion, parseMappingFile, shippedMappingsDir, type MappingName, type Mappings } from './load';

// The mappings in force for a running core and its engine, and the editor's way to change them. A change is
// validated whole before anything is written; the file is written to a temporary name and renamed over the old one,
// so a crash leaves either the old file or the new one, never half of one. Everyone reading `current()` sees the
// new version from the next call on.

export interface MappingFileView {
  text: string;
  version: string;
  source: 'shipped' | 'edited';
  path: string;
}

export type ParsedMapping<N extends MappingName> = z.output<(typeof mappingFiles)[N]['schema']>;

export type MappingCheck<N extends MappingName> = { ok: true; value: ParsedMapping<N>; version: string } | { ok: false; problems: { path: string; message: string }[] };

export function createMappingStore(shippedDir: string = shippedMappingsDir, userDir: string) {
  let current: Mappings = loadMappings(shippedDir, userDir);

  const userFile = (name: MappingName) => join(userDir, mappingFiles[name].file);

  return {
    current: (): Mappings => current,

    file(name: MappingName): MappingFileView {
      const path = current.sources[name];
      return { text: readFileSync(path, 'utf8'), version: current.versions[name], source: path === userFile(name) ? 'edited' : 'shipped', path };
    },

    /** Parses a candidate text as the file it would replace; problems name the path inside the file. */
    check<N extends MappingName>(name: N, text: string): MappingCheck<N> {
      try {
        const value = parseMappingFile(mappingFiles[name].file, text, mappingFiles[name].schema) as ParsedMapping<N>;
        return { ok: true, value, version: mappingVersion(name, value as { version: number }, text) };
      } catch (error) {
        if (error instanceof MappingError) return { ok: false, problems: error.problems };
        throw error;
      }
    },

    /**
     * Writes a text that `check` accepted next to the user's copy, fsynced. `commit()` renames it over the copy and
     * reloads every file (call it inside the transaction that records the change); `discard()` removes what is left.
     */
    stage(name: MappingName, text: string): { commit(): Mappings; discard(): void } {
      mkdirSync(userDir, { recursive: true });
      const target = userFile(name);
      const temporary = `${target}.${process.pid}.tmp`;
      const fd = openSync(temporary, 'w');
      try {
        writeFileSync(fd, text, 'utf8');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return {
        commit: () => {
          renameSync(temporary, target);
          current = loadMappings(shippedDir, userDir);
          return current;
        },
        discard: () => {
          if (existsSync(temporary)) rmSync(temporary);
        },
      };
    },
  };
}

export type MappingStore = ReturnType<typeof createMappingStore>;
