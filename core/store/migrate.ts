import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../ports';

// Migrations are forward-only: an applied file must never change, and numbering must have no gaps. Either
// condition means the database and the code disagree about the schema, so we refuse to start.

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  sha256: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const migrations = files.map((file): Migration => {
    const match = fileNamePattern.exec(file);
    if (!match) throw new MigrationError(`Migration file name "${file}" in ${dir} must look like 0001_some_name.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version: Number(match[1]), name: match[2] ?? '', file, sql, sha256: sha256(sql) };
  });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(
        `Migration numbering has a gap or duplicate in ${dir}: expected ${String(i + 1).padStart(4, '0')}_*.sql but found ${m.file}`,
      );
    }
  });
  return migrations;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function migrate(db: Database, migrations: Migration[], clock: Clock): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const applied = db
    .prepare('SELECT version, name, sha256 FROM schema_migrations ORDER BY version')
    .all() as { version: number; name: string; sha256: string }[];

  applied.forEach((row, i) => {
    if (row.version !== i + 1) {
      throw new MigrationError(`The database records migration ${row.version} without migration ${i + 1} before it.`);
    }
    const known = migrations[i];
    if (!known) {
      throw new MigrationError(
        `The database was migrated by a newer Returns Workbench (it has migration ${row.version} "${row.name}", this version knows ${migrations.length}).`,
      );
    }
    if (known.sha256 !== row.sha256) {
      throw new MigrationError(
        `Migration ${known.file} was changed after it was applied (recorded sha256 ${row.sha256.slice(0, 12)}…, file now ${known.sha256.slice(0, 12)}…). ` +
          'Applied migrations are frozen: add a new numbered migration instead.',
      );
    }
  });

  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (@version, @name, @sha256, @appliedAt)',
  );
  for (const m of migrations.slice(applied.length)) {
    const apply = db.transaction(() => {
      db.exec(m.sql);
      record.run({ version: m.version, name: m.name, sha256: m.sha256, appliedAt: new Date(clock.now()).toISOString() });
    });
    try {
      apply();
    } catch (error) {
      throw new MigrationError(`Migration ${m.file} failed and was rolled back: ${(error as Error).message}`);
    }
  }
  return migrations.length;
}

/** The schema as text, stable across runs, for the committed snapshot. */
export function dumpSchema(db: Database): string {
  const rows = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_schema
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name`,
    )
    .all() as { type: string; name: string; sql: string }[];
  return rows.map((r) => `-- ${r.type}: ${r.name}\n${r.sql.trim()};\n`).join('\n');
}
