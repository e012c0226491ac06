import type { EngineContext } from './context';
import { ordersToRereadAfterRestore } from './feeds/mirakl-reads';
import { stockBasisNow } from './feeds/stock';

// Quarantine after restore, as the engine runs it (the state and its writers: core/ledger/restore-quarantine.ts). It
// begins when the engine starts on a database the lease finds restored or copied in; it ends once, since it began, the
// returns (RT11) and ReBound were read again, every order with refund work had its ledger read (OR11), and the units
// Mirakl's quantities show as already imported were settled (feeds/stock.ts). Refunds and stock imports wait till then.

/** At engine start, after the lease was taken: starts the quarantine when the database arrived from a backup or elsewhere. */
export function quarantineIfRestored(ctx: EngineContext): void {
  const cause = ctx.lease.arrivedBecause();
  // Only a database found restored or copied in at this start: a quarantine in force when the engine merely restarted
  // goes on as it was (lease.ts tells the two apart).
  if (!cause) return;
  const started = ctx.restore.start(cause, stockBasisNow(ctx));
  // Only now, with the quarantine committed, may the marker and this machine's record agree with this database.
  ctx.lease.published();
  ctx.log.warn('database restored or copied in: refunds and stock imports paused until Mirakl is read again', { cause, since: started.startedAt });
}

/** What still holds the quarantine, in a person's words; empty once it may end. */
export function restoreWaitsFor(ctx: EngineContext): string[] {
  const quarantine = ctx.restore.current();
  if (!quarantine) return [];
  const waits: string[] = [];
  const ranSince = (feed: string) => {
    const row = ctx.feeds.schedule(feed);
    return row.lastRunAt !== null && row.lastRunAt >= quarantine.startedAt && row.lastError === null;
  };
  if (!ranSince('mirakl.returns')) waits.push("Mirakl's returns (RT11) to be read again");
  if (!ranSince('rebound')) waits.push('ReBound to be read again');
  // Returns received since the backup come back already received: their return orders are looked for in ReBound, and
  // their units must be known before the stock is settled (a unit imported after the backup is not imported again).
  const toFind = ctx.intake.waitingToBeFound();
  if (toFind > 0) waits.push(`${toFind} return order(s) to be looked for in ReBound`);
  const orders = ordersToRereadAfterRestore(ctx, Date.parse(quarantine.startedAt), 1000);
  if (orders.length > 0) waits.push(`the refunds of ${orders.length} order(s) to be read again in Mirakl (OR11)`);
  if (quarantine.stockSettledAt === null) waits.push("Mirakl's stock to be read again");
  return waits;
}

/** After each cycle: ends the quarantine once nothing holds it, saying what was re-read and settled. */
export function endQuarantineWhenSettled(ctx: EngineContext): void {
  const quarantine = ctx.restore.current();
  if (!quarantine || restoreWaitsFor(ctx).length > 0) return;
  ctx.restore.end(`Mirakl's returns, refunds and stock and ReBound were read again since ${quarantine.startedAt}; ${quarantine.stockOutcome ?? 'no stock to settle'}. Refunds and stock updates resume.`);
  ctx.log.info('quarantine after restore ended', { since: quarantine.startedAt });
}
