import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../adapters/fake-clock';
import { createExceptionStore, type ExceptionStore } from '../exceptions/store';
import { loadMappings } from '../mappings/load';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { makeTempDir } from '../../test/support/temp-dir';
import { runDetectors } from './detectors';

const hour = 3_600_000;
const policy = loadMappings().policy;

describe('detectors', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: FakeClock;
  let exceptions: ExceptionStore;
  const iso = (ms: number) => new Date(ms).toISOString();
  const run = () => runDetectors(store.db, clock, exceptions, policy);
  const open = (type: string) => store.db.prepare(`SELECT * FROM exceptions WHERE type = ? AND state = 'open'`).all(type) as { subject_key: string }[];
  const resolution = (type: string) =>
    (store.db.prepare(`SELECT resolution FROM exceptions WHERE type = ? AND state = 'resolved'`).get(type) as { resolution: string } | undefined)?.resolution;

  beforeEach(() => {
    temp = makeTempDir();
    clock = createFakeClock(Date.UTC(2026, 10, 1));
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock });
    exceptions = createExceptionStore(store.db, clock);
    const t = iso(clock.now());
    store.db
      .prepare(
        `INSERT INTO mirakl_returns (id, order_id, commercial_id, state, method_code, date_created, last_updated, first_seen_at, synced_at)
         VALUES ('R-1', 'O-1', 'C-1', 'IN_PROGRESS', 'RETURN_METHOD_BY_MAIL', ?, ?, ?, ?)`,
      )
      .run(t, t, t, t);
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('raises STATUS_NOT_PUSHED at its SLA and not before, once, and resolves it when Mirakl converges', () => {
    store.db
      .prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, registered_at, updated_at) VALUES ('R-1:L-1:1', 'R-1', 'L-1', 'SKU', 'registered', 3, ?, ?)`)
      .run(iso(clock.now()), iso(clock.now()));
    clock.advance(policy.sla.statusNotPushedHours * hour - 60_000);
    run();
    expect(open('STATUS_NOT_PUSHED')).toHaveLength(0);
    clock.advance(60_000);
    expect(run().raised).toBe(1);
    run();
    expect(open('STATUS_NOT_PUSHED')).toHaveLength(1);
    store.db.prepare(`UPDATE mirakl_returns SET state = 'RECEIVED' WHERE id = 'R-1'`).run();
    expect(run().resolved).toBe(1);
    expect(open('STATUS_NOT_PUSHED')).toHaveLength(0);
    expect(resolution('STATUS_NOT_PUSHED')).toBe('auto: Mirakl now shows the return received');
  });

  it('raises REFUND_WITHOUT_RECEIPT at once for a refund nobody can explain, and resolves it when a receipt is verified', () => {
    store.db
      .prepare(
        `INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
         VALUES ('F-9', 'L-1', 'OR-9', 2500, 0, 1, '11', 'WAITING_REFUND', ?, ?, ?)`,
      )
      .run(iso(clock.now()), iso(clock.now()), iso(clock.now()));
    run();
    const raised = store.db.prepare(`SELECT severity, owner_team, cause FROM exceptions WHERE type = 'REFUND_WITHOUT_RECEIPT'`).get() as Record<string, string>;
    expect(raised).toMatchObject({ severity: 'critical', owner_team: 'finance' });
    expect(raised.cause).toMatch(/refund F-9 of 25\.00 on line L-1/);
    store.db
      .prepare(`INSERT INTO units (id, return_id, order_line_id, offer_sku, stage, stage_rank, registered_at, updated_at) VALUES ('R-1:L-1:1', 'R-1', 'L-1', 'SKU', 'registered', 3, ?, ?)`)
      .run(iso(clock.now()), iso(clock.now()));
    run();
    expect(open('REFUND_WITHOUT_RECEIPT')).toHaveLength(0);
  });

  it('raises OUTCOME_UNKNOWN for a call still unsettled after an hour, and resolves it once probed', () => {
    store.db
      .prepare(`INSERT INTO intents (kind, key, subject, payload, state, created_at, updated_at) VALUES ('mirakl.refund', 'refund:R-1:L-1', 'R-1', '{}', 'uncertain', ?, ?)`)
      .run(iso(clock.now()), iso(clock.now()));
    clock.advance(59 * 60_000);
    run();
    expect(open('OUTCOME_UNKNOWN')).toHaveLength(0);
    clock.advance(2 * 60_000);
    run();
    expect(open('OUTCOME_UNKNOWN')).toHaveLength(1);
    store.db.prepare(`UPDATE intents SET state = 'confirmed'`).run();
    run();
    expect(open('OUTCOME_UNKNOWN')).toHaveLength(0);
  });

  it("does not resolve an exception the engine raised while its subject still diverges", () => {
    const t = iso(clock.now());
    store.db
      .prepare(
        `INSERT INTO rebound_return_orders (rebound_order_id, client_order_id, return_id, status, status_rank, created_at, updated_at, synced_at, is_open)
         VALUES ('RO-1', 'O-1', 'R-1', 'EXPIRED', 7, ?, ?, ?, 0)`,
      )
      .run(t, t, t);
    exceptions.raise({ type: 'PARCEL_STALLED', subjectKey: 'R-1', returnId: 'R-1', cause: 'label expired' });
    run();
    expect(open('PARCEL_STALLED')).toHaveLength(1);
  });
});
