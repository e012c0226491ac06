import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../../adapters/fake-clock';
import type { ExceptionTypeName } from '../../exceptions/catalogue';
import { createExceptionStore, type ExceptionStore } from '../../ledger/exceptions';
import { loadMappings } from '../../mappings/load';
import { openStore, type Store } from '../db';
import { sourceMigrationsDir } from '../paths';
import { createReconFixture, type ReconFixture } from '../../../test/support/recon-fixture';
import { makeTempDir } from '../../../test/support/temp-dir';
import { detectors } from './detectors';
import { createReconciler, type Reconciler } from './pass';

const minute = 60_000;
const hour = 60 * minute;
const policy = loadMappings().policy;

describe('detectors', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let exceptions: ExceptionStore;
  let reconciler: Reconciler;
  let fixture: ReconFixture;
  const now = () => new Date(clock.now()).toISOString();
  const run = (full = false) => reconciler.run(policy, { full });
  const sql = (text: string, ...params: unknown[]) => store.db.prepare(text).run(...params);
  const rows = (type: string, state = 'open') =>
    store.db.prepare(`SELECT * FROM exceptions WHERE type = ? AND state = ?`).all(type, state) as { subject_key: string; resolution: string; cause: string }[];

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 1));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    exceptions = createExceptionStore(store.db, clock);
    reconciler = createReconciler(store.db, clock);
    fixture = createReconFixture(store.db, clock);
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  interface Case {
    type: ExceptionTypeName;
    slaMs: number;
    diverge(): void;
    converge(): void;
    subject: string;
  }
  const cases: Case[] = [
    {
      type: 'RETURN_NOT_CREATED',
      slaMs: policy.sla.returnNotCreatedHours * hour,
      subject: 'R-1',
      diverge: () => fixture.returnOf('R-1'),
      converge: () => fixture.reboundOrder('R-1', 'LABEL_ISSUED', 1),
    },
    {
      type: 'STATUS_NOT_PUSHED',
      slaMs: policy.sla.statusNotPushedHours * hour,
      subject: 'R-1',
      diverge: () => {
        fixture.returnOf('R-1');
        fixture.reboundOrder('R-1', 'ITEMS_REGISTERED', 4);
        fixture.unit('R-1', 1);
      },
      converge: () => sql(`UPDATE mirakl_returns SET state = 'RECEIVED' WHERE id = 'R-1'`),
    },
    {
      type: 'REFUND_STALLED',
      slaMs: policy.sla.refundStalledHours * hour,
      subject: 'R-1:L-1',
      diverge: () => {
        fixture.returnOf('R-1', 'RECEIVED');
        fixture.reboundOrder('R-1', 'ITEMS_REGISTERED', 4);
        fixture.unit('R-1', 1);
        fixture.unit('R-1', 2);
      },
      converge: () => fixture.ourRefund('R-1', 'F-1', 5000),
    },
    {
      type: 'REFUND_WITHOUT_RECEIPT',
      slaMs: 0,
      subject: 'refund:F-9',
      diverge: () => {
        fixture.returnOf('R-1');
        fixture.refund('F-9', 2500);
      },
      converge: () => fixture.unit('R-1', 1),
    },
    {
      type: 'REFUND_EXCEEDS_RECEIPT',
      slaMs: 0,
      subject: 'line:L-1',
      diverge: () => {
        fixture.returnOf('R-1', 'RECEIVED');
        fixture.unit('R-1', 1);
        fixture.ourRefund('R-1', 'F-1', 2500);
        // Refunded again in the back office, for the same one unit.
        fixture.refund('F-2', 2500);
      },
      converge: () => fixture.unit('R-1', 2),
    },
    {
      type: 'REFUND_AMOUNT_MISMATCH',
      slaMs: 0,
      subject: 'R-1:L-1',
      diverge: () => {
        fixture.returnOf('R-1', 'RECEIVED');
        fixture.reboundOrder('R-1', 'PROCESSED', 5);
        fixture.unit('R-1', 1);
        fixture.unit('R-1', 2);
        fixture.ourRefund('R-1', 'F-1', 2500);
      },
      converge: () => sql(`UPDATE mirakl_refunds SET amount_minor = 5000 WHERE id = 'F-1'`),
    },
    {
      type: 'PARCEL_STALLED',
      slaMs: policy.sla.parcelStalledDays * 24 * hour,
      subject: 'R-1',
      diverge: () => {
        fixture.returnOf('R-1');
        fixture.reboundOrder('R-1', 'IN_CARRIER_NETWORK', 2);
      },
      converge: () => sql(`UPDATE rebound_return_orders SET status = 'ITEMS_REGISTERED', status_rank = 4, updated_at = ?`, now()),
    },
    {
      type: 'STATUS_DRIFT',
      slaMs: policy.sla.statusDriftHours * hour,
      subject: 'R-1',
      diverge: () => {
        fixture.returnOf('R-1', 'CLOSED');
        fixture.reboundOrder('R-1', 'LABEL_ISSUED', 1);
      },
      converge: () => sql(`UPDATE rebound_return_orders SET status = 'PROCESSED', status_rank = 5, updated_at = ?`, now()),
    },
    {
      type: 'SHORT_RECEIPT',
      slaMs: 0,
      subject: 'R-1',
      diverge: () => {
        fixture.returnOf('R-1', 'RECEIVED');
        fixture.reboundOrder('R-1', 'ITEMS_REGISTERED', 4);
        fixture.unit('R-1', 1);
        fixture.unit('R-1', 2, 'missing');
      },
      // The late unit turns up and is graded (units only move forward).
      converge: () => sql(`UPDATE units SET stage = 'graded', stage_rank = 5, registered_at = ? WHERE id = 'R-1:L-1:2'`, now()),
    },
    {
      type: 'UNEXPECTED_ITEM',
      slaMs: 0,
      subject: 'RO-R-1',
      diverge: () => {
        fixture.returnOf('R-1');
        fixture.reboundOrder('R-1', 'ITEMS_REGISTERED', 4);
        sql(`INSERT INTO rebound_items (rebound_item_id, rebound_order_id, client_item_id, sku, quantity, reason_code, is_unexpected, updated_at)
             VALUES ('I-9', 'RO-R-1', 'Not available', 'OTHER', 1, '', 1, ?)`, now());
      },
      converge: () => sql(`UPDATE rebound_items SET is_unexpected = 0, client_item_id = 'L-1' WHERE rebound_item_id = 'I-9'`),
    },
    {
      type: 'OUTCOME_UNKNOWN',
      slaMs: hour,
      subject: 'intent:1',
      diverge: () => {
        fixture.returnOf('R-1');
        sql(`INSERT INTO intents (id, kind, key, subject, payload, state, created_at, updated_at) VALUES (1, 'mirakl.receive', 'rt25:R-1', 'R-1', '{}', 'uncertain', ?, ?)`, now(), now());
      },
      converge: () => sql(`UPDATE intents SET state = 'confirmed', updated_at = ? WHERE id = 1`, now()),
    },
  ];

  it('has a case below for every detector', () => {
    expect(cases.map((c) => c.type).sort()).toEqual(detectors.map((d) => d.type).sort());
  });

  for (const c of cases) {
    it(`${c.type}: raised at its SLA and not before, never twice, and resolved with the reason when the sources converge`, () => {
      c.diverge();
      if (c.slaMs > 0) {
        clock.advance(c.slaMs - minute);
        run();
        expect(rows(c.type)).toHaveLength(0);
        clock.advance(minute);
      }
      run();
      expect(rows(c.type).map((r) => r.subject_key)).toEqual([c.subject]);
      clock.advance(hour);
      run();
      run(true);
      expect(store.db.prepare('SELECT count(*) AS n FROM exceptions WHERE type = ?').get(c.type)).toEqual({ n: 1 });
      clock.advance(minute);
      c.converge();
      run();
      expect(rows(c.type)).toHaveLength(0);
      const detector = detectors.find((d) => d.type === c.type);
      expect(rows(c.type, 'resolved')[0]?.resolution).toBe(`auto: ${detector?.convergedBecause}`);
    });
  }

  it('does not raise again a divergence a person accepted, until the sources have converged once', () => {
    fixture.returnOf('R-1');
    fixture.refund('F-9', 2500);
    run();
    sql(`UPDATE exceptions SET state = 'resolved', resolved_by = 'ann', resolution = 'goodwill refund' WHERE type = 'REFUND_WITHOUT_RECEIPT'`);
    sql(`UPDATE recon_watch SET state = 'accepted' WHERE type = 'REFUND_WITHOUT_RECEIPT'`);
    clock.advance(hour);
    sql(`UPDATE mirakl_refunds SET refund_state = 'REFUNDED'`);
    run();
    run(true);
    expect(rows('REFUND_WITHOUT_RECEIPT')).toHaveLength(0);
  });

  it('closes CREDENTIALS_INVALID once a call to that system has succeeded since, not before', () => {
    exceptions.raise({ type: 'CREDENTIALS_INVALID', subjectKey: 'mirakl', cause: 'mirakl refused our credentials' });
    const journal = (status: number) =>
      sql(`INSERT INTO request_journal (at, system, operation, method, path, status, duration_ms, outcome) VALUES (?, 'mirakl', 'RT11', 'GET', '/api/returns', ?, 5, 'ok')`, now(), status);
    clock.advance(minute);
    journal(401);
    sql(`INSERT INTO request_journal (at, system, operation, method, path, status, duration_ms, outcome) VALUES (?, 'rebound', 'token', 'POST', '/token', 200, 5, 'ok')`, now());
    run();
    expect(rows('CREDENTIALS_INVALID')).toHaveLength(1);
    clock.advance(minute);
    journal(200);
    run();
    expect(rows('CREDENTIALS_INVALID')).toHaveLength(0);
    expect(rows('CREDENTIALS_INVALID', 'resolved')[0]?.resolution).toBe('auto: a call to mirakl has succeeded since');
  });

  it('re-dates what it watches when the SLAs change, without a full pass', () => {
    cases.find((c) => c.type === 'STATUS_NOT_PUSHED')?.diverge();
    run();
    clock.advance(3 * hour);
    expect(run().full).toBe(false);
    expect(rows('STATUS_NOT_PUSHED')).toHaveLength(0);
    const shorter = { ...policy, sla: { ...policy.sla, statusNotPushedHours: 2 } };
    const report = reconciler.run(shorter);
    expect(report.full).toBe(false);
    expect(report.returns).toBe(1);
    expect(rows('STATUS_NOT_PUSHED').map((r) => r.cause)).toEqual([expect.stringMatching(/IN_PROGRESS/)]);
    // Nor is a change of the refund tolerance a full pass.
    expect(reconciler.run({ ...shorter, refunds: { ...shorter.refunds, toleranceMinor: 5 } }).full).toBe(false);
  });

  it('judges again, when the refund tolerance changes, only the returns whose money differs by more than the smaller tolerance', () => {
    const verdict = (id: string) => store.db.prepare('SELECT refund_status, gap_minor FROM recon_verdicts WHERE return_id = ?').get(id);
    // R-1 refunded exactly; R-2 refunded 0.10 short of its verified unit; R-3 not refunded at all.
    fixture.returnOf('R-1', 'RECEIVED', 'L-1');
    fixture.unit('R-1', 1, 'registered', 'L-1');
    fixture.ourRefund('R-1', 'F-1', 2500, 'REFUNDED', 'L-1');
    fixture.returnOf('R-2', 'RECEIVED', 'L-2');
    fixture.unit('R-2', 1, 'registered', 'L-2');
    fixture.ourRefund('R-2', 'F-2', 2490, 'REFUNDED', 'L-2');
    fixture.returnOf('R-3', 'RECEIVED', 'L-3');
    fixture.unit('R-3', 1, 'registered', 'L-3');
    run();
    expect(verdict('R-1')).toEqual({ refund_status: 'refunded', gap_minor: 0 });
    expect(verdict('R-2')).toEqual({ refund_status: 'partial', gap_minor: 10 });
    expect(verdict('R-3')).toEqual({ refund_status: 'pending', gap_minor: 2500 });
    expect(rows('REFUND_AMOUNT_MISMATCH').map((r) => r.subject_key)).toEqual(['R-2:L-2']);

    // Tolerance 1 → 20: R-2 (gap 10) and R-3 (gap 2,500) may change; R-1 cannot.
    const wider = { ...policy, refunds: { ...policy.refunds, toleranceMinor: 20 } };
    const report = reconciler.run(wider);
    expect(report).toMatchObject({ full: false, rejudged: 2, returns: 2 });
    expect(verdict('R-2')).toEqual({ refund_status: 'refunded', gap_minor: 10 });
    expect(rows('REFUND_AMOUNT_MISMATCH')).toEqual([]);
    expect(rows('REFUND_AMOUNT_MISMATCH', 'resolved').map((r) => r.resolution)).toEqual(['auto: the refunded amount now matches the verified units']);

    // 20 → 15: only R-3 differs by more than 15.
    expect(reconciler.run({ ...policy, refunds: { ...policy.refunds, toleranceMinor: 15 } })).toMatchObject({ full: false, rejudged: 1 });
    expect(verdict('R-2')).toEqual({ refund_status: 'refunded', gap_minor: 10 });
    // And the result is what a full pass with the new tolerance gives.
    const before = store.db.prepare('SELECT * FROM recon_verdicts ORDER BY return_id').all();
    reconciler.run({ ...policy, refunds: { ...policy.refunds, toleranceMinor: 15 } }, { full: true });
    expect(store.db.prepare('SELECT * FROM recon_verdicts ORDER BY return_id').all()).toEqual(before);
  });

  it('wakes a snoozed exception when its snooze ends', () => {
    fixture.returnOf('R-1');
    fixture.refund('F-9', 2500);
    run();
    sql(`UPDATE exceptions SET state = 'snoozed', snoozed_until = ?`, new Date(clock.now() + 2 * hour).toISOString());
    clock.advance(hour);
    expect(run().reopened).toBe(0);
    clock.advance(hour);
    expect(run().reopened).toBe(1);
    expect(rows('REFUND_WITHOUT_RECEIPT')).toHaveLength(1);
  });

  it('does not resolve an exception the engine raised while its subject still diverges', () => {
    fixture.returnOf('R-1');
    sql(`INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, created_at, updated_at, synced_at, is_open)
         VALUES ('RO-1', 'O-1', 'R-1', 'EXPIRED', 7, ?, ?, ?, 0)`, now(), now(), now());
    exceptions.raise({ type: 'PARCEL_STALLED', subjectKey: 'R-1', returnId: 'R-1', cause: 'label expired' });
    run();
    run(true);
    expect(rows('PARCEL_STALLED')).toHaveLength(1);
  });

  it("keeps open the REFUND_STALLED the engine raised for a late unit's refund held for good, though the line's first units are REFUNDED", () => {
    fixture.returnOf('R-1', 'RECEIVED');
    fixture.reboundOrder('R-1', 'PROCESSED', 5);
    for (const n of [1, 2, 3]) fixture.unit('R-1', n);
    fixture.ourRefund('R-1', 'F-1', 5000);
    // The third unit came late; its refund was held back for a person (never sent by itself again).
    sql(`INSERT INTO intents (kind, key, subject, payload, state, last_error, created_at, updated_at)
         VALUES ('mirakl.refund', 'refund:R-1:L-1:R-1:L-1:3', 'R-1', ?, 'failed', 'not sent: it would refund the line beyond what was paid', ?, ?)`,
      JSON.stringify({ returnId: 'R-1', order_line_id: 'L-1', units: ['R-1:L-1:3'], amountMinor: 2500, currency: 'GBP' }), now(), now());
    exceptions.raise({ type: 'REFUND_STALLED', subjectKey: 'R-1:L-1', returnId: 'R-1', orderLineId: 'L-1', cause: 'The refund of 25.00 GBP was not sent.' });
    run();
    run(true);
    clock.advance(7 * 24 * hour);
    sql(`UPDATE units SET updated_at = ? WHERE return_id = 'R-1'`, now());
    run();
    expect(rows('REFUND_STALLED').map((e) => e.subject_key)).toEqual(['R-1:L-1']);
    // Sent after all (a person retried it) and REFUNDED: the line converges, and the exception closes with the reason.
    sql(`UPDATE intents SET state = 'confirmed', outcome = '{"refundId":"F-2"}' WHERE key = 'refund:R-1:L-1:R-1:L-1:3'`);
    fixture.refund('F-2', 2500);
    run();
    expect(rows('REFUND_STALLED')).toEqual([]);
    expect(rows('REFUND_STALLED', 'resolved')).toHaveLength(1);
  });

  it('gives the same exceptions, watches and side-by-side rows incrementally as a full pass from scratch', () => {
    const snapshot = () =>
      JSON.stringify([
        store.db.prepare('SELECT type, subject_key, state, cause FROM exceptions ORDER BY type, subject_key, id').all(),
        store.db.prepare('SELECT type, subject_key, due_at, cause, state FROM recon_watch ORDER BY type, subject_key').all(),
        store.db.prepare('SELECT * FROM recon_returns ORDER BY return_id').all().map((r) => ({ ...(r as object), updated_at: null })),
        store.db.prepare('SELECT * FROM recon_matches ORDER BY kind, subject, candidate').all(),
      ]);
    const steps = [
      () => fixture.returnOf('R-1'),
      () => clock.advance(5 * hour),
      () => fixture.reboundOrder('R-1', 'IN_CARRIER_NETWORK', 2),
      () => fixture.refund('F-9', 2500),
      () => fixture.unit('R-1', 1),
      () => clock.advance(5 * hour),
      () => sql(`UPDATE rebound_return_orders SET status = 'ITEMS_REGISTERED', status_rank = 4, updated_at = ?`, now()),
      () => sql(`UPDATE mirakl_returns SET state = 'RECEIVED', last_updated = ? WHERE id = 'R-1'`, now()),
      () => fixture.ourRefund('R-1', 'F-1', 2000, 'WAITING_REFUND'),
      () => sql(`UPDATE mirakl_refunds SET refund_state = 'REFUNDED' WHERE id = 'F-1'`),
    ];
    for (const step of steps) {
      step();
      run();
    }
    expect(rows('REFUND_AMOUNT_MISMATCH')).toHaveLength(1);
    const incremental = snapshot();
    run(true);
    expect(snapshot()).toBe(incremental);
  });
});
