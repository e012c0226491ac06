import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { trackWrites, writtenTable } from './changes';

describe('writes announce the tables they changed', () => {
  it('reads the table a write statement changes, whatever its form', () => {
    expect(writtenTable('INSERT INTO intents (kind) VALUES (?)')).toBe('intents');
    expect(writtenTable('insert or ignore into units (id) values (?)')).toBe('units');
    expect(writtenTable(`WITH due AS (SELECT id FROM return_intake WHERE x) UPDATE return_intake SET stage = 'x' WHERE id IN due`)).toBe('return_intake');
    expect(writtenTable('UPDATE exceptions INDEXED BY exceptions_one_open SET cause = ?')).toBe('exceptions');
    expect(writtenTable('DELETE FROM "recon_matches" WHERE id = ?')).toBe('recon_matches');
    expect(writtenTable('INSERT INTO main.stock_increments SELECT * FROM temp.x ON CONFLICT DO UPDATE SET y = 1')).toBe('stock_increments');
    expect(writtenTable('-- INSERT INTO units\nSELECT 1')).toBeNull();
    // Temporary tables and the engine's bookkeeping are not data anyone looks at.
    expect(writtenTable('INSERT INTO temp.scope_return SELECT id FROM mirakl_returns')).toBeNull();
    expect(writtenTable('INSERT INTO request_journal (at) VALUES (?)')).toBeNull();
    expect(writtenTable(`UPDATE sync_cursors SET value = ? WHERE feed = ?`)).toBeNull();
  });

  it('marks a table only when a write changed a row, once per table until taken', () => {
    const db = new Database(':memory:');
    const log = trackWrites(db);
    expect(trackWrites(db)).toBe(log);
    db.exec('CREATE TABLE units (id INTEGER PRIMARY KEY, state TEXT); CREATE TABLE request_journal (id INTEGER PRIMARY KEY)');
    let firsts = 0;
    log.onFirstChange(() => firsts++);
    const insert = db.prepare('INSERT INTO units (id, state) VALUES (?, ?)');
    const update = db.prepare('UPDATE units SET state = ? WHERE id = ?');
    db.prepare('SELECT * FROM units').all();
    update.run('verified', 1);
    expect(log.take()).toEqual([]);
    insert.run(1, 'registered');
    db.transaction(() => update.run('verified', 1))();
    db.prepare('INSERT INTO request_journal DEFAULT VALUES').run();
    expect(log.take()).toEqual(['units']);
    expect(firsts).toBe(1);
    expect(log.take()).toEqual([]);
    db.close();
  });
});
