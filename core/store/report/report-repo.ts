import type { Database } from 'better-sqlite3';

// What the month-end report service (core/report/service.ts) reads and does to the database itself, beside the facts,
// figures and locks: its transactions, the months with returns, attaching an evidence bundle's snapshot file, and the
// mapping versions recorded on a period's decisions. Each statement is prepared when it is used.

export function createReportRepo(db: Database) {
  return {
    /** Runs `fn` in one transaction: everything it reads sees the same data. */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },

    /** How many returns were opened in each month (YYYY-MM). */
    returnsOpenedByMonth: () =>
      db.prepare(`SELECT substr(date_created, 1, 7) AS period, count(*) AS n FROM mirakl_returns GROUP BY 1`).all() as { period: string; n: number }[],

    /**
     * Runs `fn` with `file` attached as `snap` (a new database, rollback-journalled so it is one file), then detaches
     * it, even when `fn` fails.
     */
    withSnapshotAttached<T>(file: string, fn: () => T): T {
      db.prepare('ATTACH DATABASE ? AS snap').run(file);
      try {
        db.pragma('snap.journal_mode = DELETE');
        return fn();
      } finally {
        db.prepare('DETACH DATABASE snap').run();
      }
    },

    /** The schema version of the database: the last migration applied. */
    schemaVersion: () => (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0,

    /** Mapping versions recorded on the intents created in [from, to), with how many carry each. */
    intentMappingVersions: (p: { from: string; to: string }) =>
      db
        .prepare(`SELECT mapping_version AS version, count(*) AS n FROM intents WHERE mapping_version IS NOT NULL AND created_at >= @from AND created_at < @to GROUP BY 1 ORDER BY 1`)
        .all(p) as { version: string; n: number }[],

    /** Mapping versions recorded on the intake of the returns opened in [from, to), with how many carry each. */
    intakeMappingVersions: (p: { from: string; to: string }) =>
      db
        .prepare(`SELECT i.mapping_version AS version, count(*) AS n FROM return_intake i JOIN mirakl_returns r ON r.id = i.return_id
        WHERE i.mapping_version IS NOT NULL AND r.date_created >= @from AND r.date_created < @to GROUP BY 1 ORDER BY 1`)
        .all(p) as { version: string; n: number }[],
  };
}
