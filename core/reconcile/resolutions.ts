import type { AuditLog } from '../audit/log';
import type { ExceptionAction as AvailableAction, LineAction, ManualActionId } from '../contract';
import { exceptionTypes, findAction, type ActionId, type ExceptionAction } from '../exceptions/catalogue';
import { AppError } from '../errors';
import type { ExceptionRecord } from '../ledger/exceptions';
import type { DomainContext } from '../ledger/domain';
import {
  evaluateRefundGuard,
  isLedgerReadSinceCall,
  planRefundIntent,
  probeRefund,
  refundFor,
  refundReasonNow,
  replanFailedRefund,
  type RefundPayload,
} from '../ledger/refunds';
import type { Intent } from '../ledger/intents';
import { lostImportMayRunUntil, type HoldReason } from '../ledger/restock';
import { restockTargets } from '../mappings/schemas';

// What people do about exceptions. Every action goes through the engine's own guards and intents — a resolution
// never calls Mirakl or ReBound itself, it plans or reschedules what the engine sends — and every action is written
// to the audit log in the same transaction as the change it makes, so both land or neither does.
// A refund is never planned without a verified receipt unless a person records an override with a reason. Nothing here
// writes a table: exceptions change through the exceptions ledger, units through the restock ledger, calls through
// intents, and match decisions through the reconciler.
// No dead ends: each action first makes every check it needs (`prepare…`), reading only, and then its writes. Which
// actions are offered, and why not the others, is answered by running those same checks without the writes — never
// by a second copy of a rule. A refused attempt (the world did not allow it: GUARD_BLOCKED, CONFLICT) is audited.

export interface ActInput {
  action: ActionId;
  reason?: string | undefined;
  /** For `remap`: the Mirakl offer SKU the returned SKU should restock. */
  offerSku?: string | undefined;
}

export interface ActResult {
  id: number;
  ok: boolean;
  message: string;
  error?: { code: AppError['code']; message: string };
}

/** The writes of an action whose checks have all passed; answers what happened, for the person. */
type Change = () => string;

/** Refusals the state of the world caused (as opposed to incomplete input): audited as refused attempts. */
const isRefusal = (error: AppError) => error.code === 'GUARD_BLOCKED' || error.code === 'CONFLICT';

/** What every exception offers besides its type's resolutions. */
export const manualActions: Record<ManualActionId, { label: string; needsReason: boolean; help: string }> = {
  resolve: { label: 'Resolve by hand', needsReason: true, help: 'Closes the exception by hand, whatever its type. Nothing is sent to either system.' },
  assign: { label: 'Assign', needsReason: false, help: 'Says who looks after it; changes nothing of what the engine does.' },
  snooze: { label: 'Snooze', needsReason: false, help: 'Hides the exception from the working queue until then; it comes back by itself.' },
  comment: { label: 'Add comment', needsReason: false, help: 'Adds a note, kept with the exception.' },
  reopen: { label: 'Reopen', needsReason: true, help: 'Opens a resolved exception again, so the next pass judges it afresh.' },
};

const lineActionText = {
  refund_now: { label: 'Refund now', needsReason: false, help: 'Plans the refund of the verified units of this line; it goes out at the next cycle.' },
  retry: {
    label: 'Retry the refund',
    needsReason: false,
    help: "Plans the refund again with the refund reason the mappings give now; Mirakl's refunds are read first, so it is never made twice.",
  },
  refund_override: {
    label: 'Refund without verified receipt',
    needsReason: true,
    help: 'Sends the refund although the receipt checks have not all passed; recorded in the audit log with your name and reason.',
  },
} as const;

/** Every action of an exception type (and the manual ones) as not available, for a read-only view (an evidence bundle). */
export function unavailableActions(type: string, why: string): AvailableAction[] {
  const typeActions = Object.prototype.hasOwnProperty.call(exceptionTypes, type) ? (exceptionTypes[type as keyof typeof exceptionTypes].actions as readonly ExceptionAction[]) : [];
  return [
    ...typeActions.map((a) => ({ id: a.id, kind: 'resolution' as const, label: a.label, needsReason: a.needsReason, needsOfferSku: a.id === 'remap', help: a.help, isAllowed: false, whyNot: why })),
    ...(Object.keys(manualActions) as ManualActionId[]).map((id) => ({ id, kind: 'manual' as const, ...manualActions[id], needsOfferSku: false, isAllowed: false, whyNot: why })),
  ];
}

/** A return line's actions as not available, for a read-only view. */
export function unavailableLineActions(why: string): LineAction[] {
  return [
    { id: 'refund_now', ...lineActionText.refund_now, isAllowed: false, whyNot: why },
    { id: 'refund_override', ...lineActionText.refund_override, isAllowed: false, whyNot: why },
  ];
}

