import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../adapters/fake-clock';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { createAuditLog, type AuditLog } from './log';

// Tampering is simulated the way someone with the file would do it: outside the app, after dropping the triggers.
describe('audit log', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let audit: AuditLog;
  const clock = createFakeClock();

  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    audit = createAuditLog(store.db, clock);
    for (let i = 1; i <= 5; i++) {
      clock.advance(60_000);
      audit.append({ actor: 'ana@finance', action: 'exception.resolve', subject: `exception:${i}`, before: { state: 'open' }, after: { state: 'resolved' }, reason: `checked ${i}` });
    }
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  const tamper = (sql: string) => {
    store.close();
    const raw = new Database(join(temp.dir, 'workbench.sqlite'));
    raw.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    raw.exec(sql);
    raw.close();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    audit = createAuditLog(store.db, clock);
  };

  it('verifies an untouched chain', () => {
    expect(audit.verify()).toEqual({ ok: true, entries: 5, problems: [] });
  });

  it('refuses updates and deletes through SQLite itself', () => {
    expect(() => store.db.prepare(`UPDATE audit_log SET reason = 'x' WHERE seq = 2`).run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
  });

  it('detects an edited row', () => {
    tamper(`UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3`);
    expect(audit.verify().problems).toEqual([{ seq: 3, kind: 'edited', detail: expect.any(String) }]);
  });

  it('detects a deleted row', () => {
    tamper('DELETE FROM audit_log WHERE seq = 2');
    const problems = audit.verify().problems;
    expect(problems.map((p) => [p.seq, p.kind])).toContainEqual([3, 'missing_or_reordered']);
    expect(problems.map((p) => p.kind)).toContain('sequence_gap');
  });

  it('detects reordered rows', () => {
    tamper(`UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 100;`);
    const problems = audit.verify().problems;
    expect(problems.some((p) => p.kind === 'missing_or_reordered' || p.kind === 'edited')).toBe(true);
    expect(audit.verify().ok).toBe(false);
  });

  it('keeps appending correctly after a reopen', () => {
    store.close();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    audit = createAuditLog(store.db, clock);
    audit.append({ actor: 'cs-lead', action: 'refund.override', subject: 'return:R-1', reason: 'customer sent photos' });
    expect(audit.verify()).toEqual({ ok: true, entries: 6, problems: [] });
    expect(audit.entriesFor('return:R-1')).toHaveLength(1);
  });
});
