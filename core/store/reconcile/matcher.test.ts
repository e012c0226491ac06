import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../adapters/fake-clock';
import type { Core } from '../../app/create-core';
import { makeTestCore } from '../../../test/support/core';
import { createReconFixture, type ReconFixture } from '../../../test/support/recon-fixture';
import { makeTempDir } from '../../../test/support/temp-dir';

// Exact links come only from references we wrote; anything else is a suggestion, equal candidates are ambiguous,
// the order is deterministic, and only a person's confirmation turns a suggestion into a link.

describe('matcher', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let clock: FakeClock;
  let fixture: ReconFixture;
  const matches = () =>
    core.store.db.prepare(`SELECT subject, candidate, status, basis, rank FROM recon_matches WHERE kind = 'refund_line' ORDER BY subject, rank, candidate`).all() as {
      subject: string;
      candidate: string;
      status: string;
      basis: string;
      rank: number;
    }[];
  const open = (type: string) => core.store.db.prepare(`SELECT subject_key, cause FROM exceptions WHERE type = ? AND state != 'resolved'`).all(type) as { subject_key: string; cause: string }[];

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core, clock } = await makeTestCore(temp.dir));
    fixture = createReconFixture(core.store.db, clock);
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('links our own refund exactly and suggests nothing for it', () => {
    fixture.returnOf('R-1', 'RECEIVED');
    fixture.unit('R-1', 1);
    fixture.ourRefund('R-1', 'F-1', 2500);
    core.reconcile();
    // The link is the reference we wrote (the confirmed intent's outcome), not a copy the matcher keeps.
    expect(core.store.db.prepare('SELECT refund_id, return_id, order_line_id, status FROM refund_links').all()).toEqual([
      { refund_id: 'F-1', return_id: 'R-1', order_line_id: 'L-1', status: 'exact' },
    ]);
    expect(matches()).toEqual([]);
    expect(open('REFUND_WITHOUT_RECEIPT')).toEqual([]);
  });

  it('suggests the one return line a refund made elsewhere could belong to, and acts on nothing', () => {
    fixture.returnOf('R-1');
    clock.advance(60_000);
    fixture.refund('F-9', 2500);
    core.reconcile();
    expect(matches()).toEqual([expect.objectContaining({ subject: 'F-9', candidate: 'R-1:L-1', status: 'suggested', basis: 'same order line, return raised before the refund' })]);
    // A suggestion explains nothing: the refund is still one without a receipt.
    expect(open('REFUND_WITHOUT_RECEIPT').map((e) => e.subject_key)).toEqual(['refund:F-9']);
    expect(open('REFUND_WITHOUT_RECEIPT')[0]?.cause).toMatch(/Suggested match: return R-1/);
  });

  it('marks equally good candidates ambiguous, in a fixed order, and a person decides', async () => {
    fixture.returnOf('R-2');
    fixture.returnOf('R-1');
    clock.advance(60_000);
    fixture.refund('F-9', 2500);
    core.reconcile();
    const first = matches();
    expect(first.map((m) => [m.candidate, m.status, m.rank])).toEqual([
      ['R-1:L-1', 'ambiguous', 1],
      ['R-2:L-1', 'ambiguous', 2],
    ]);
    // Reconciling again (or from scratch) gives the same answer.
    core.reconcile();
    expect(matches()).toEqual(first);

    const decide = (candidate: string, decision: 'confirm' | 'reject') =>
      core.dispatch('matches.decide', { kind: 'refund_line', subject: 'F-9', candidate, decision, reason: 'Checked the back office: goodwill refund for R-2' });
    expect((await decide('R-2:L-1', 'confirm')).ok).toBe(true);
    expect(matches().map((m) => [m.candidate, m.status])).toEqual([['R-2:L-1', 'confirmed']]);
    // Confirmed, the refund counts towards R-2 and is no longer unexplained.
    expect(open('REFUND_WITHOUT_RECEIPT')).toEqual([]);
    const again = await decide('R-1:L-1', 'confirm');
    expect(again.ok ? null : again.error.code).toBe('NOT_FOUND');
    const audit = core.store.db.prepare('SELECT action, subject, reason FROM audit_log').all();
    expect(audit).toEqual([{ action: 'match.confirm', subject: 'match:refund_line:F-9', reason: 'Checked the back office: goodwill refund for R-2' }]);
  });

  it('counts the units ReBound reported missing or lost with those verified when it judges quantity drift', () => {
    const drift = (id: string) => core.store.db.prepare('SELECT drift FROM recon_verdicts WHERE return_id = ?').pluck().get(id) as number;
    const quantityDrift = 4;
    // Two units asked for each: one verified, the other reported missing, or lost, or still on its way.
    for (const [id, stage] of [['R-1', 'missing'], ['R-2', 'lost'], ['R-3', 'in_transit']] as const) {
      fixture.returnOf(id, 'RECEIVED');
      fixture.reboundOrder(id, 'ITEMS_REGISTERED', 4);
      fixture.unit(id, 1);
      fixture.unit(id, 2, stage);
    }
    core.reconcile();
    expect([drift('R-1') & quantityDrift, drift('R-2') & quantityDrift, drift('R-3') & quantityDrift]).toEqual([0, 0, quantityDrift]);
    // The unit on its way is reported lost: the counts agree.
    core.store.db.prepare(`UPDATE units SET stage = 'lost', stage_rank = 5 WHERE id = 'R-3:L-1:2'`).run();
    core.reconcile();
    expect(drift('R-3') & quantityDrift).toBe(0);
  });

  it('never suggests a candidate a person rejected', async () => {
    fixture.returnOf('R-1');
    fixture.returnOf('R-2');
    fixture.refund('F-9', 2500);
    core.reconcile();
    const r = await core.dispatch('matches.decide', { kind: 'refund_line', subject: 'F-9', candidate: 'R-1:L-1', decision: 'reject', reason: 'Different customer' });
    expect(r.ok).toBe(true);
    core.store.db.prepare(`UPDATE mirakl_refunds SET refund_state = 'REFUNDED'`).run();
    core.reconcile();
    expect(matches().map((m) => [m.candidate, m.status])).toEqual([
      ['R-1:L-1', 'rejected'],
      ['R-2:L-1', 'suggested'],
    ]);
  });
});