export function createResolutions(ctx: DomainContext, audit: AuditLog) {
  const { exceptions, reconciler } = ctx;
  /** After a person acted on a return, its row and exceptions are judged again at the next pass. */
  const markDirty = (returnId: string) => reconciler.rejudge('return', returnId);

  /** During a bulk action: the exceptions an earlier one answered with its own (answerOtherRefusals), and by which. */
  let answeredInBatch: Map<number, number> | null = null;

  function load(id: number): ExceptionRecord {
    const row = exceptions.get(id);
    if (!row) throw new AppError('NOT_FOUND', `There is no exception ${id}.`);
    return row;
  }

  function requireReason(reason: string | undefined, what: string): string {
    const text = reason?.trim() ?? '';
    if (text.length < 3) throw new AppError('VALIDATION', `${what} needs a reason (at least 3 characters); it is kept in the audit log.`, [{ path: ['reason'], message: 'required' }]);
    return text;
  }

  /** A refused attempt is kept in the audit log too: who asked for what, and why it was refused. */
  function auditRefusal(actor: string, action: string, subject: string, error: AppError, reason: string | null, before: unknown = null): void {
    if (!isRefusal(error)) return;
    audit.append({ actor, action: `${action}.refused`, subject, before, after: { refused: { code: error.code, message: error.message } }, reason });
  }

  function closeByPerson(e: ExceptionRecord, actor: string, resolution: string): void {
    // The divergence may still hold: it must not come straight back, only if the sources converge and diverge again.
    if (!exceptions.resolveByPerson(e, actor, resolution)) throw new AppError('CONFLICT', `Exception ${e.id} is already resolved.`);
  }

  function inReview(e: ExceptionRecord): void {
    exceptions.takeIntoReview(e.id);
  }

  /** The offer SKU an OFFER_NOT_FOUND or STOCK_REJECTED is about (its subject is `<sku>` or `<sku>:<import>`). */
  function skuOf(e: ExceptionRecord): string {
    return e.offer_sku ?? e.subject_key.split(':')[0] ?? e.subject_key;
  }

  /**
   * A RESTOCK_UNCERTAIN about units the sku-offers mapping says never to restock, which may be on sale after a restore
   * (stock.ts, raiseSkippedOnSale): no unit of it waits, so neither retry nor skip may touch the offer's other units.
   */
  function isNeverRestockQuestion(e: ExceptionRecord): boolean {
    return e.type === 'RESTOCK_UNCERTAIN' && /:never-restock-[a-z-]+$/.test(e.subject_key);
  }

  /**
   * The units of its offer a person's answer to this exception acts on (stock_increments.held): a RESTOCK_UNCERTAIN's
   * own hold (subject `<sku>`: a restore's settlement; `<sku>:earlier-copy`; `...:never-restock-...`), else (null) the
   * units not held for a person, so an answer to Mirakl's refusal or a missing offer never releases a held unit.
   */
  function holdOf(e: ExceptionRecord): HoldReason | null {
    if (e.type !== 'RESTOCK_UNCERTAIN') return null;
    if (isNeverRestockQuestion(e)) return 'never_restock';
    return e.subject_key.endsWith(':earlier-copy') ? 'earlier_copy' : 'restore';
  }

  /**
   * How many units still wait on this exception's own answer (held for it: holdOf), 0 for any other exception. A question
   * that still holds units is never closed by hand: nothing else releases them or raises it again (a mapping edit passes
   * held units by), so they would wait for good. The never-restock-on-sale question holds none: its units are on sale.
   */
  function heldFor(e: ExceptionRecord): number {
    const hold = holdOf(e);
    if (hold === null || e.subject_key.endsWith(':never-restock-on-sale')) return 0;
    return hold === 'never_restock' ? ctx.restock.heldSkippedOf(skuOf(e)) : ctx.restock.rejectedOf(skuOf(e), hold);
  }

  /**
   * A remap or skip of an exception that holds no units (OFFER_NOT_FOUND, STOCK_REJECTED) acts on the offer's units not
   * held for a person. When none waits and units are held, it would close moving nothing while they wait on their own
   * RESTOCK_UNCERTAIN: refused, naming it, so the person answers that first.
   */
  function checkUnheldWaiting(e: ExceptionRecord): void {
    if (holdOf(e) !== null) return;
    const sku = skuOf(e);
    if (ctx.restock.waitingUnheldOf(sku) > 0) return;
    const questions = (['restore', 'earlier_copy'] as const)
      .filter((hold) => ctx.restock.rejectedOf(sku, hold) > 0)
      .map((hold) => (hold === 'restore' ? sku : `${sku}:earlier-copy`));
    if (questions.length === 0) return;
    throw new AppError(
      'CONFLICT',
      `No unit of ${sku} waits on this exception: its units are held for RESTOCK_UNCERTAIN ${questions.join(' and ')} (maybe already on sale). ` +
        'Answer that first ("Restock them" or "Skip the restock").',
    );
  }

  /**
   * The offer's other open STOCK_REJECTED (Mirakl refused its units in another import), when this answer acts on the
   * offer's units not held for a person: a retry, skip or remap takes every such unit, whichever import was refused, so
   * those questions are answered with it. Left open, with no unit of their own, a later Skip would skip units just retried.
   */
  function otherRefusalsOf(e: ExceptionRecord): ExceptionRecord[] {
    if (holdOf(e) !== null) return [];
    return exceptions.openOfOffer('STOCK_REJECTED', skuOf(e)).filter((other) => other.id !== e.id);
  }

  /**
   * Closes the offer's other refusals with `e`'s answer (otherRefusalsOf), each with an audit entry of its own, and notes
   * them for the rest of a bulk action (answeredInBatch); what to add to the answer's message.
   */
  function answerOtherRefusals(e: ExceptionRecord, others: ExceptionRecord[], said: { actor: string; action: ActionId; reason: string | null }, close: (other: ExceptionRecord) => void): string {
    for (const other of others) {
      close(other);
      audit.append({
        actor: said.actor,
        action: `exception.${said.action}`,
        subject: `exception:${other.id}`,
        before: { state: other.state, assignee: other.assignee },
        after: { message: `answered with exception ${e.id}: its answer acts on every unit of ${skuOf(e)} Mirakl refused` },
        reason: said.reason,
      });
      answeredInBatch?.set(other.id, e.id);
    }
    return others.length === 0 ? '' : ` Mirakl's refusal(s) of other stock updates of ${skuOf(e)} (exception ${others.map((o) => o.id).join(', ')}) are answered with it.`;
  }

  function refundIntentOf(e: ExceptionRecord): Intent<RefundPayload> | undefined {
    if (e.type === 'OUTCOME_UNKNOWN') return ctx.intents.get<RefundPayload>(intentIdOf(e));
    if (!e.return_id || !e.order_line_id) return undefined;
    return ctx.intents.findByKey<RefundPayload>(`refund:${e.return_id}:${e.order_line_id}`);
  }

  /**
   * Retrying a refund that failed. A refund Mirakl refused is planned again from the mappings in force now, so a refund
   * reason fixed since is the one sent; and it is never simply re-sent: it goes back to "uncertain", so the engine
   * reads Mirakl's ledger first and either records it as made (it went through after all) or sends it again (it is
   * not there). One whose outcome is unknown is refused here: it is probed, never re-planned.
   */
  function prepareRefundRetry(intent: Intent<RefundPayload>): () => { from: string; to: string } {
    if (intent.state === 'uncertain') throw new AppError('GUARD_BLOCKED', `The last refund call of ${intent.payload.order_line_id} may have gone through; it must be probed in Mirakl before anything else.`);
    if (intent.state !== 'failed') throw new AppError('CONFLICT', `The refund of ${intent.payload.order_line_id} is ${intent.state}; there is nothing to retry, and it is never sent twice.`);
    if (!refundReasonNow(ctx, intent)) {
      const guard = evaluateRefundGuard(ctx, intent.payload.returnId, intent.payload.order_line_id);
      const mapped = guard.conditions.find((c) => c.name === 'refund reason mapped');
      throw new AppError('GUARD_BLOCKED', `Cannot retry the refund: ${mapped?.detail ?? 'its return reason is not mapped'}. Add the refund reason in the mapping editor first.`);
    }
    return () => {
      const reason = replanFailedRefund(ctx, intent);
      ctx.intents.recheck(intent.id, "a person asked to retry: Mirakl's refunds are read before it is sent again");
      return reason;
    };
  }

  /**
   * "Refund now" for a return line, through the engine's guard; with an override when the guard holds it back (and
   * the override can stand in for what fails). Every check, no write: the returned plan makes the change.
   */
  function prepareRefundNow(returnId: string, orderLineId: string, withOverride: boolean) {
    const key = `refund:${returnId}:${orderLineId}`;
    const existing = ctx.intents.findByKey<RefundPayload>(key);
    if (existing) {
      const retry = prepareRefundRetry(existing);
      return {
        isRetry: true,
        isOverride: false,
        run: (actor: string, reason: string | null) => {
          const change = retry();
          audit.append({
            actor,
            action: 'refund.retry',
            subject: `return:${returnId}`,
            before: { state: 'failed', lastError: existing.lastError, reasonCode: change.from },
            after: { state: 'uncertain', retry: 'after reading the ledger', reasonCode: change.to },
            reason,
          });
          return { intent: ctx.intents.get<RefundPayload>(existing.id) as Intent<RefundPayload>, overridden: false };
        },
      };
    }
    const guard = evaluateRefundGuard(ctx, returnId, orderLineId);
    if (!guard.orderLine) throw new AppError('NOT_FOUND', `Return ${returnId} has no known order line ${orderLineId}.`);
    const failing = guard.conditions.filter((c) => !c.holds);
    // An override may stand in for the receipt, never for what OR28 itself needs (the line and a refund reason).
    const overridable = new Set(['verified receipt', 'Mirakl told of the receipt', 'Mirakl told of the inspection']);
    const hard = failing.filter((c) => !overridable.has(c.name));
    if (hard.length) throw new AppError('GUARD_BLOCKED', `Cannot refund: ${hard.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
    if (failing.length && !withOverride) {
      throw new AppError('GUARD_BLOCKED', `No refund without a verified receipt: ${failing.map((c) => `${c.name} — ${c.detail}`).join('; ')}. Record an override with a reason to refund anyway.`);
    }
    const unitIds = failing.length ? guard.units.filter((u) => u.stage !== 'missing' && u.stage !== 'lost').map((u) => u.id) : guard.verified.map((u) => u.id);
    if (unitIds.length === 0) throw new AppError('GUARD_BLOCKED', `No unit of line ${orderLineId} is waiting to be refunded.`);
    // Only an override standing in for the receipt itself refunds beyond the units received.
    const refund = refundFor(ctx, returnId, orderLineId, unitIds, { isOverride: failing.some((c) => c.name === 'verified receipt') });
    if (!refund.payload) throw new AppError('CONFLICT', refund.capped ?? `Nothing is left to refund on line ${orderLineId}.`);
    const planned = refund.payload;
    return {
      isRetry: false,
      isOverride: failing.length > 0,
      run: (actor: string, reason: string | null) => {
        const payload: RefundPayload = failing.length && reason ? { ...planned, override: { by: actor, reason } } : planned;
        // Already in Mirakl's ledger (made before this database knew of it): recorded as that refund, not sent again.
        const intent = planRefundIntent(ctx, key, payload, refund.madeAs);
        audit.append({
          actor,
          action: failing.length ? 'refund.override' : 'refund.now',
          subject: `return:${returnId}`,
          before: { guard: guard.conditions },
          after: { intent: intent.id, amountMinor: payload.amountMinor, currency: payload.currency, units: payload.units },
          reason,
        });
        return { intent, overridden: failing.length > 0 };
      },
    };
  }

  /** Runs `change` for each id in its own transaction: one that cannot be done is answered (and audited), the others still happen. */
  function eachAlone(ids: number[], change: (id: number) => string, refused: (id: number, error: AppError) => void): ActResult[] {
    return ids.map((id) => {
      try {
        return { id, ok: true, message: exceptions.atomically(() => change(id)) };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        refused(id, error);
        return { id, ok: false, message: error.message, error: { code: error.code, message: error.message } };
      }
    });
  }

  /** The catalogue's action for this exception, if it may be acted on at all now. */
  function actionFor(e: ExceptionRecord, id: ActionId): ExceptionAction {
    const action = findAction(e.type, id);
    if (!action) throw new AppError('VALIDATION', `${id} is not offered for ${e.type}.`, [{ path: ['action'], message: 'not offered for this type' }]);
    if (e.state === 'resolved') throw new AppError('CONFLICT', `Exception ${e.id} is already resolved; reopen it first.`);
    return action;
  }

  /**
   * One action on one exception: every check it makes (throws AppError when it cannot be done now), then the change to
   * make. Nothing is written before the returned change runs, so the same call answers whether it is offered.
   */
  function prepare(e: ExceptionRecord, action: ExceptionAction, input: ActInput, actor: string): Change {
    const reason = input.reason?.trim() || null;
    const before = { state: e.state, assignee: e.assignee };
    const record = (message: string, after: unknown = null) => {
      audit.append({ actor, action: `exception.${input.action}`, subject: `exception:${e.id}`, before, after: { message, ...(after ? { detail: after } : {}) }, reason });
      if (e.return_id) markDirty(e.return_id);
      return message;
    };
    switch (input.action) {
      case 'dismiss':
      case 'acknowledge':
      case 'accept_variance':
      case 'accept_partial':
      case 'mark_lost':
        return () => {
          closeByPerson(e, actor, `${action.label}: ${reason}`);
          return record(`${action.label}: resolved.`);
        };
      case 'investigate':
      case 'chase_carrier':
        return () => {
          inReview(e);
          if (reason) exceptions.addNote(e.id, actor, reason);
          return record(`${action.label}: in review${reason ? ', note added' : ''}.`);
        };
      case 'escalate':
        return () => {
          exceptions.escalateToFinance(e.id, actor, reason);
          return record('Escalated to finance.');
        };
      case 'retry': {
        const retry = prepareRetry(e, actor);
        return () => {
          const { message, detail } = retry();
          return record(message, detail);
        };
      }
      case 'reprocess': {
        if (!exceptions.isIntakeReprocessable(e.return_id)) throw new AppError('CONFLICT', `Return ${e.return_id} is not waiting for a mapping.`);
        return () => {
          exceptions.reprocessIntake(e.return_id);
          return record('The return is checked again at the next cycle.');
        };
      }
      case 'push_now': {
        const intent = ctx.intents.findByKey(`rt25:${e.return_id}`);
        if (!intent) throw new AppError('GUARD_BLOCKED', `Nothing to push yet: the receipt of ${e.return_id} is sent to Mirakl once ReBound has verified a unit, and none is verified.`);
        if (intent.state === 'uncertain') throw new AppError('GUARD_BLOCKED', 'The last push may have reached Mirakl; it is being checked before any new push.');
        if (intent.state !== 'failed') throw new AppError('CONFLICT', `The receipt push is already ${intent.state}.`);
        return () => {
          ctx.intents.retryNow(intent.id);
          return record('The receipt is pushed to Mirakl again at the next cycle.');
        };
      }
      case 'probe': {
        const probe = prepareProbe(e);
        return () => record(probe());
      }
      case 'mark_confirmed':
      case 'mark_failed': {
        const intent = ctx.intents.get(intentIdOf(e));
        if (intent?.state !== 'uncertain') throw new AppError('CONFLICT', `The call is no longer uncertain (${intent?.state ?? 'gone'}).`);
        if (input.action === 'mark_failed' && intent.kind === 'mirakl.refund') {
          // A person's "it did not go through" never outranks Mirakl's ledger, and never stands in for it: only a read
          // of the ledger that began after the call can say a refund was not made (then it settles the call itself).
          if (!isLedgerReadSinceCall(ctx, intent as Intent<RefundPayload>)) {
            throw new AppError(
              'GUARD_BLOCKED',
              "Mirakl's refunds for this order have not been read since the call, so nobody can say yet that it did not go through. The app reads them within minutes and settles it then.",
            );
          }
          return () => {
            const verdict = probeRefund(ctx, intent as Intent<RefundPayload>);
            const message = verdict === 'ours' ? 'Mirakl shows this refund went through: recorded as made, not failed.' : 'Mirakl shows no such refund: it is sent again at the next cycle.';
            // The probe has settled the call and closed this exception with the ledger's reason.
            return record(message, { intent: intent.id, ledger: verdict });
          };
        }
        // A stock import Mirakl's queue may still run: a quantity unchanged cannot say it never will, and its units sent
        // again would be on sale twice when it does. The engine settles it by itself meanwhile.
        const queuedUntil = input.action === 'mark_failed' ? lostImportMayRunUntil(intent) : null;
        if (queuedUntil !== null && ctx.clock.now() < queuedUntil) {
          throw new AppError(
            'GUARD_BLOCKED',
            `Mirakl's import queue may still run this stock update until ${new Date(queuedUntil).toISOString()} (it has held imports for hours), and a quantity that has not changed cannot show it never will: marked not done now, its units would be sent again and put on sale twice when it runs. Until then it can only be marked done, if Mirakl's import history shows it ran.`,
          );
        }
        return () => {
          if (input.action === 'mark_confirmed') {
            ctx.intents.confirmUncertain(intent.id, { ...(intent.outcome as object | null), via: 'person', by: actor, ...(intent.kind === 'stock.import' ? { status: 'SETTLED' } : {}) });
            // A stock import seen applied: its units are back on sale, and must never be imported again.
            if (intent.kind === 'stock.import') ctx.restock.markApplied(intent.id, `applied: seen in Mirakl by ${actor}`);
          } else {
            // Never resent by itself: a person has to retry it once they have checked.
            ctx.intents.fail(intent.id, `marked not applied by ${actor}: ${reason}`, null, 'uncertain');
            if (intent.kind === 'stock.import') {
              ctx.restock.releaseUnsent(intent.id, `marked not applied by ${actor}`);
              if (ctx.restore.predates(intent.createdAt)) holdNotRunAfterRestore(intent as Intent<{ lines: { sku: string }[] }>, actor);
            }
          }
          closeByPerson(e, actor, `${action.label}: ${reason}`);
          return record(`${action.label}.`, { intent: intent.id, kind: intent.kind });
        };
      }
      case 'refund_now': {
        if (!e.return_id || !e.order_line_id) throw new AppError('VALIDATION', 'This exception is not about one return line.');
        const plan = prepareRefundNow(e.return_id, e.order_line_id, true);
        return () => {
          const { intent, overridden } = plan.run(actor, reason);
          inReview(e);
          if (plan.isRetry) return record(`The refund is planned again with the refund reason in force (${intent.payload.reason_code}); Mirakl's refunds are read first, then it goes out.`, { intent: intent.id });
          return record(`Refund of ${(intent.payload.amountMinor / 100).toFixed(2)} ${intent.payload.currency} planned${overridden ? ' (override recorded)' : ''}; it goes out at the next cycle.`, { intent: intent.id });
        };
      }
      case 'refund_difference': {
        const difference = prepareRefundDifference(e);
        return () => record(difference(actor));
      }
      case 'remap': {
        const target = input.offerSku?.trim() ?? '';
        if (target === skuOf(e)) throw new AppError('VALIDATION', `${target} is already the listing these items wait for; choose another.`, [{ path: ['offerSku'], message: 'the same listing' }]);
        checkUnheldWaiting(e);
        return () => {
          const to = input.offerSku?.trim() as string;
          const from = skuOf(e);
          const others = otherRefusalsOf(e);
          const moved = ctx.restock.move(from, to, `remapped from ${from} by ${actor}`);
          closeByPerson(e, actor, `Remapped ${from} → ${to} (${moved} unit(s))`);
          const also = answerOtherRefusals(e, others, { actor, action: 'remap', reason }, (other) => closeByPerson(other, actor, `Remapped ${from} → ${to} with exception ${e.id}`));
          return record(`${moved} unit(s) of ${from} will restock offer ${to}.${also}`, { from, to, units: moved });
        };
      }
      case 'skip_restock':
        checkUnheldWaiting(e);
        return () => {
          const sku = skuOf(e);
          // A never-restock question holds only the units the mapping skipped, which the person's skip keeps skipped for good.
          const others = otherRefusalsOf(e);
          const skipped = isNeverRestockQuestion(e) ? ctx.restock.skipHeldSkipped(sku, `skipped by ${actor}: ${reason}`) : ctx.restock.skip(sku, `skipped by ${actor}: ${reason}`, holdOf(e));
          closeByPerson(e, actor, `${action.label}: ${reason}`);
          const also = answerOtherRefusals(e, others, { actor, action: 'skip_restock', reason }, (other) => closeByPerson(other, actor, `${action.label} with exception ${e.id}: ${reason}`));
          return record(`${skipped} unit(s) of ${sku} will not be restocked.${also}`, { sku, units: skipped });
        };
      case 'resync':
        return () => {
          // ReBound's order is read again at the next poll; Mirakl's return is re-read with its next RT11 window.
          exceptions.resyncReturnOrder(e.return_id);
          inReview(e);
          return record('Both systems are read again at the next cycles.');
        };
    }
  }

  /** One action on one exception, as a person asks for it: what it needs from them, its checks, then its change. */
  function perform(e: ExceptionRecord, input: ActInput, actor: string): string {
    const action = actionFor(e, input.action);
    const change = prepare(e, action, input, actor);
    if (action.needsReason) requireReason(input.reason, action.label);
    if (input.action === 'remap' && !input.offerSku?.trim()) {
      throw new AppError('VALIDATION', 'Remap needs the Mirakl offer SKU to restock.', [{ path: ['offerSku'], message: 'required' }]);
    }
    return change();
  }

  function prepareRetry(e: ExceptionRecord, actor: string): () => { message: string; detail?: unknown } {
    if (e.type === 'RETURN_NOT_CREATED' || e.type === 'ORDER_NOT_FOUND') {
      const create = ctx.intents.findByKey(`rebound-return:${e.return_id}`);
      if (create?.state === 'uncertain') throw new AppError('GUARD_BLOCKED', 'The last creation may have reached ReBound; it is being checked first, so no duplicate is made.');
      if (!exceptions.isIntakeRetryable(e.return_id) && create?.state !== 'failed') throw new AppError('CONFLICT', `Return ${e.return_id} is not waiting on anything to retry.`);
      return () => {
        if (create?.state === 'failed') ctx.intents.retryNow(create.id);
        exceptions.retryIntake(e.return_id, new Date(ctx.clock.now() + ctx.mappings().policy.returns.orderWaitMinutes * 60_000).toISOString());
        return { message: 'Retried at the next cycle.' };
      };
    }
    if (e.type === 'REFUND_STALLED') {
      const intent = refundIntentOf(e);
      if (!intent) throw new AppError('GUARD_BLOCKED', 'No refund has been planned for this line yet; see why in the refund explanation.');
      const retry = prepareRefundRetry(intent);
      return () => {
        const reason = retry();
        const changed = reason.from !== reason.to ? ` with refund reason ${reason.to} (it was ${reason.from})` : '';
        return {
          message: `Mirakl's refunds for this order are read first; if this refund is not among them, it is sent again${changed} within minutes.`,
          detail: { intent: intent.id, reasonCode: reason },
        };
      };
    }
    if (e.type === 'STATUS_PUSH_REJECTED') {
      // Subject rt04:<return>, rt26:<return> or rt27:<return>: the intent's own key. These updates are safe to repeat.
      const push = ctx.intents.findByKey(e.subject_key);
      if (push?.state !== 'failed') throw new AppError('CONFLICT', `The update is ${push?.state ?? 'gone'}; there is nothing to retry.`);
      return () => {
        if (!ctx.intents.retryNow(push.id)) throw new AppError('CONFLICT', `The update is ${push.state}; there is nothing to retry.`);
        exceptions.resolveRetried(e.id, 'retried; a new refusal raises a new exception');
        return { message: 'The update is sent to Mirakl again at the next cycle.' };
      };
    }
    if (isNeverRestockQuestion(e)) {
      throw new AppError('CONFLICT', `No unit of ${skuOf(e)} waits here: the sku-offers mapping says never restock it. Skip the restock to close this once the listing is right.`);
    }
    if (e.type === 'STOCK_REJECTED' || e.type === 'RESTOCK_UNCERTAIN') {
      const sku = skuOf(e);
      const hold = holdOf(e);
      if (ctx.restock.rejectedOf(sku, hold) === 0) throw new AppError('CONFLICT', `No rejected restock of ${sku} is left to retry.`);
      if (hold === null) {
        return () => {
          const others = otherRefusalsOf(e);
          const units = ctx.restock.retryRejected(sku);
          exceptions.resolveRetried(e.id, `retried ${units} unit(s); a new rejection raises a new exception`);
          const also = answerOtherRefusals(e, others, { actor, action: 'retry', reason: null }, (other) =>
            exceptions.resolveRetried(other.id, `retried with exception ${e.id}; a new rejection raises a new exception`),
          );
          return { message: `${units} unit(s) of ${sku} are restocked again at the next flush.${also}` };
        };
      }
      return () => {
        // Held while the sku-offers mapping may have changed: each unit goes where the mapping sends its SKU now.
        const { restocked, skipped } = ctx.restock.restockHeld(sku, hold, restockTargets(ctx.mappings().skuOffers.overrides));
        const never = skipped > 0 ? `; ${skipped} unit(s) of ${sku} are not, as the sku-offers mapping now says never restock them` : '';
        exceptions.resolveRetried(e.id, `retried ${restocked} unit(s)${skipped > 0 ? `, ${skipped} skipped by the mapping` : ''}; a new rejection raises a new exception`);
        return { message: `${restocked} unit(s) of ${sku} are restocked at the next flush, on the offer the sku-offers mapping sends them to${never}.`, detail: { restocked, skipped } };
      };
    }
    throw new AppError('VALIDATION', `retry is not offered for ${e.type}.`);
  }

  /**
   * A stock import sent before the database was put back, marked not run: that does not say its units are not on sale, as
   * an earlier copy of the database may have put them there since the backup. They wait for a person who checks the
   * listing (RESTOCK_UNCERTAIN: restock or skip), never imported again on this answer alone (a unit on sale twice).
   */
  function holdNotRunAfterRestore(intent: Intent<{ lines: { sku: string }[] }>, actor: string): void {
    for (const sku of new Set(intent.payload.lines.map((l) => l.sku))) {
      if (ctx.restock.holdForPerson(sku, `marked not applied by ${actor} after a restore; waiting for a person`) === 0) continue;
      // Raised again while open, its cause is replaced: it counts every unit held for it, not only those held just now.
      const held = ctx.restock.rejectedOf(sku, 'restore');
      ctx.exceptions.raise({
        type: 'RESTOCK_UNCERTAIN',
        subjectKey: sku,
        offerSku: sku,
        cause:
          `${actor} marked a stock update sent before this database was put back from a backup as not run. ${held} returned unit(s) of ${sku} wait for this answer ` +
          `(those it carried among them) and may still be on sale: a copy of the database running after the backup may have put them there. Check the listing, then restock or skip them.`,
      });
    }
  }

  function prepareProbe(e: ExceptionRecord): () => string {
    const intent = refundIntentOf(e);
    if (!intent) {
      if (e.type === 'REFUND_STALLED') throw new AppError('CONFLICT', 'Nothing to probe: no refund of this line has been sent yet.');
      throw new AppError('CONFLICT', 'Nothing to probe: the call is gone.');
    }
    if (intent.state !== 'uncertain') throw new AppError('CONFLICT', `Nothing to probe: the call is ${intent.state}.`);
    if (intent.kind === 'stock.import') {
      // One sent before the database was put back is no longer checked by the engine (stock.ts, the restore settlement).
      if (ctx.restore.predates(intent.createdAt)) {
        return () =>
          "This stock update's answer was lost before the database was put back from a backup. Mirakl's quantities since also hold what stock updates made after the backup did, so the app cannot tell whether it ran and no longer checks it by itself: check the offers in Mirakl, then mark it done or not done.";
      }
    }
    if (intent.kind !== 'mirakl.refund') return () => 'The engine checks this call against the source of truth at each cycle; nothing is sent until it knows.';
    return () => {
      const verdict = probeRefund(ctx, intent);
      if (verdict === 'ours') return 'Mirakl shows the refund: it went through, and it is not sent again.';
      if (verdict === 'not_applied') return 'Mirakl shows no such refund: it did not go through and is sent again at the next cycle.';
      return "Mirakl's refunds for this order have not been read since the call settled; the engine reads them within minutes and decides then.";
    };
  }

  function prepareRefundDifference(e: ExceptionRecord): (actor: string) => string {
    if (!e.return_id || !e.order_line_id) throw new AppError('VALIDATION', 'This exception is not about one return line.');
    const returnId = e.return_id;
    const guard = evaluateRefundGuard(ctx, returnId, e.order_line_id);
    // refundFor leaves out units any refund intent of the line already covers (a failed one is retried, never
    // replaced) and money still on its way, so the difference is only what nothing of ours refunds yet.
    const verified = guard.verified.map((u) => u.id);
    const refund = refundFor(ctx, returnId, e.order_line_id, verified);
    const payload = refund.payload;
    if (!payload) {
      throw new AppError('GUARD_BLOCKED', refund.capped ?? 'Every verified unit of this line already has a refund (sent, on its way or to be retried); a difference beyond them needs a receipt.');
    }
    return (actor) => {
      // One key per set of units: the same difference can never be planned twice.
      const key = `refund-difference:${returnId}:${e.order_line_id}:${[...payload.units].sort().join(',')}`;
      const intent = planRefundIntent(ctx, key, payload, refund.madeAs);
      inReview(e);
      if (intent.state === 'confirmed') return `Mirakl already shows this refund (${(payload.amountMinor / 100).toFixed(2)} ${payload.currency}, made before this database knew of it): recorded as intent ${intent.id}, not sent again.`;
      return `Refund of the difference (${payload.units.length} verified unit(s), ${(payload.amountMinor / 100).toFixed(2)} ${payload.currency}) planned as intent ${intent.id}, by ${actor}.`;
    };
  }

  /** The checks of the actions every exception has (resolve, snooze, reopen), shared by the action and its offer. */
  const manualCheck: Record<ManualActionId, (e: ExceptionRecord) => void> = {
    resolve: (e) => {
      if (e.state === 'resolved') throw new AppError('CONFLICT', `Exception ${e.id} is already resolved.`);
      const held = heldFor(e);
      if (held > 0) {
        const answers = isNeverRestockQuestion(e) ? '"Skip the restock"' : '"Restock them" or "Skip the restock"';
        throw new AppError('CONFLICT', `${held} unit(s) of ${skuOf(e)} wait for this answer, and nothing else releases them: check the listing, then use ${answers}.`);
      }
    },
    snooze: (e) => {
      if (e.state === 'resolved') throw new AppError('CONFLICT', `Exception ${e.id} is resolved; it cannot be snoozed.`);
    },
    reopen: (e) => {
      if (e.state !== 'resolved') throw new AppError('CONFLICT', `Exception ${e.id} is not resolved.`);
      const other = exceptions.openOtherThan(e);
      if (other !== null) throw new AppError('CONFLICT', `Exception ${other} is already open for the same ${e.type} on ${e.subject_key}.`);
    },
    assign: () => undefined,
    comment: () => undefined,
  };

  /** Runs a person's action's check; a refusal is audited before it is answered. */
  function checkOrAudit(check: () => void, actor: string, action: string, e: ExceptionRecord, reason: string | null): void {
    try {
      check();
    } catch (error) {
      if (error instanceof AppError) auditRefusal(actor, action, `exception:${e.id}`, error, reason, { state: e.state });
      throw error;
    }
  }

  /** Runs `check` (reads only): what it answers, or why it refuses. */
  function attempt<T>(check: () => T): { value: T; whyNot: null } | { value: null; whyNot: string } {
    try {
      return { value: check(), whyNot: null };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return { value: null, whyNot: error.message };
    }
  }

  function availability(check: () => unknown): { isAllowed: boolean; whyNot: string | null } {
    const { whyNot } = attempt(check);
    return { isAllowed: whyNot === null, whyNot };
  }

  return {
    /** One action on each exception; each succeeds or fails alone (and atomically with its audit entry). */
    act(ids: number[], input: ActInput, actor: string): ActResult[] {
      answeredInBatch = new Map();
      const answered = answeredInBatch;
      try {
        return eachAlone(
          ids,
          (id) => {
            // Answered already by an earlier one of these (its refusals of the same offer): done, not refused.
            const by = answered.get(id);
            if (by !== undefined && exceptions.get(id)?.state === 'resolved') return `Answered with exception ${by}.`;
            return perform(load(id), input, actor);
          },
          (id, error) => {
            // Refused, its change was rolled back: what it answered is open again.
            for (const [other, by] of answered) if (by === id) answered.delete(other);
            const e = exceptions.get(id);
            if (e) auditRefusal(actor, `exception.${input.action}`, `exception:${id}`, error, input.reason?.trim() || null, { state: e.state, assignee: e.assignee });
          },
        );
      } finally {
        answeredInBatch = null;
      }
    },

    /**
     * What can be done about each exception now, and why not the rest: each action's own checks, run without acting.
     * Exceptions that do not exist are left out.
     */
    actions(ids: number[]): { id: number; actions: AvailableAction[] }[] {
      return ids.flatMap((id) => {
        const e = exceptions.get(id);
        if (!e) return [];
        const typeActions = exceptionTypes[e.type].actions as readonly ExceptionAction[];
        const resolutions: AvailableAction[] = typeActions.map((a) => ({
          id: a.id,
          kind: 'resolution',
          label: a.label,
          needsReason: a.needsReason,
          needsOfferSku: a.id === 'remap',
          help: a.help,
          ...availability(() => prepare(e, actionFor(e, a.id), { action: a.id }, 'nobody')),
        }));
        const manual: AvailableAction[] = (Object.keys(manualActions) as ManualActionId[]).map((m) => ({
          id: m,
          kind: 'manual',
          ...manualActions[m],
          needsOfferSku: false,
          ...availability(() => manualCheck[m](e)),
        }));
        return [{ id, actions: [...resolutions, ...manual] }];
      });
    },

    /** The offer SKU an exception about an offer (OFFER_NOT_FOUND, STOCK_REJECTED, RESTOCK_UNCERTAIN) is about; null for others or none. */
    offerSkuOf(id: number): string | null {
      const e = exceptions.get(id);
      return e && (e.offer_sku !== null || e.type === 'OFFER_NOT_FOUND') ? skuOf(e) : null;
    },

    /** What can be done about one return line's refund now, and why not: "refund now" checked without acting. */
    lineActions(returnId: string, orderLineId: string): LineAction[] {
      const plain = attempt(() => prepareRefundNow(returnId, orderLineId, false));
      const overridden = attempt(() => prepareRefundNow(returnId, orderLineId, true));
      // The override is offered only where it makes a difference: where the checks hold, "refund now" does it.
      const overrideWhyNot =
        overridden.whyNot ??
        (overridden.value.isOverride ? null : overridden.value.isRetry ? 'Not needed: the refund of this line is retried as planned.' : 'Not needed: every check passes, so it is refunded without an override.');
      return [
        { id: 'refund_now', ...(plain.value?.isRetry ? lineActionText.retry : lineActionText.refund_now), isAllowed: plain.whyNot === null, whyNot: plain.whyNot },
        { id: 'refund_override', ...lineActionText.refund_override, isAllowed: overrideWhyNot === null, whyNot: overrideWhyNot },
      ];
    },

    /** Resolve by hand with a reason, whatever the type (bulk). */
    resolve(ids: number[], reason: string, actor: string): ActResult[] {
      const why = requireReason(reason, 'Resolving by hand');
      return eachAlone(
        ids,
        (id) => {
          const e = load(id);
          manualCheck.resolve(e);
          closeByPerson(e, actor, why);
          audit.append({ actor, action: 'exception.resolve', subject: `exception:${e.id}`, before: { state: e.state }, after: { state: 'resolved' }, reason: why });
          return 'Resolved.';
        },
        (id, error) => {
          const e = exceptions.get(id);
          if (e) auditRefusal(actor, 'exception.resolve', `exception:${id}`, error, why, { state: e.state });
        },
      );
    },

    assign(ids: number[], assignee: string | null, actor: string): number {
      return exceptions.atomically(() => {
        let n = 0;
        for (const id of ids) {
          const e = load(id);
          if (e.assignee === assignee) continue;
          exceptions.assign(id, assignee);
          audit.append({ actor, action: 'exception.assign', subject: `exception:${id}`, before: { assignee: e.assignee }, after: { assignee } });
          n++;
        }
        return n;
      });
    },

    comment(id: number, body: string, actor: string): number {
      return exceptions.atomically(() => {
        load(id);
        const noteId = exceptions.addNote(id, actor, body);
        audit.append({ actor, action: 'exception.comment', subject: `exception:${id}`, after: { note: noteId, body } });
        return noteId;
      });
    },

    notes: (id: number) => {
      load(id);
      return exceptions.notes(id);
    },

    snooze(ids: number[], until: string, reason: string | undefined, actor: string): number {
      if (!(Date.parse(until) > ctx.clock.now())) throw new AppError('VALIDATION', `Snooze until ${until}: that is not in the future.`, [{ path: ['until'], message: 'must be in the future' }]);
      const untilIso = new Date(until).toISOString();
      const all = ids.map((id) => load(id));
      for (const e of all) checkOrAudit(() => manualCheck.snooze(e), actor, 'exception.snooze', e, reason ?? null);
      return exceptions.atomically(() => {
        for (const e of all) {
          exceptions.snooze(e.id, untilIso);
          audit.append({ actor, action: 'exception.snooze', subject: `exception:${e.id}`, before: { state: e.state }, after: { state: 'snoozed', until: untilIso }, reason: reason ?? null });
        }
        return ids.length;
      });
    },

    reopen(id: number, reason: string, actor: string): void {
      const why = requireReason(reason, 'Reopening');
      const e = load(id);
      checkOrAudit(() => manualCheck.reopen(e), actor, 'exception.reopen', e, why);
      exceptions.atomically(() => {
        if (exceptions.reopen(e)) throw new AppError('CONFLICT', `Another exception is already open for the same ${e.type} on ${e.subject_key}.`);
        if (e.return_id) markDirty(e.return_id);
        audit.append({ actor, action: 'exception.reopen', subject: `exception:${id}`, before: { state: 'resolved', resolution: e.resolution }, after: { state: 'open' }, reason: why });
      });
    },

    /** "Refund now" from a return line: the engine's guard, or an override with a reason. */
    refundNow(returnId: string, orderLineId: string, actor: string, override: { reason: string } | null) {
      const why = override ? { reason: requireReason(override.reason, 'A refund override') } : null;
      try {
        return exceptions.atomically(() => {
          const { intent, overridden } = prepareRefundNow(returnId, orderLineId, why !== null).run(actor, why?.reason ?? null);
          markDirty(returnId);
          return { intentId: intent.id, state: intent.state, amountMinor: intent.payload.amountMinor, currency: intent.payload.currency, overridden };
        });
      } catch (error) {
        if (error instanceof AppError) auditRefusal(actor, 'refund.now', `return:${returnId}`, error, why?.reason ?? null, { orderLineId, override: why !== null });
        throw error;
      }
    },

    /** A person confirms or rejects a suggested match; a confirmed refund link explains that refund. */
    decideMatch(input: { kind: 'refund_line' | 'item_unit'; subject: string; candidate: string; decision: 'confirm' | 'reject'; reason: string }, actor: string): void {
      const why = requireReason(input.reason, 'Deciding a match');
      exceptions.atomically(() => {
        const row = reconciler.matches.get(input.kind, input.subject, input.candidate);
        if (!row) throw new AppError('NOT_FOUND', `No suggested match of ${input.subject} to ${input.candidate}.`);
        if (row.status !== 'suggested' && row.status !== 'ambiguous') throw new AppError('CONFLICT', `That match is already ${row.status}.`);
        if (input.decision === 'confirm') {
          const taken = reconciler.matches.linkedTo(input.kind, input.subject);
          if (taken !== undefined) throw new AppError('CONFLICT', `${input.subject} is already matched to ${taken}.`);
        }
        const status = input.decision === 'confirm' ? 'confirmed' : 'rejected';
        reconciler.matches.decide(input.kind, input.subject, input.candidate, status, actor);
        if (row.return_id) markDirty(row.return_id);
        if (input.kind === 'refund_line') reconciler.rejudge('refund', input.subject);
        audit.append({ actor, action: `match.${input.decision}`, subject: `match:${input.kind}:${input.subject}`, before: { candidate: input.candidate, status: row.status }, after: { status }, reason: why });
      });
    },
  };
}

function intentIdOf(e: ExceptionRecord): number {
  return Number(e.subject_key.replace(/^intent:/, ''));
}

export type Resolutions = ReturnType<typeof createResolutions>;
