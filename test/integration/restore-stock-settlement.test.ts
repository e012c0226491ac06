import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchHttp, type HttpPort } from '../../core/net/http';
import { createAuditLog } from '../../core/audit/log';
import { createResolutions } from '../../core/reconcile/resolutions';
import { databaseFileName } from '../../core/store/db';
import type { Harness } from '../support/engine-harness';
import { exportsRead, importElsewhere, incrementState, minute, ourImports, plantPending, sell, stepUntil, stockOf, useQuietStockWorld } from '../support/quiet-stock-world';

// Issue 25, item 3: a database put back from a backup settles, before any stock import goes out, which returned units
// an earlier copy of it already put on sale: Mirakl's quantity now, against what the database put back believed it held,
// less the units sold since. Beliefs it got wrong, found by chaos seeds 117, 84 and 86 with --with-restore:
// - the sales since its belief were never read when the database put back had read none (the first sales read starts at
//   the latest export), so "0 sold since" made every sale look like units already restocked, or hid them;
// - an import of its own confirmed after its latest export was left out of the belief, so the units that import added
//   looked like units an unknown import had added, and a unit graded later was recorded on sale without ever being;
// - the sales that import overwrote were taken for sales it may not have, and its read-back, left open, later took an
//   earlier copy's import for someone else's write.
// In the quiet stock world (test/support/quiet-stock-world.ts).

