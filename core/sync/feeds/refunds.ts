import {
  evaluateRefundGuard,
  isLedgerReadSinceRestore,
  madeElsewhereSincePlanned,
  modeOf,
  planRefundIntent,
  probeRefund,
  refundFor,
  refundKey,
  shareOf,
  whyNotSendNow,
  type RefundPayload,
} from '../../ledger/refunds';
import type { Intent } from '../../ledger/intents';
import type { EngineContext } from '../context';
import { areWritesFrozen, releaseDue, sendIntents } from '../execute';
import { takeTouched } from '../touched';

export type { RefundPayload } from '../../ledger/refunds';

// A refund (OR28) is sent only for units whose receipt ReBound verified, once Mirakl knows the return was
// received. Mirakl has no idempotency key, so each refund is an intent keyed by return line (planned once), and an
// intent whose outcome is unknown — a lost answer, a 5xx, or a refused batch that may have been partly applied —
// is probed in OR11 refunds[] before it may ever be sent again.

export function planRefunds(ctx: EngineContext): void {
  // Lines with a unit ReBound registered that no refund intent of ours covers yet: the first refund of a line, and
  // any unit verified after an earlier refund of its line was planned (a late unit gets its own refund).
  // Only returns something happened to since the last look (see touched.ts), or every one in flight at a sweep.
  const taken = takeTouched(ctx, 'refunds');
  if (!taken.all && taken.ids.length === 0) return;
  const candidates = ctx.repo.linesWithUnrefundedUnits(taken.all ? 'all' : taken.ids);
  for (const c of candidates) {
    // A ledger read before a restore may lack refunds made after the backup: planned once the order is read again.
    if (!isLedgerReadSinceRestore(ctx, c.order_line_id)) continue;
    const guard = evaluateRefundGuard(ctx, c.return_id, c.order_line_id);
    if (!guard.allowed) continue;
    let refund = refundFor(ctx, c.return_id, c.order_line_id, guard.verified.map((u) => u.id));
    // Refunds Mirakl's ledger already holds for some of these units, one by one (madeAs): each recorded as theirs, and
    // what is left is worked out again for the units no refund covers yet.
    for (let i = 0; refund.madeAs && refund.payload && i < guard.verified.length; i++) {
      planRefundIntent(ctx, refundKey(ctx, c.return_id, c.order_line_id, refund.payload.units), refund.payload, refund.madeAs);
      refund = refundFor(ctx, c.return_id, c.order_line_id, guard.verified.map((u) => u.id));
    }
    // Capped to nothing means the line, or the units received of it, are wholly refunded already (the back office or
    // another installation paid them, or a refund of ours held for a person counts against them and its REFUND_STALLED
    // says so): that is no mismatch, and the detector would resolve it at once, only for the next cycle to raise it again.
    if (refund.capped && refund.payload) {
      ctx.exceptions.raise({
        type: 'REFUND_AMOUNT_MISMATCH',
        subjectKey: `${c.return_id}:${c.order_line_id}`,
        returnId: c.return_id,
        orderLineId: c.order_line_id,
        cause: refund.capped,
      });
    }
    if (!refund.payload) continue;
    // Mirakl's ledger already holding this refund (madeAs): recorded, never sent again.
    planRefundIntent(ctx, refundKey(ctx, c.return_id, c.order_line_id, refund.payload.units), refund.payload, refund.madeAs);
  }
}

/**
 * How far Mirakl's clock may run ahead of this machine's: a refund dated within this of a restore may be the last one an
 * earlier copy of the database made, just before it was stopped.
 */
const restoreClockErrorMs = 10 * 60_000;
/** Refunds made by someone else are looked for this far back (Mirakl's clock): a second installation's show within hours. */
const foreignLookbackMs = 14 * 24 * 60 * 60_000;

/**
 * Someone else writes to this shop: a refund in Mirakl's ledger on a line we manage that nothing of ours accounts for
 * (engine-repo foreignRefunds) — a second installation of the app with its own database, or a refund made by hand in
 * the back office. Each is raised once as a critical FOREIGN_WRITE, and while one is open no refund (OR28) and no stock
 * import (STO01) is sent for the shop: another writer's refunds and absolute quantities are invisible to this engine's
 * caps until a person has looked. Refunds dated before this database first saw a return, or before it was restored,
 * are not counted: those may be an earlier copy's (recorded as found when they match, refundFor). The restore's time is
 * this machine's: a refund someone made within its clock's error (10 minutes) after a restore is not told from an
 * earlier copy's.
 */
