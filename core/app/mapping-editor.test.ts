import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExceptionStore } from '../ledger/exceptions';
import { createRestockLedger } from '../ledger/restock';
import { corePerTest } from '../../test/support/core';

// The mapping editor through the contract: a bad file is refused with the path inside it and nothing is written;
// a preview counts what a change would touch; a save is atomic, audited, in force at once, and re-evaluates what it
// decides (a held return's UNMAPPED_REASON closes, units waiting for a missing offer follow a new SKU override).

describe('mapping editor', () => {
  const app = corePerTest();
  const { db, ok } = app;
  const call = (command: string, input: unknown) => app.core.dispatch(command, input);
  type Files = { files: Record<'reasonCodes' | 'skuOffers' | 'policy', { text: string; version: string; source: string }> };
  const files = () => ok<Files>('mappings.get', {});
  const userFile = (name: string) => join(app.temp.dir, 'mappings', name);

  /** A return held at intake because its reason is not mapped, with its open UNMAPPED_REASON. */
  function heldReturn(id: string, reason: string) {
    app.fixture.returnOf(id);
    db().prepare('UPDATE mirakl_return_lines SET reason_code = ? WHERE return_id = ?').run(reason, id);
    db()
      .prepare(`INSERT INTO return_intake (return_id, stage, last_error, updated_at) VALUES (?, 'blocked', ?, ?)`)
      .run(id, `unmapped reason ${reason}`, new Date(app.clock.now()).toISOString());
    createExceptionStore(db(), app.clock).raise({ type: 'UNMAPPED_REASON', subjectKey: id, returnId: id, cause: `Return reason ${reason} has no mapping` });
  }

  it('shows the shipped files and their versions', async () => {
    const { files: f } = await files();
    expect(f.reasonCodes).toMatchObject({ source: 'shipped', version: expect.stringMatching(/^reasonCodes@v1:[0-9a-f]{12}$/) as string });
    expect(f.policy.text).toContain('cadences:');
    expect(f.skuOffers.text).toContain('overrides: []');
  });

  it('a preview of a bad file names the path inside it and what was expected', async () => {
    const syntax = await ok('mappings.preview', { file: 'reasonCodes', text: 'version: 1\nreasons: [\n' });
    expect(syntax).toMatchObject({ ok: false, problems: [{ path: expect.stringMatching(/^line \d+, column \d+$/) as string }] });

    const missing = await ok('mappings.preview', { file: 'reasonCodes', text: 'version: 1\nreasons:\n  - mirakl: A\n    rebound: B\n' });
    expect(missing).toEqual({ ok: false, problems: [{ path: 'reasons[0].refund', row: 1, where: 'Row 1, Mirakl refund reason', message: expect.stringContaining('is missing') as string }] });

    const cadence = (await files()).files.policy.text.replace(/returnsPollSeconds: \d+/, 'returnsPollSeconds: 60');
    expect(await ok('mappings.preview', { file: 'policy', text: cadence })).toEqual({
      ok: false,
      problems: [{ path: 'cadences.returnsPollSeconds', message: 'Mirakl allows RT11 at most every 5 minutes (300 s)' }],
    });
  });

  it('a problem names the row as the table numbers it (from 1) and the column in the table\'s own words (issue 24)', async () => {
    const text = 'version: 1\nreasons:\n  - mirakl: RETURN_PDNT_TOO_SMALL\n    rebound: Too small\n    refund: "11"\n  - mirakl: RETURN_CM_DONT_LIKE\n    rebound: Did not like it\n';
    const preview = await ok<{ ok: boolean; problems: { path: string; row?: number; where?: string; message: string }[] }>('mappings.preview', { file: 'reasonCodes', text });
    expect(preview).toMatchObject({ ok: false, problems: [{ path: 'reasons[1].refund', row: 2, where: 'Row 2, Mirakl refund reason' }] });
    // Not zod's words ("Invalid input: expected string, received undefined").
    expect(preview.problems[0]?.message).not.toMatch(/invalid input|too small|expected string/i);
    const saved = await call('mappings.save', { file: 'reasonCodes', text });
    expect(saved.ok).toBe(false);
    if (!saved.ok) {
      expect(saved.error.message).toContain('Row 2, Mirakl refund reason');
      expect(saved.error.message).not.toContain('reasons[1]');
    }
  });

  it('a save of a bad file is refused with the path and writes nothing', async () => {
    const result = await call('mappings.save', { file: 'skuOffers', text: 'version: 1\noverrides:\n  - orderSku: A\n' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('VALIDATION');
      expect(result.error.message).toContain('Row 1: needs the returned SKU, and either the Mirakl offer SKU');
      expect(result.error.issues?.[0]?.path).toEqual(['overrides[0]']);
    }
    expect(existsSync(join(app.temp.dir, 'mappings'))).toBe(false);
    expect((await files()).files.skuOffers.source).toBe('shipped');
    expect(db().prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 0 });
  });

  it('mapping a held reason resolves its UNMAPPED_REASON at once and lets the return through', async () => {
    heldReturn('R-1', 'RETURN_DAMAGED_PACKAGING');
    heldReturn('R-2', 'RETURN_SOMETHING_ELSE');
    const before = await files();
    const text = `${before.files.reasonCodes.text.trimEnd()}\n  - mirakl: RETURN_DAMAGED_PACKAGING\n    rebound: Damaged packaging\n    refund: "12"\n`;

    const preview = await ok<{ ok: true; affected: { description: string; count: number; returns?: unknown; money?: unknown }[] }>('mappings.preview', { file: 'reasonCodes', text });
    expect(preview.affected.map((a) => a.count)).toEqual([1, 1, 1, 0, 0]);
    // Which returns, and how much money: the line's two returned units at 25.00 (issue 24).
    expect(preview.affected[2]).toMatchObject({ returns: { total: 1, sample: ['C-1'] }, money: [{ currency: 'GBP', amountMinor: 5000 }] });

    const saved = await ok<{ version: string; auditSeq: number; resolvedExceptions: number; previousVersion: string }>('mappings.save', {
      file: 'reasonCodes',
      text,
      reason: 'new reason in the back office',
      baseVersion: before.files.reasonCodes.version,
    });
    expect(saved.resolvedExceptions).toBe(1);
    expect(saved.previousVersion).toBe(before.files.reasonCodes.version);
    const exceptions = db().prepare(`SELECT return_id, state, resolution FROM exceptions WHERE type = 'UNMAPPED_REASON' ORDER BY return_id`).all();
    expect(exceptions).toEqual([
      { return_id: 'R-1', state: 'resolved', resolution: `auto: every reason of the return is now mapped (${saved.version})` },
      { return_id: 'R-2', state: 'open', resolution: null },
    ]);
    expect(db().prepare(`SELECT return_id, next_attempt_at FROM return_intake ORDER BY return_id`).all()).toEqual([
      { return_id: 'R-1', next_attempt_at: new Date(app.clock.now()).toISOString() },
      { return_id: 'R-2', next_attempt_at: null },
    ]);

    // In force at once, written whole (no temporary file left), and audited with both texts.
    expect(readFileSync(userFile('reason-codes.yaml'), 'utf8')).toBe(text);
    expect(readdirSync(join(app.temp.dir, 'mappings'))).toEqual(['reason-codes.yaml']);
    expect((await files()).files.reasonCodes).toEqual({ text, version: saved.version, source: 'edited' });
    const audit = await ok<{ rows: { seq: number; action: string; subject: string; reason: string; before: { version: string }; after: { version: string; text: string } }[]; total: number }>(
      'audit.list',
      { offset: 0, limit: 5, action: 'mappings.save' },
    );
    expect(audit.total).toBe(1);
    expect(audit.rows[0]).toMatchObject({ seq: saved.auditSeq, subject: 'mapping:reasonCodes', reason: 'new reason in the back office', before: { version: saved.previousVersion }, after: { version: saved.version, text } });
    expect((await ok<{ ok: boolean }>('audit.verify', {})).ok).toBe(true);
  });

  it('refuses a save made on a version that has changed since, and does nothing for an unchanged text', async () => {
    const before = await files();
    const unchanged = await ok<{ auditSeq: number | null; message: string }>('mappings.save', { file: 'policy', text: before.files.policy.text });
    expect(unchanged.auditSeq).toBeNull();
    await ok('settings.setCadences', { ordersPollSeconds: 120 });
    const stale = await call('mappings.save', { file: 'policy', text: before.files.policy.text, baseVersion: before.files.policy.version });
    expect(stale).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('cadences are set in the policy file, comments kept, Mirakl’s floors enforced', async () => {
    const refused = await call('settings.setCadences', { returnsPollSeconds: 120 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION', issues: [{ path: ['returnsPollSeconds'] }] } });
    const saved = await ok<{ version: string }>('settings.setCadences', { ordersPollSeconds: 120, stockStatusSeconds: 30, reason: 'slower' });
    const text = readFileSync(userFile('policy.yaml'), 'utf8');
    expect(text).toContain('ordersPollSeconds: 120');
    expect(text).toContain('stockStatusSeconds: 30');
    expect(text).toContain("# Mirakl's published maximum frequencies are floors");
    expect(saved.version).toMatch(/^policy@v1:/);
    expect(db().prepare(`SELECT cadence_seconds FROM feeds WHERE feed = 'mirakl.orders'`).get()).toEqual({ cadence_seconds: 120 });
  });

  it('changing when refunds go out needs a reason, kept in the audit log', async () => {
    const text = (await files()).files.policy.text.replace('trigger: registered', 'trigger: inspected');
    const refused = await call('mappings.save', { file: 'policy', text });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION', issues: [{ path: ['reason'] }] } });
    app.fixture.returnOf('R-1');
    app.fixture.unit('R-1', 1);
    const preview = await ok<{ ok: true; affected: { description: string; count: number }[] }>('mappings.preview', { file: 'policy', text });
    expect(preview.affected.find((a) => a.description.includes('registered at a hub'))?.count).toBe(1);
    await ok('mappings.save', { file: 'policy', text, reason: 'finance wants graded units only' });
    expect(db().prepare(`SELECT reason FROM audit_log WHERE subject = 'mapping:policy'`).get()).toEqual({ reason: 'finance wants graded units only' });
  });

  it('a SKU override moves units waiting for a missing offer, closes OFFER_NOT_FOUND, and never moves restored stock', async () => {
    app.fixture.returnOf('R-1');
    app.fixture.unit('R-1', 1, 'graded');
    app.fixture.unit('R-1', 2, 'graded');
    const now = new Date(app.clock.now()).toISOString();
    const increment = db().prepare(`INSERT INTO stock_increments (unit_id, offer_sku, state, created_at, updated_at) VALUES (?, 'SKU', ?, ?, ?)`);
    increment.run('R-1:L-1:1', 'pending', now, now);
    increment.run('R-1:L-1:2', 'applied', now, now);
    createExceptionStore(db(), app.clock).raise({ type: 'OFFER_NOT_FOUND', subjectKey: 'SKU', offerSku: 'SKU', cause: 'no offer SKU' });
    const text = 'version: 2\noverrides:\n  - orderSku: SKU\n    offerSku: SKU-2027\n';

    const preview = await ok<{ ok: true; affected: { description: string; count: number }[] }>('mappings.preview', { file: 'skuOffers', text });
    expect(preview.affected.map((a) => a.count)).toEqual([1, 1, 0, 0, 1, 0]);
    const saved = await ok<{ resolvedExceptions: number; version: string }>('mappings.save', { file: 'skuOffers', text });
    expect(saved.resolvedExceptions).toBe(1);
    expect(saved.version).toMatch(/^skuOffers@v2:/);
    expect(db().prepare('SELECT unit_id, offer_sku, state FROM stock_increments ORDER BY unit_id').all()).toEqual([
      { unit_id: 'R-1:L-1:1', offer_sku: 'SKU-2027', state: 'pending' },
      { unit_id: 'R-1:L-1:2', offer_sku: 'SKU', state: 'applied' },
    ]);

    // Never restocked from now on: the unit still waiting is skipped; taking the line out brings it back.
    await ok('mappings.save', { file: 'skuOffers', text: 'version: 3\noverrides:\n  - orderSku: SKU\n    restock: false\n' });
    expect(db().prepare(`SELECT state FROM stock_increments WHERE unit_id = 'R-1:L-1:1'`).get()).toEqual({ state: 'skipped' });
    await ok('mappings.save', { file: 'skuOffers', text: 'version: 4\noverrides: []\n' });
    expect(db().prepare(`SELECT offer_sku, state FROM stock_increments WHERE unit_id = 'R-1:L-1:1'`).get()).toEqual({ offer_sku: 'SKU', state: 'pending' });
  });

  it('a SKU override never releases units held for a person (restore, earlier copy); units Mirakl refused still follow it', async () => {
    app.fixture.returnOf('R-1');
    for (const n of [1, 2, 3]) app.fixture.unit('R-1', n, 'graded');
    db().prepare(`UPDATE units SET is_sellable = 1`).run();
    // L-1:2 was graded by a return order an earlier copy of the database made: its restock is in doubt (intake.ts).
    db().prepare(`UPDATE units SET restock_in_doubt = 'restored database: made by an earlier copy' WHERE id = 'R-1:L-1:2'`).run();
    const restock = createRestockLedger(db(), app.clock);
    const planned = restock.planSellableUnits((sku) => ({ kind: 'offer', sku }));
    expect(planned.heldForPerson).toEqual(new Map([['SKU', 1]]));
    // L-1:3 goes out in an import Mirakl refuses (proven not applied); R-1:L-1:1 is held by a restore's settlement.
    expect(restock.claimForImport(7, [{ sku: 'SKU', from: 0, to: 1, units: ['R-1:L-1:3'] }])).toHaveLength(1);
    expect(restock.holdForPerson('SKU', 'restored database: not shown as already on sale (test); waiting for a person')).toBe(1);
    expect(restock.markRejected(7, 'offer not found')).toBe(1);
    const rows = () => db().prepare('SELECT unit_id, offer_sku, state FROM stock_increments ORDER BY unit_id').all();
    const held = [
      { unit_id: 'R-1:L-1:1', offer_sku: 'SKU', state: 'rejected' },
      { unit_id: 'R-1:L-1:2', offer_sku: 'SKU', state: 'rejected' },
    ];
    type Preview = { ok: true; affected: { description: string; count: number }[] };

    const move = 'version: 2\noverrides:\n  - orderSku: SKU\n    offerSku: SKU-2027\n';
    expect((await ok<Preview>('mappings.preview', { file: 'skuOffers', text: move })).affected.map((a) => a.count)).toEqual([1, 1, 0, 0, 0, 2]);
    await ok('mappings.save', { file: 'skuOffers', text: move });
    expect(rows()).toEqual([...held, { unit_id: 'R-1:L-1:3', offer_sku: 'SKU-2027', state: 'pending' }]);

    const never = 'version: 3\noverrides:\n  - orderSku: SKU\n    restock: false\n';
    expect((await ok<Preview>('mappings.preview', { file: 'skuOffers', text: never })).affected.map((a) => a.count)).toEqual([1, 0, 1, 0, 0, 2]);
    await ok('mappings.save', { file: 'skuOffers', text: never });
    expect(rows()).toEqual([...held, { unit_id: 'R-1:L-1:3', offer_sku: 'SKU-2027', state: 'skipped' }]);

    const back = 'version: 4\noverrides: []\n';
    expect((await ok<Preview>('mappings.preview', { file: 'skuOffers', text: back })).affected.map((a) => a.count)).toEqual([1, 0, 0, 1, 0, 2]);
    await ok('mappings.save', { file: 'skuOffers', text: back });
    expect(rows()).toEqual([...held, { unit_id: 'R-1:L-1:3', offer_sku: 'SKU', state: 'pending' }]);

    // Only a person's decision on the exception releases them (retry here); then they follow the mapping again.
    const mapping = (sku: string) => ({ kind: 'offer' as const, sku });
    expect(restock.restockHeld('SKU', 'restore', mapping).restocked + restock.restockHeld('SKU', 'earlier_copy', mapping).restocked).toBe(2);
    await ok('mappings.save', { file: 'skuOffers', text: move.replace('version: 2', 'version: 5') });
    expect(rows()).toEqual([
      { unit_id: 'R-1:L-1:1', offer_sku: 'SKU-2027', state: 'pending' },
      { unit_id: 'R-1:L-1:2', offer_sku: 'SKU-2027', state: 'pending' },
      { unit_id: 'R-1:L-1:3', offer_sku: 'SKU-2027', state: 'pending' },
    ]);
  });

  it('a unit in doubt the mapping skipped, brought back by it, is held on its new offer and asked of a person', async () => {
    app.fixture.returnOf('R-1');
    app.fixture.unit('R-1', 1, 'graded');
    db().prepare(`UPDATE units SET is_sellable = 1, restock_in_doubt = 'restored database: made by an earlier copy'`).run();
    await ok('mappings.save', { file: 'skuOffers', text: 'version: 2\noverrides:\n  - orderSku: SKU\n    restock: false\n' });
    const restock = createRestockLedger(db(), app.clock);
    restock.planSellableUnits(() => ({ kind: 'skip' }));
    const row = () => db().prepare('SELECT offer_sku, state, skipped_by, held, note FROM stock_increments').get();
    expect(row()).toMatchObject({ offer_sku: 'SKU', state: 'skipped', skipped_by: 'mapping', held: 'earlier_copy' });

    const move = 'version: 3\noverrides:\n  - orderSku: SKU\n    offerSku: SKU-2027\n';
    expect((await ok<{ affected: { count: number }[] }>('mappings.preview', { file: 'skuOffers', text: move })).affected.map((a) => a.count)).toEqual([1, 0, 0, 0, 0, 1]);
    await ok('mappings.save', { file: 'skuOffers', text: move });
    expect(row()).toEqual({ offer_sku: 'SKU-2027', state: 'rejected', skipped_by: null, held: 'earlier_copy', note: 'restored database: made by an earlier copy; waiting for a person' });
    expect(db().prepare(`SELECT subject_key, offer_sku FROM exceptions WHERE type = 'RESTOCK_UNCERTAIN' AND state != 'resolved'`).all()).toEqual([
      { subject_key: 'SKU-2027:earlier-copy', offer_sku: 'SKU-2027' },
    ]);
    await ok('mappings.save', { file: 'skuOffers', text: 'version: 4\noverrides: []\n' });
    expect(row()).toMatchObject({ offer_sku: 'SKU-2027', state: 'rejected', held: 'earlier_copy' });
  });

  it('units the mapping skipped that may be on sale after a restore stay skipped through mapping edits until a person skips them', async () => {
    app.fixture.returnOf('R-1');
    app.fixture.unit('R-1', 1, 'graded');
    db().prepare(`UPDATE units SET is_sellable = 1`).run();
    const never = 'version: 2\noverrides:\n  - orderSku: SKU\n    restock: false\n';
    await ok('mappings.save', { file: 'skuOffers', text: never });
    const restock = createRestockLedger(db(), app.clock);
    const since = new Date(app.clock.now()).toISOString();
    restock.planSellableUnits(() => ({ kind: 'skip' }));
    // As the restore's settlement does before it asks (stock.ts raiseSkippedOnSale, ...:never-restock-unknown).
    expect(restock.holdSkippedForPerson('SKU', since)).toBe(1);
    const row = () => db().prepare('SELECT offer_sku, state, skipped_by, held FROM stock_increments').get();
    const back = 'version: 3\noverrides: []\n';
    expect((await ok<{ affected: { count: number }[] }>('mappings.preview', { file: 'skuOffers', text: back })).affected.map((a) => a.count)).toEqual([1, 0, 0, 0, 0, 1]);
    await ok('mappings.save', { file: 'skuOffers', text: back });
    expect(row()).toEqual({ offer_sku: 'SKU', state: 'skipped', skipped_by: 'mapping', held: 'never_restock' });
    // The person's skip keeps them skipped for good: the listing was set right with them off sale.
    expect(restock.skipHeldSkipped('SKU', 'skipped by ops: counted the shelf')).toBe(1);
    expect(row()).toEqual({ offer_sku: 'SKU', state: 'skipped', skipped_by: 'person', held: null });
    await ok('mappings.save', { file: 'skuOffers', text: never.replace('version: 2', 'version: 4') });
    await ok('mappings.save', { file: 'skuOffers', text: 'version: 5\noverrides: []\n' });
    expect(row()).toEqual({ offer_sku: 'SKU', state: 'skipped', skipped_by: 'person', held: null });
  });

  it('lists the audit log newest first, paged and filtered', async () => {
    for (const n of [120, 180, 240]) await ok('settings.setCadences', { ordersPollSeconds: n, reason: `try ${n}` });
    const page = await ok<{ rows: { seq: number; reason: string }[]; total: number }>('audit.list', { offset: 1, limit: 1 });
    expect(page).toEqual({ rows: [expect.objectContaining({ seq: 2, reason: 'try 180' })], total: 3 });
    expect((await ok<{ total: number }>('audit.list', { actor: 'someone else' })).total).toBe(0);
    expect(await call('audit.list', { limit: 501 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
  });
});