describe('stock settled after a database is put back from a backup (issue 25)', () => {
  const world = useQuietStockWorld();
  /** Set to an offer: one unit of it sells the moment our next stock import goes out (after its read, before it runs). */
  let sellAsImportGoesOut: string | null = null;
  /** Set: our next stock import never reaches Mirakl, and its answer is a 503 (its outcome unknown to us). */
  let failNextImport = false;
  let current: Harness | null = null;
  const http: HttpPort = async (request) => {
    if ((sellAsImportGoesOut || failNextImport) && request.method === 'POST' && new URL(request.url).pathname === '/api/offers/stock/imports') {
      if (sellAsImportGoesOut) current?.sandbox.world.sellNow(sellAsImportGoesOut, 1);
      sellAsImportGoesOut = null;
      if (failNextImport) {
        failNextImport = false;
        return { status: 503, headers: {}, body: '{}' };
      }
    }
    return fetchHttp(request);
  };
  /** A person's action on an exception, as the app's exception queue sends it. */
  const act = (h: Harness, id: number, action: 'mark_confirmed' | 'mark_failed', reason: string) =>
    createResolutions(h.ctx, createAuditLog(h.store.db, h.clock)).act([id], { action, reason }, 'Sam');
  const start = async (seed: number) => (current = await world.start(seed, { http }));
  const pending = plantPending;

  /**
   * This copy reads its lost import back as not run; as Mirakl's queue may still run it, its unit waits a day (a person
   * is told why within the hour), then goes on sale with a new import.
   */
  const resendOnceToldNotRun = async (h: Harness) => {
    const intentId = importIntents(h)[0]?.id;
    await stepUntil(h, 'a person told the lost import has not run', () => h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').some((e) => e.subject_key === `intent:${intentId}`), 120);
    for (let i = 0; i < 24 * 6; i++) await h.step(10 * minute);
    await stepUntil(h, "this copy's own import of the unit applied", () => ourImports(h).some((o) => o.status === 'COMPLETE'), 120);
  };

  const increment = (h: Harness, unitId: string) =>
    h.store.db.prepare('SELECT state, note, held FROM stock_increments WHERE unit_id = ?').get(unitId) as { state: string; note: string | null; held: string | null } | undefined;
  const appliedOf = (h: Harness, sku: string) =>
    (h.store.db.prepare(`SELECT count(*) AS n FROM stock_increments WHERE offer_sku = ? AND state = 'applied'`).get(sku) as { n: number }).n;
  const salesThrough = (h: Harness) =>
    (h.store.db.prepare(`SELECT value FROM sync_cursors WHERE feed = 'stock.sales_through'`).get() as { value: string } | undefined)?.value ?? null;
  const quarantine = (h: Harness) =>
    h.store.db.prepare('SELECT stock_settled_at, stock_outcome, ended_at, stock_basis FROM restore_quarantines ORDER BY id DESC LIMIT 1').get() as
      | { stock_settled_at: string | null; stock_outcome: string | null; ended_at: string | null; stock_basis: string }
      | undefined;
  const importIntents = (h: Harness) =>
    h.store.db.prepare(`SELECT id, state FROM intents WHERE kind = 'stock.import' ORDER BY id`).all() as { id: number; state: string }[];
  const openExceptions = (h: Harness, sku: string) =>
    h.store.db.prepare(`SELECT type, cause FROM exceptions WHERE offer_sku = ? AND state != 'resolved' ORDER BY id`).all(sku) as { type: string; cause: string }[];


  /**
   * Our stock import of a unit of `sku` runs but its answer is lost, and a unit of `sku` sells as it goes out; a backup is
   * taken. This copy then goes on (the import left to a person after an hour) and restocks a unit of `third`, so the
   * database put back is behind its folder's marker. Returns the backup.
   */
  async function lostAnswerAsUnitSells(h: Harness, sku: string, third: string): Promise<string> {
    h.sandbox.setFaults('mirakl', { STO01: { lostResponseRate: 1 } });
    sellAsImportGoesOut = sku;
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent, its answer lost', () => importIntents(h).some((i) => i.state === 'uncertain'), 30);
    h.sandbox.setFaults('mirakl', {});
    return backUpThenRestock(h, third);
  }

  /** A backup is taken; this copy then restocks a unit of `third`, so the database put back is behind its folder's marker. */
  async function backUpThenRestock(h: Harness, third: string): Promise<string> {
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);
    pending(h, 'R-3:L-1:1', third);
    await stepUntil(h, "this copy's next import applied", () => ourImports(h).some((o) => o.status === 'COMPLETE'), 120);
    return backup;
  }

  /** Our import of a unit of `sku` is taken by Mirakl, its answer lost, and Mirakl's queue holds it `holdMs`: when it may run. */
  async function lostImportHeldInQueue(h: Harness, sku: string, holdMs: number): Promise<number> {
    h.sandbox.setFaults('mirakl', { STO01: { lostResponseRate: 1 } });
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent, its answer lost', () => importIntents(h).some((i) => i.state === 'uncertain'), 30);
    h.sandbox.setFaults('mirakl', {});
    const heldUntil = h.clock.now() + holdMs;
    expect(h.sandbox.world.holdImport(h.sandbox.world.importsList().at(-1)?.importId ?? '', heldUntil)).toBe(true);
    return heldUntil;
  }

  /** The database file put back from `backup`, as a person restoring a backup does; the engine starts again on it. */
  function putBack(h: Harness, backup: string): void {
    const file = join(world.dir(), 'data', databaseFileName);
    h.store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    copyFileSync(backup, file);
    h.reopen();
  }

  it('counts the units sold since its own reading when the database put back had never read the sales', async () => {
    const h = await start(2551);
    const sku = h.sandbox.world.offers()[6]?.shopSku ?? '';
    // OR11 fails while the first export is read (an outage): the database has a reading of the offers, none of the sales.
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 1 } });
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'an export read', () => exportsRead(h).length > 0);
    expect(salesThrough(h)).toBeNull();
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // OR11 answers again; this copy puts the unit back on sale, then a customer buys two units of the offer.
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 0 } });
    await stepUntil(h, 'our import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE'), 30);
    await sell(h, sku, 2);
    for (let i = 0; i < 30; i++) await h.step(minute);

    // Put back while OR11 is failing again: the database reads a new export of the offers before any sales.
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 1 } });
    putBack(h, backup);
    const readBefore = exportsRead(h).length;
    await stepUntil(h, 'an export read after the restore', () => exportsRead(h).length > readBefore, 60);
    expect(salesThrough(h)).toBeNull();
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 0 } });
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);

    // The unit this database no longer knew was imported is recorded as on sale, not held and never imported again.
    expect(increment(h, 'R-1:L-1:1')?.state).toBe('applied');
    expect(increment(h, 'R-1:L-1:1')?.note).toMatch(/already on sale .*2 sold since/);
    expect(openExceptions(h, sku).filter((e) => e.type === 'RESTOCK_UNCERTAIN' || e.type === 'STOCK_OVERWRITTEN')).toEqual([]);
    for (let i = 0; i < 30; i++) await h.step(minute);
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + appliedOf(h, sku));
  }, 120_000);

  it('counts its own import confirmed after its latest export as part of what it believed the offer held', async () => {
    const h = await start(2552);
    const [sku, other] = [h.sandbox.world.offers()[6]?.shopSku ?? '', h.sandbox.world.offers()[9]?.shopSku ?? ''];
    pending(h, 'R-1:L-1:1', sku);
    // Backed up once our import is confirmed applied and before any export has shown it.
    await stepUntil(h, 'our import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE' && (o.toCheck ?? []).includes(sku)), 30);
    const settledAfter = ourImports(h)[0]?.settledAfterExport ?? Infinity;
    expect(exportsRead(h).filter((e) => e.id > settledAfter)).toEqual([]);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // This copy goes on: it restocks a unit of another offer (its claims run past the backup's).
    pending(h, 'R-2:L-1:1', other);
    await stepUntil(h, 'the second import applied', () => ourImports(h).filter((o) => o.status === 'COMPLETE').length >= 2, 60);

    putBack(h, backup);
    // A unit of the first offer is graded after the restore: nothing has put it on sale.
    pending(h, 'R-3:L-1:1', sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);

    // Mirakl's quantity is this database's own import, not an unknown one: the new unit is not on sale.
    expect(increment(h, 'R-1:L-1:1')?.state).toBe('applied');
    expect(increment(h, 'R-3:L-1:1')?.state).not.toBe('applied');
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + appliedOf(h, sku));
    expect(openExceptions(h, sku).filter((e) => e.type === 'STOCK_OVERWRITTEN' || e.type === 'FOREIGN_WRITE')).toEqual([]);
  }, 120_000);

  // Found in review: the settlement waits while the database's own import is still running, and an import Mirakl's
  // status call never answers for (an id it no longer knows, an outage) kept it waiting for ever — and with it every
  // refund. After an hour the offer is unclear and its units wait for a person instead.
  it("settles within a bounded time when its own import's status cannot be read", async () => {
    const h = await start(2554);
    const [sku, other] = [h.sandbox.world.offers()[6]?.shopSku ?? '', h.sandbox.world.offers()[9]?.shopSku ?? ''];
    h.sandbox.setFaults('mirakl', { STO02: { serverErrorRate: 1 } });
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent', () => ourImports(h).some((o) => (o as { importId?: string }).importId !== undefined), 30);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // This copy goes on: its import completes, and it restocks a unit of another offer.
    h.sandbox.setFaults('mirakl', {});
    pending(h, 'R-2:L-1:1', other);
    await stepUntil(h, 'both imports applied', () => ourImports(h).filter((o) => o.status === 'COMPLETE').length >= 2, 60);

    // Put back with the import still running as far as it knows, and Mirakl's status call failing from then on.
    h.sandbox.setFaults('mirakl', { STO02: { serverErrorRate: 1 } });
    putBack(h, backup);
    pending(h, 'R-3:L-1:1', sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 180);

    // Held for a person, not refused by Mirakl: a sku-offers mapping edit leaves it where it is (restock.ts applyMapping).
    expect(increment(h, 'R-3:L-1:1')).toMatchObject({ state: 'rejected', held: 'restore' });
    expect(openExceptions(h, sku).map((e) => e.type)).toContain('RESTOCK_UNCERTAIN');
  }, 120_000);

  // Gap 2 of the review after 1493be3: an import of its own whose answer was lost was read back (probeImport) during the
  // quarantine, against an export that also shows what an earlier copy imported since the backup. Here the earlier copy
  // settled that import applied, then restocked a unit graded after the backup on the same offer, and a customer bought
  // one unit: the read-back took that unit for a sale the lost import had overwritten and told a person to lower the
  // offer by one, which would take a returned unit off sale with nothing left open to say so.
  it("judges its own import whose answer was lost with the units an earlier copy imported since, not as sales it overwrote", async () => {
    const h = await start(2555);
    const sku = h.sandbox.world.offers()[6]?.shopSku ?? '';
    h.sandbox.setFaults('mirakl', { STO01: { lostResponseRate: 1 } });
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent, its answer lost', () => importIntents(h).some((i) => i.state === 'uncertain'), 30);
    h.sandbox.setFaults('mirakl', {});
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // This copy goes on: it reads its import back as applied, restocks a unit graded since, and the offer sells one unit.
    await stepUntil(h, 'the lost import read back as applied', () => importIntents(h)[0]?.state === 'confirmed', 60);
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the second import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE'), 60);
    await sell(h, sku, 1);
    // Put back more than an hour later: Mirakl answers the database's first export request with a new export, not with
    // the one this copy asked the same of.
    for (let i = 0; i < 70; i++) await h.step(minute);
    expect(openExceptions(h, sku)).toEqual([]);

    putBack(h, backup);
    // ReBound, read again, shows the second unit graded: the database put back has it waiting to be restocked.
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);
    for (let i = 0; i < 30; i++) await h.step(minute);

    // Both units are on sale once, and nothing was overwritten: no person is told to lower the offer.
    expect(increment(h, 'R-1:L-1:1')?.state).toBe('applied');
    expect(increment(h, 'R-2:L-1:1')?.state).toBe('applied');
    expect(openExceptions(h, sku).filter((e) => e.type !== 'RESTORED_DATABASE')).toEqual([]);
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + appliedOf(h, sku));
    expect(appliedOf(h, sku)).toBe(2);
    // The import itself is settled by the settlement, its outcome no longer in doubt.
    expect(importIntents(h).map((i) => i.state)).toEqual(['confirmed']);
  }, 120_000);

  // Chaos seed 86 --with-restore: the database put back had its own import confirmed, which overwrote a sale made as it
  // went out; after the backup an earlier copy imported more units of the same offer. The settlement must count the
  // sale that import overwrote, so that what is left is the earlier copy's units, and that import's own read-back must
  // not take the earlier copy's units for someone else's write afterwards.
  it("counts the sale its own import overwrote, and leaves an earlier copy's import on the same offer to the settlement", async () => {
    const h = await start(2553);
    const sku = h.sandbox.world.offers()[6]?.shopSku ?? '';
    pending(h, 'R-1:L-1:1', sku);
    sellAsImportGoesOut = sku;
    await stepUntil(h, 'our import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE' && (o.toCheck ?? []).includes(sku)), 30);
    expect(sellAsImportGoesOut).toBeNull();
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // This copy goes on and restocks a second unit of the same offer.
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the second import applied', () => ourImports(h).filter((o) => o.status === 'COMPLETE').length >= 2, 60);

    putBack(h, backup);
    // ReBound, read again, shows the second unit graded: the database put back has it waiting to be restocked.
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);
    for (let i = 0; i < 60; i++) await h.step(minute);

    expect(increment(h, 'R-2:L-1:1')?.state).toBe('applied');
    const open = openExceptions(h, sku);
    expect(open.filter((e) => e.type === 'FOREIGN_WRITE' || e.type === 'RESTOCK_UNCERTAIN')).toEqual([]);
    const overwritten = open.filter((e) => e.type === 'STOCK_OVERWRITTEN');
    expect(overwritten).toHaveLength(1);
    expect(overwritten[0]?.cause).toMatch(/^1 unit\(s\) of /);
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + appliedOf(h, sku) + 1);
  }, 120_000);
  // Gap 4 of the review after 1493be3: the settlement closes the read-back of its own import on an offer (a later export
  // also shows what an earlier copy imported), but left nothing expected of that offer, so someone else setting it
  // afterwards (another installation, a database copied in and run beside this one) was never compared with anything.
  it('expects of an offer whose read-back the settlement closed what it judged, so another writer after it is raised', async () => {
    const h = await start(2556);
    const [sku, other] = [h.sandbox.world.offers()[6]?.shopSku ?? '', h.sandbox.world.offers()[9]?.shopSku ?? ''];
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE' && (o.toCheck ?? []).includes(sku)), 30);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the second import applied', () => ourImports(h).filter((o) => o.status === 'COMPLETE').length >= 2, 60);

    putBack(h, backup);
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the quarantine ended', () => quarantine(h)?.ended_at != null, 120);
    expect(increment(h, 'R-2:L-1:1')?.state).toBe('applied');
    expect(openExceptions(h, sku).filter((e) => e.type !== 'RESTORED_DATABASE')).toEqual([]);

    // Another installation restocks two units of its own on the offer; then units of another offer come back here, whose
    // exports show it.
    await importElsewhere(h, sku, stockOf(h, sku).quantity + 2);
    pending(h, 'R-3:L-1:1', other);
    await stepUntil(h, 'FOREIGN_WRITE was raised for the offer', () => openExceptions(h, sku).some((e) => e.type === 'FOREIGN_WRITE'), 90);
    expect(incrementState(h, 'R-3:L-1:1')).not.toBe('importing');
  }, 120_000);
  // Gap 3 of the review after 1493be3: the settlement raises the sales its own import overwrote, as that import's check
  // would have. The check may have run in an earlier copy after the backup, and a person may have lowered the offer as it
  // asked: the notice comes again, and lowering again takes a unit off sale that is there. Mirakl's quantity, lower than
  // the import and the sales since explain by those units, is what a correction made shows: the notice says so.
  it('tells a person when Mirakl already shows the overwritten sales it raises again after a restore taken off', async () => {
    const h = await start(2557);
    const [sku, other] = [h.sandbox.world.offers()[6]?.shopSku ?? '', h.sandbox.world.offers()[9]?.shopSku ?? ''];
    pending(h, 'R-1:L-1:1', sku);
    sellAsImportGoesOut = sku;
    await stepUntil(h, 'our import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE' && (o.toCheck ?? []).includes(sku)), 30);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // This copy reads its import back and raises the sale it overwrote; a person lowers the offer by that unit. It goes on
    // and restocks a unit of another offer (its calls run past the backup's).
    await stepUntil(h, 'the overwritten sale raised', () => openExceptions(h, sku).some((e) => e.type === 'STOCK_OVERWRITTEN'), 60);
    await importElsewhere(h, sku, stockOf(h, sku).quantity - 1);
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + 1);
    pending(h, 'R-2:L-1:1', other);
    await stepUntil(h, 'the second import applied', () => ourImports(h).filter((o) => o.status === 'COMPLETE').length >= 2, 60);

    putBack(h, backup);
    // A unit graded after the restore: the settlement judges the offer, and closes the import's read-back.
    pending(h, 'R-3:L-1:1', sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);

    const overwritten = openExceptions(h, sku).filter((e) => e.type === 'STOCK_OVERWRITTEN');
    expect(overwritten).toHaveLength(1);
    expect(overwritten[0]?.cause).toMatch(/Mirakl already shows 1 unit\(s\) fewer/);
    expect(overwritten[0]?.cause).toMatch(/do not lower it again/);
  }, 120_000);
  // Gap 1 of the review after 1493be3: an import whose answer was lost and that waits for a person (parked, OUTCOME_UNKNOWN)
  // when the backup is taken was left out of the settlement and read back on its own after the restore, against exports
  // that also show what an earlier copy imported since: the same false 'lower by 1' as above. It is judged with them.
  it('judges its own parked import, whose answer was lost, with the units an earlier copy imported since', async () => {
    const h = await start(2558);
    const sku = h.sandbox.world.offers()[6]?.shopSku ?? '';
    // Its answer lost, and no export to read it back from for over an hour: it waits for a person.
    h.sandbox.setFaults('mirakl', { STO01: { lostResponseRate: 1 } });
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent, its answer lost', () => importIntents(h).some((i) => i.state === 'uncertain'), 30);
    h.sandbox.setFaults('mirakl', { OF52: { serverErrorRate: 1 } });
    await stepUntil(h, 'the import parked for a person', () => h.store.db.prepare(`SELECT 1 FROM exceptions WHERE type = 'OUTCOME_UNKNOWN' AND state != 'resolved'`).get() !== undefined, 120);
    h.sandbox.setFaults('mirakl', {});
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);

    // A unit of the same offer is graded: this copy reads the parked import back as applied with the export it asks for,
    // restocks that unit, and the offer sells one unit.
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the lost import read back as applied', () => importIntents(h)[0]?.state === 'confirmed', 60);
    await stepUntil(h, 'the second import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE'), 60);
    await sell(h, sku, 1);
    for (let i = 0; i < 70; i++) await h.step(minute);

    putBack(h, backup);
    pending(h, 'R-2:L-1:1', sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);
    for (let i = 0; i < 30; i++) await h.step(minute);

    expect(increment(h, 'R-1:L-1:1')?.state).toBe('applied');
    expect(increment(h, 'R-2:L-1:1')?.state).toBe('applied');
    expect(openExceptions(h, sku).filter((e) => e.type !== 'RESTORED_DATABASE')).toEqual([]);
    expect(h.store.db.prepare(`SELECT subject_key FROM exceptions WHERE type = 'OUTCOME_UNKNOWN' AND state != 'resolved'`).all()).toEqual([]);
    expect(importIntents(h).map((i) => i.state)).toEqual(['confirmed']);
    const s = stockOf(h, sku);
    expect(s.quantity).toBe(s.initial - s.sold + appliedOf(h, sku));
  }, 120_000);

  // Found in review of the settlement of lost-answer imports: once a restore began, such an import of the old database
  // is never read back again; the settlement settles it or leaves it to a person (OUTCOME_UNKNOWN), which parks it. A
  // person who closes that exception with the plain "Resolve" (not done / not done) unparks it, and an import in flight
  // holds back every other import: left so, no returned unit of any offer went back on sale, and nothing said why.
  it('a lost-answer import left to a person after a restore, its exception closed without a verdict, holds back no other offer and is raised again', async () => {
    const h = await start(2557);
    const [sku, other, third] = [6, 9, 3].map((i) => h.sandbox.world.offers()[i]?.shopSku ?? '') as [string, string, string];
    const backup = await lostAnswerAsUnitSells(h, sku, third);

    putBack(h, backup);
    // The settlement cannot judge it: the database put back held no quantity of the offer from before (planted: its entry
    // taken out of the quarantine's belief, as for an offer its last export did not list), so a person is asked.
    h.store.db.prepare(`UPDATE restore_quarantines SET stock_basis = json_remove(stock_basis, '$.offers."' || ? || '"') WHERE ended_at IS NULL`).run(sku);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);
    const [intent] = importIntents(h);
    expect(intent?.state).toBe('uncertain');
    const leftToPerson = h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').find((e) => e.subject_key === `intent:${intent?.id}`);
    expect(leftToPerson, 'the settlement leaves the import to a person').toBeDefined();
    await stepUntil(h, 'the quarantine ended', () => quarantine(h)?.ended_at != null, 120);

    // A person closes it without saying whether it ran; then a unit of another offer is graded sellable.
    const record = h.ctx.exceptions.get(leftToPerson?.id ?? -1);
    if (!record) throw new Error('no exception record');
    expect(h.ctx.exceptions.resolveByPerson(record, 'Sam', 'looked at it')).toBe(true);
    pending(h, 'R-2:L-1:1', other);
    for (let i = 0; i < 30; i++) await h.step(minute);

    expect(increment(h, 'R-2:L-1:1')?.state, 'the other offer is restocked').toBe('applied');
    expect(
      h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').some((e) => e.subject_key === `intent:${intent?.id}`),
      'the import whose outcome is still unknown is raised again',
    ).toBe(true);
    expect(importIntents(h)[0]?.state).toBe('uncertain');
  }, 120_000);

  // Review of the settlement of lost-answer imports (two findings). A unit sold as our import went out, so the settlement
  // could not tell from quantities whether that import ran and asked a person "did it run?". Each truthful answer was
  // wrong for the stock:
  // - it never reached Mirakl, and an earlier copy, after the backup, put the unit on sale itself: "not done" released the
  //   unit, which was imported a second time;
  // - it ran and overwrote the sale: "done" recorded it applied, and the overwritten sale was never measured or raised.
  it("an import that never ran, whose unit an earlier copy put on sale since, is not imported a second time", async () => {
    const h = await start(2557);
    const sku = h.sandbox.world.offers()[6]?.shopSku ?? '';
    failNextImport = true;
    sellAsImportGoesOut = sku;
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent, its answer a 503', () => importIntents(h).some((i) => i.state === 'uncertain'), 30);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);
    // This copy reads it back as not run and puts the unit on sale with a new import.
    await resendOnceToldNotRun(h);
    for (let i = 0; i < 70; i++) await h.step(minute);

    putBack(h, backup);
    await stepUntil(h, 'the quarantine ended', () => quarantine(h)?.ended_at != null, 120);
    // Whoever is asked answers truthfully: Mirakl's import history has no such import.
    const asked = h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').find((e) => e.subject_key === `intent:${importIntents(h)[0]?.id}`);
    if (asked) act(h, asked.id, 'mark_failed', "Mirakl's import history has no such import");
    for (let i = 0; i < 30; i++) await h.step(minute);

    const s = stockOf(h, sku);
    expect(s.quantity - (s.initial - s.sold), 'the one returned unit is on sale once').toBe(1);
  }, 120_000);

  it('an import that ran and overwrote a sale is raised as overwritten, not only recorded applied', async () => {
    const h = await start(2557);
    const [sku, third] = [6, 3].map((i) => h.sandbox.world.offers()[i]?.shopSku ?? '') as [string, string];
    const backup = await lostAnswerAsUnitSells(h, sku, third);

    putBack(h, backup);
    await stepUntil(h, 'the quarantine ended', () => quarantine(h)?.ended_at != null, 120);
    // Whoever is asked answers truthfully: Mirakl's import history shows it ran.
    const asked = h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').find((e) => e.subject_key === `intent:${importIntents(h)[0]?.id}`);
    if (asked) act(h, asked.id, 'mark_confirmed', "Mirakl's import history shows it ran");
    for (let i = 0; i < 30; i++) await h.step(minute);

    // Mirakl shows one unit more than there is (the sale it overwrote): a person is told to lower the offer by one.
    const s = stockOf(h, sku);
    expect(s.quantity - (s.initial - s.sold)).toBe(2);
    const overwritten = openExceptions(h, sku).filter((e) => e.type === 'STOCK_OVERWRITTEN');
    expect(overwritten.map((e) => e.cause).join('\n')).toMatch(/Lower \S+ by 1\b/);
  }, 120_000);

  // Where the settlement cannot judge such an import it asks a person, who may truthfully answer "not done" (Mirakl's
  // import history has no such import) while an earlier copy put its unit on sale since the backup: released, the unit
  // was imported a second time.
  it('a person marking not run an import the settlement could not judge holds its units for a person, never re-imports them', async () => {
    const h = await start(2557);
    const sku = h.sandbox.world.offers()[6]?.shopSku ?? '';
    failNextImport = true;
    pending(h, 'R-1:L-1:1', sku);
    await stepUntil(h, 'our import sent, its answer a 503', () => importIntents(h).some((i) => i.state === 'uncertain'), 30);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);
    await resendOnceToldNotRun(h);

    putBack(h, backup);
    // The settlement cannot judge it: the database put back held no quantity of the offer from before (planted, as above).
    h.store.db.prepare(`UPDATE restore_quarantines SET stock_basis = json_remove(stock_basis, '$.offers."' || ? || '"') WHERE ended_at IS NULL`).run(sku);
    await stepUntil(h, 'the quarantine ended', () => quarantine(h)?.ended_at != null, 120);
    const asked = h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').find((e) => e.subject_key === `intent:${importIntents(h)[0]?.id}`);
    expect(asked, 'a person is asked').toBeDefined();
    act(h, asked?.id ?? -1, 'mark_failed', "Mirakl's import history has no such import");
    for (let i = 0; i < 30; i++) await h.step(minute);

    const s = stockOf(h, sku);
    expect(s.quantity - (s.initial - s.sold), 'the one returned unit is on sale once').toBe(1);
    expect(openExceptions(h, sku).map((e) => e.type)).toContain('RESTOCK_UNCERTAIN');
  }, 120_000);

  // A lost import Mirakl's queue still holds when the database is put back: the listing does not show its unit, so
  // releasing it for a person to restock (or a person's "not done") put it on sale twice once the queue ran it.
  it("a lost import still in Mirakl's queue when the database is put back is not released for a resend", async () => {
    const h = await start(2557);
    const [sku, third] = [6, 3].map((i) => h.sandbox.world.offers()[i]?.shopSku ?? '') as [string, string];
    const heldUntil = await lostImportHeldInQueue(h, sku, 6 * 60 * minute);
    const backup = await backUpThenRestock(h, third);

    putBack(h, backup);
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);
    // Whoever is asked checks the listing: the unit is not on sale (its import waits in Mirakl's queue). They restock it,
    // or say the import did not happen, where the app lets them.
    const resolutions = createResolutions(h.ctx, createAuditLog(h.store.db, h.clock));
    const restock = h.ctx.exceptions.listOpen('RESTOCK_UNCERTAIN').find((e) => e.subject_key === sku);
    if (restock) resolutions.act([restock.id], { action: 'retry' }, 'Sam');
    const asked = h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').find((e) => e.subject_key === `intent:${importIntents(h)[0]?.id}`);
    if (asked) expect(act(h, asked.id, 'mark_failed', 'the listing does not show it')[0]?.error?.code).toBe('GUARD_BLOCKED');
    while (h.clock.now() < heldUntil + 10 * minute) await h.step(5 * minute);
    for (let i = 0; i < 60; i++) await h.step(minute);

    // Only the import Mirakl's queue held ever carried the offer: its unit was not sent a second time meanwhile.
    const importsOfSku = h.sandbox.world.importsList().filter((i) => i.rows.some((r) => r.includes(sku)));
    expect(importsOfSku.map((i) => i.status)).toEqual(['COMPLETE']);
    const s = stockOf(h, sku);
    expect(s.quantity - (s.initial - s.sold), 'the one returned unit is on sale once').toBe(1);
  }, 300_000);

  it('a lost import parked for Mirakl\'s queue and put back from a backup is asked about again after a plain Resolve', async () => {
    const h = await start(2557);
    const [sku, third] = [6, 3].map((i) => h.sandbox.world.offers()[i]?.shopSku ?? '') as [string, string];
    await lostImportHeldInQueue(h, sku, 30 * 60 * minute);
    await stepUntil(h, 'parked for the queue', () => h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').length > 0, 120);
    const backup = await backUpThenRestock(h, third);
    putBack(h, backup);
    await stepUntil(h, 'the quarantine ended', () => quarantine(h)?.ended_at != null, 120);
    const exportsBefore = exportsRead(h).length;
    for (let i = 0; i < 2 * 60; i++) await h.step(minute);
    // Sent before the restore, it is never read back on its own: no exports are asked for on its account.
    expect(exportsRead(h).length - exportsBefore).toBeLessThan(3);

    const asked = h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN')[0];
    const record = h.ctx.exceptions.get(asked?.id ?? -1);
    if (!record) throw new Error('no exception record');
    expect(h.ctx.exceptions.resolveByPerson(record, 'Sam', 'looked at it')).toBe(true);
    pending(h, 'R-4:L-1:1', sku);
    for (let i = 0; i < 30; i++) await h.step(minute);
    expect(importIntents(h)[0]?.state).toBe('uncertain');
    expect(
      h.ctx.exceptions.listOpen('OUTCOME_UNKNOWN').some((e) => e.subject_key === `intent:${importIntents(h)[0]?.id}`),
      'the import whose outcome is still unknown is raised again',
    ).toBe(true);
  }, 300_000);

  // Seed 53: an import an earlier copy made after the backup waited in Mirakl's queue and ran after the database put
  // back had read the offers, while the settlement waited hours for the sales; it then judged with that old reading:
  // the unit not on sale (held for a person), and the sale the late run overwrote never raised.
  // A reading taken within the hour of settling would pass this, but a harness stepping hours never has one (chaos seeds
  // 104, 149): the settlement asks for an export once all else it waits for is known, and judges with that one.
  /**
   * The database has read the offers (a unit of another offer restocked) when a unit of an offer is graded: backed up.
   * This copy then sends the unit's import, which Mirakl's queue holds three hours. Returns the offer and the backup.
   */
  async function importHeldAfterBackup(h: Harness): Promise<{ sku: string; backup: string }> {
    const [sku, third] = [6, 3].map((i) => h.sandbox.world.offers()[i]?.shopSku ?? '') as [string, string];
    pending(h, 'R-3:L-1:1', third);
    await stepUntil(h, 'a first import applied', () => ourImports(h).some((o) => o.status === 'COMPLETE'), 60);
    pending(h, 'R-1:L-1:1', sku);
    const backup = join(world.dir(), 'backup.sqlite');
    await h.store.db.backup(backup);
    const before = h.sandbox.world.importsList().length;
    await stepUntil(h, "this copy's import sent", () => h.sandbox.world.importsList().length > before, 30);
    expect(h.sandbox.world.holdImport(h.sandbox.world.importsList().at(-1)?.importId ?? '', h.clock.now() + 3 * 60 * minute)).toBe(true);
    return { sku, backup };
  }

  /** A unit sells, the held import runs over it, then OR11 answers again: settled, the late run seen. */
  async function settlesSeeingTheLateRun(h: Harness, sku: string): Promise<void> {
    await sell(h, sku, 1);
    for (let i = 0; i < 4 * 12; i++) await h.step(5 * minute);
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 0 } });
    await settledSeeingTheLateRun(h, sku);
  }

  /** Once settled: the unit the held import put on sale recorded so, and the sale it overwrote raised. */
  async function settledSeeingTheLateRun(h: Harness, sku: string): Promise<void> {
    await stepUntil(h, 'the restored stock settled', () => quarantine(h)?.stock_settled_at != null, 120);
    expect(increment(h, 'R-1:L-1:1')?.state, 'the unit the late run put on sale is recorded so').toBe('applied');
    const overwritten = openExceptions(h, sku).filter((e) => e.type === 'STOCK_OVERWRITTEN');
    expect(overwritten.map((e) => e.cause).join('\n')).toMatch(/Lower \S+ by 1\b/);
  }

  it('settles with a reading taken when it settles, not hours before: an earlier copy\'s import run since is seen', async () => {
    const h = await start(2557);
    const { sku, backup } = await importHeldAfterBackup(h);
    // Put back while OR11 fails: the database reads the offers at once, but cannot settle without the sales.
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 1 } });
    putBack(h, backup);
    const readBefore = exportsRead(h).length;
    await stepUntil(h, 'an export read after the restore', () => exportsRead(h).length > readBefore, 60);
    await settlesSeeingTheLateRun(h, sku);
  }, 300_000);

  // Review of dc5472f: the sales failing once the settlement had asked for its export left it judging, hours later, with
  // that export (seed 53 again). What it waits for lost again, it asks for a later one once all is known again.
  it('settles with a reading taken when it settles, though the sales failed after it asked for one', async () => {
    const h = await start(2557);
    const { sku, backup } = await importHeldAfterBackup(h);
    putBack(h, backup);
    await stepUntil(h, 'the settlement asked for an export of its own', () => isMarked(h), 120);
    // OR11 fails from now: the export it asked for is read, the sales through it are not.
    h.sandbox.setFaults('mirakl', { OR11: { serverErrorRate: 1 } });
    const readBefore = exportsRead(h).length;
    await stepUntil(h, "the settlement's export read", () => exportsRead(h).length > readBefore, 60);
    expect(quarantine(h)?.stock_settled_at ?? null).toBeNull();
    await settlesSeeingTheLateRun(h, sku);
  }, 300_000);

  const isMarked = (h: Harness) => (JSON.parse(quarantine(h)?.stock_basis ?? '{}') as { settleAfterExport?: number }).settleAfterExport !== undefined;

  // Review of afcc45c: the app closed (or the machine asleep) for hours right after the settlement asked for its export;
  // the next pass read that export, taken before the late run, and judged with it.
  it('settles with a reading taken when it settles, though the app was closed for hours after asking for it', async () => {
    const h = await start(2557);
    const { sku, backup } = await importHeldAfterBackup(h);
    putBack(h, backup);
    await stepUntil(h, 'the settlement asked for an export of its own', () => isMarked(h), 120);
    expect(quarantine(h)?.stock_settled_at ?? null).toBeNull();
    await sell(h, sku, 1);
    await h.step(4 * 60 * minute);
    await settledSeeingTheLateRun(h, sku);
  }, 300_000);

  // Review of 34ec5c7: ReBound down in the pass that read the settlement's export and the sales through it, then the app
  // closed for hours: the next pass made no stock read before judging, so Mirakl's clock as last seen was that pass's,
  // and the export hours old did not count as stale.
  it("settles with a reading taken when it settles, though the pass that settles makes no call that reads Mirakl's clock", async () => {
    const h = await start(2557);
    const { sku, backup } = await importHeldAfterBackup(h);
    putBack(h, backup);
    await stepUntil(h, 'the settlement asked for an export of its own', () => isMarked(h), 120);
    // ReBound's last run failed, and it is not run again until the app comes back.
    const rebound = (set: string) => h.store.db.prepare(`UPDATE feeds SET ${set} WHERE feed = 'rebound'`).run();
    rebound(`last_error = 'ReBound unavailable (503)', next_run_at = '2099-01-01T00:00:00.000Z'`);
    const readBefore = exportsRead(h).length;
    await stepUntil(h, "the settlement's export read", () => exportsRead(h).length > readBefore, 60);
    expect(quarantine(h)?.stock_settled_at ?? null).toBeNull();
    // Closed four hours: a unit sells, the held import runs over it; ReBound answers again.
    await sell(h, sku, 1);
    rebound(`next_run_at = '${new Date(h.clock.now()).toISOString()}'`);
    await h.step(4 * 60 * minute);
    await settledSeeingTheLateRun(h, sku);
  }, 300_000);

  // What it asks again for a reading of its own age is bounded: an engine whose every pass is hours apart still settles.
  it('settles though every pass of the engine is hours after the one before', async () => {
    const h = await start(2557);
    const { backup } = await importHeldAfterBackup(h);
    putBack(h, backup);
    const asked = exportsRead(h).length;
    for (let i = 0; i < 12 && quarantine(h)?.stock_settled_at == null; i++) await h.step(3 * 60 * minute);
    expect(quarantine(h)?.stock_settled_at, 'settled within 36 hours of passes 3 hours apart').not.toBeNull();
    expect(exportsRead(h).length - asked).toBeLessThanOrEqual(6);
  }, 300_000);
});