export function detectForeignWrites(ctx: EngineContext): void {
  const firstSeen = ctx.repo.firstSeenAt();
  if (firstSeen === null) return;
  const restoredAt = ctx.restore.lastStartedAt();
  const since = Math.max(ctx.clock.now() - foreignLookbackMs, Date.parse(firstSeen), restoredAt === null ? 0 : restoredAt + restoreClockErrorMs);
  // Mirakl stamps to the second, without milliseconds.
  const sinceText = new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const f of ctx.repo.foreignRefunds(sinceText, 100)) {
    const adopted = ctx.repo.isRefundFoundMade(f.id);
    ctx.exceptions.raise({
      type: 'FOREIGN_WRITE',
      subjectKey: `refund:${f.id}`,
      returnId: f.return_id,
      orderLineId: f.order_line_id,
      cause:
        `Mirakl shows refund ${f.id} of ${(f.amount_minor / 100).toFixed(2)} on line ${f.order_line_id} (${f.date_created}) that this app did not send` +
        (adopted ? ' (it was for units this app was about to refund, so it was recorded as theirs and not sent again)' : '') +
        '. Someone else is refunding this shop: another installation of the app, or a person in the Mirakl back office. Refunds and stock updates are paused until you acknowledge it.',
    });
    ctx.log.warn('refund made outside this engine: refunds and stock updates paused', { refundId: f.id, orderLineId: f.order_line_id });
  }
}

/** Paused for the shop while someone else's write waits for a person (FOREIGN_WRITE). */
export function isPausedByForeignWrite(ctx: EngineContext): boolean {
  return ctx.repo.isForeignWriteOpen();
}

/** Refunds sent together in one OR28 call (one per order line: Mirakl answers per line). */
const batchSize = 100;

export async function sendRefunds(ctx: EngineContext): Promise<void> {
  // Frozen: refunds wait as planned (none is held back for a person meanwhile: that is decided when they can go).
  // Quarantined after a restore: our copy of Mirakl's ledger may lack refunds made since the backup, so none goes out
  // before it was read again (core/ledger/restore-quarantine.ts).
  // Someone else refunded this shop (FOREIGN_WRITE): none goes out until a person has looked.
  if (areWritesFrozen(ctx) || ctx.restore.isActive() || isPausedByForeignWrite(ctx)) return;
  // First-time refunds wait with the stage's batching window (a full call goes at once); retries go alone, at once.
  const all = ctx.intents.due<RefundPayload>('mirakl.refund', 500);
  const fresh = releaseDue(ctx, 'mirakl.refund', all.filter((i) => i.attempts === 0), batchSize);
  const due = [...all.filter((i) => i.attempts > 0), ...fresh];
  // A refund that has already failed once goes alone, so one bad line cannot hold others back twice. One call has
  // one order_tax_mode, so refunds planned in different modes never share a call.
  const solo = due.filter((i) => i.attempts > 0);
  const batched = due.filter((i) => i.attempts === 0).sort((a, b) => modeOf(a.payload).localeCompare(modeOf(b.payload)));
  const batches: (typeof due)[] = solo.map((i) => [i]);
  for (let i = 0; i < batched.length; ) {
    const lines = new Set<string>();
    const batch: typeof due = [];
    while (i < batched.length && batch.length < batchSize) {
      const intent = batched[i] as (typeof due)[number];
      if (lines.has(intent.payload.order_line_id) || (batch[0] && modeOf(batch[0].payload) !== modeOf(intent.payload))) break;
      lines.add(intent.payload.order_line_id);
      batch.push(intent);
      i++;
    }
    batches.push(batch);
  }
  for (const batch of batches) await sendBatch(ctx, batch);
}

/** How soon a refund waiting for refunds of ours on their way checks the guard again. */
const refundWaitMs = 15 * 60_000;

