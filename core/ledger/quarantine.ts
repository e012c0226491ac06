import type { Database } from 'better-sqlite3';
import type { ExceptionStore } from './exceptions';
import type { QuarantinedRecord } from '../net/tolerant';
import type { Clock } from '../ports';

// One record that cannot be read never stops a feed: it is kept here exactly as it was sent, with what was wrong,
// raised as MALFORMED_RECORD for a person, and skipped; the rest of its page and the feed's cursor go on. A later
// read of the same record that parses releases it and closes the exception.

/** The exception's subject: one per record, across every read of it. */
export const quarantineSubject = (operation: string, key: string) => `${operation}:${key}`;

export function createQuarantine(db: Database, clock: Clock, exceptions: ExceptionStore) {
  const iso = () => new Date(clock.now()).toISOString();
  const upsert = db.prepare(`INSERT INTO quarantined_records (operation, record_key, raw, problem, first_seen_at, last_seen_at)
    VALUES (@operation, @key, @raw, @problem, @now, @now)
    ON CONFLICT (operation, record_key) DO UPDATE SET raw = excluded.raw, problem = excluded.problem, last_seen_at = excluded.last_seen_at,
      times_seen = quarantined_records.times_seen + 1, released_at = NULL`);
  const release = db.prepare(`UPDATE quarantined_records SET released_at = @now WHERE operation = @operation AND record_key = @key AND released_at IS NULL`);
  const held = db.prepare('SELECT record_key FROM quarantined_records WHERE operation = ? AND released_at IS NULL ORDER BY last_seen_at LIMIT ?');

  return {
    /** Keeps each record aside and raises (or refreshes) its MALFORMED_RECORD. */
    hold(records: readonly QuarantinedRecord[], context: { returnId?: string } = {}): void {
      if (records.length === 0) return;
      const now = iso();
      db.transaction(() => {
        for (const r of records) {
          upsert.run({ operation: r.operation, key: r.key, raw: r.raw, problem: r.problem, now });
          exceptions.raise({
            type: 'MALFORMED_RECORD',
            subjectKey: quarantineSubject(r.operation, r.key),
            returnId: context.returnId ?? (r.operation === 'RT11' && !r.key.startsWith('#') ? r.key : null),
            cause: `${r.operation} sent a record the app cannot act on — ${r.problem}. It was set aside; the rest was read.`,
          });
        }
      })();
    },

    /** These records were just read successfully: any earlier unreadable copy is released and its exception closed. */
    release(operation: string, keys: readonly string[]): void {
      if (keys.length === 0) return;
      const now = iso();
      db.transaction(() => {
        for (const key of keys) {
          if (release.run({ operation, key, now }).changes > 0) {
            exceptions.autoResolve('MALFORMED_RECORD', quarantineSubject(operation, key), `${operation} now sends a readable copy of the record`);
          }
        }
      })();
    },

    /** Records of this operation still held, oldest first: read again by id where the API allows it. */
    heldKeys: (operation: string, limit: number): string[] => (held.all(operation, limit) as { record_key: string }[]).map((r) => r.record_key),
  };
}

export type Quarantine = ReturnType<typeof createQuarantine>;
