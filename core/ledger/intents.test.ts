import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { createFakeClock } from '../adapters/fake-clock';
import { openStore, type Store } from '../store/db';
import { sourceMigrationsDir } from '../store/paths';
import { createIntents } from './intents';

// The one transition out of `confirmed`: a stock import Mirakl took and no longer knows goes back to uncertain, to be
// read back from the quantities. A refund never does (Mirakl's ledger of refunds settles those).

describe('intents: a confirmed stock import Mirakl no longer knows', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  beforeEach(() => {
    temp = makeTempDir();
    store = openStore({ dataDir: temp.dir, migrationsDir: sourceMigrationsDir, clock: createFakeClock(Date.UTC(2026, 10, 2, 9)) });
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  const confirmed = (kind: string) => {
    const intents = createIntents(store.db, createFakeClock(Date.UTC(2026, 10, 2, 9)));
    const planned = intents.plan({ kind, key: `${kind}:1`, subject: 's', payload: {} });
    intents.markSending([planned.id]);
    intents.confirm(planned.id, { importId: 'IMP-1', status: 'RUNNING' });
    return { intents, id: planned.id };
  };

  it('is uncertain again, its outcome kept', () => {
    const { intents, id } = confirmed('stock.import');
    intents.reopenAsUncertain(id, 'Mirakl no longer knows import IMP-1', { importId: 'IMP-1', status: 'RUNNING', reopenedAfterExport: 3 });
    expect(intents.get(id)).toMatchObject({ state: 'uncertain', lastError: 'Mirakl no longer knows import IMP-1', outcome: { importId: 'IMP-1', reopenedAfterExport: 3 } });
    // Only from confirmed.
    expect(() => intents.reopenAsUncertain(id, 'again', {})).toThrow(/is not confirmed/);
  });

  it('not once Mirakl was seen to run it', () => {
    const { intents, id } = confirmed('stock.import');
    intents.updateOutcome(id, { importId: 'IMP-1', status: 'COMPLETE' });
    expect(() => intents.reopenAsUncertain(id, 'no', {})).toThrow(/already COMPLETE/);
  });

  it('never for a refund', () => {
    const { intents, id } = confirmed('mirakl.refund');
    expect(() => intents.reopenAsUncertain(id, 'no', {})).toThrow(/not a stock import/);
    expect(intents.get(id)?.state).toBe('confirmed');
  });
});