async function sendBatch(ctx: EngineContext, candidates: Intent<RefundPayload>[]): Promise<void> {
  const batch: Intent<RefundPayload>[] = [];
  for (const intent of candidates) {
    // Someone else (another installation) refunded exactly these units after this refund was planned, before it could go
    // out (it was batching, or paused by the FOREIGN_WRITE that very refund raised): recorded as theirs, never sent.
    const madeAs = madeElsewhereSincePlanned(ctx, intent);
    if (madeAs !== undefined) {
      ctx.transaction(() => {
        ctx.intents.confirmObserved(intent.id, { refundId: madeAs, amountMinor: intent.payload.amountMinor, via: 'ledger' });
        ctx.touch(intent.payload.returnId);
      });
      ctx.log.warn('refund found made by someone else since it was planned: recorded as this one, not sent', { returnId: intent.payload.returnId, refundId: madeAs });
      continue;
    }
    const why = whyNotSendNow(ctx, intent);
    if (why === null) {
      batch.push(intent);
      continue;
    }
    // Waiting for refunds of ours on their way to be settled (a lost answer is probed in OR11): the guard is checked
    // again then. If it waits past the refund SLA, REFUND_STALLED says so.
    if (why.isWaiting) {
      ctx.intents.fail(intent.id, `waiting: ${why.reason}; checked again once the refunds on their way are settled`, ctx.clock.now() + refundWaitMs, intent.state);
      continue;
    }
    // Held back for a person: never sent by itself again (a retry re-reads Mirakl's ledger first).
    ctx.transaction(() => {
      ctx.intents.fail(intent.id, `not sent: ${why.reason}`, null, intent.state);
      ctx.exceptions.raise({
        type: 'REFUND_STALLED',
        subjectKey: `${intent.payload.returnId}:${intent.payload.order_line_id}`,
        returnId: intent.payload.returnId,
        orderLineId: intent.payload.order_line_id,
        cause: `The refund of ${(intent.payload.amountMinor / 100).toFixed(2)} ${intent.payload.currency} was not sent: ${why.reason}.`,
      });
    });
  }
  if (batch.length === 0) return;
  const verdict = await sendIntents(ctx, batch, {
    point: 'or28',
    isUnsafeWrite: true,
    call: () =>
      ctx.mirakl.refund(
        batch.map(({ payload: p }) => ({
          order_line_id: p.order_line_id,
          amount: p.amountMinor / 100,
          shipping_amount: p.shippingMinor / 100,
          reason_code: p.reason_code,
          quantity: p.units.length,
          currency_iso_code: p.currency,
          taxes: (p.taxes ?? shareOf([], p.taxMinor)).map((t) => ({ code: t.code, amount: t.amountMinor / 100 })),
          shipping_taxes: p.shippingMinor > 0 ? (p.shippingTaxes ?? shareOf([], p.shippingTaxMinor)).map((t) => ({ code: t.code, amount: t.amountMinor / 100 })) : [],
        })),
        modeOf((batch[0] as Intent<RefundPayload>).payload),
      ),
    onResult: (result) => {
      ctx.transaction(() => {
        for (const intent of batch) {
          const refund = result.refunds.find((r) => r.order_line_id === intent.payload.order_line_id);
          if (refund) ctx.intents.confirm(intent.id, { refundId: refund.refund_id, amountMinor: intent.payload.amountMinor, via: 'OR28' });
          // Missing from a 200 answer: whether Mirakl made it is unknown, so it is probed like a lost answer.
          else ctx.intents.markUncertain(intent.id, 'OR28 answered without this refund');
          ctx.touch(intent.payload.returnId);
        }
      });
    },
  });
  if (verdict?.kind !== 'rejected') return;
  if (batch.length > 1) {
    // Mirakl does not say whether one bad refund rejects the whole call or only itself (specs NOTES §6): treat
    // every refund of the call as uncertain, so each is probed in OR11 before it is ever sent again (alone).
    ctx.transaction(() => {
      for (const intent of batch) {
        if (ctx.intents.get(intent.id)?.state === 'failed') ctx.intents.recheck(intent.id, `refused in a call of ${batch.length}: whether this one was made is probed first`);
      }
    });
    return;
  }
  const p = (batch[0] as Intent<RefundPayload>).payload;
  ctx.exceptions.raise({
    type: 'REFUND_STALLED',
    subjectKey: `${p.returnId}:${p.order_line_id}`,
    returnId: p.returnId,
    orderLineId: p.order_line_id,
    cause: `Mirakl refused the refund of ${(p.amountMinor / 100).toFixed(2)} ${p.currency}: ${verdict.message}`,
  });
}

/**
 * An uncertain refund is settled by Mirakl's ledger, never by guessing: once OR11 has been read after the call,
 * a refund on that line with the intended amount that no other intent claims is ours; if there is none, the
 * call was not applied and sending it again is safe.
 */
export function probeUncertainRefunds(ctx: EngineContext): void {
  for (const intent of ctx.intents.inState<RefundPayload>('mirakl.refund', 'uncertain', 200)) probeRefund(ctx, intent);
}
