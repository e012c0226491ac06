import type { AuditLog } from '../audit/log';
import { findAction, type ActionId } from '../exceptions/catalogue';
import { AppError } from '../errors';
import type { ExceptionRecord } from '../ledger/exceptions';
import type { DomainContext } from '../ledger/domain';
import { evaluateRefundGuard, probeRefund, refundFor, type RefundPayload } from '../ledger/refunds';
import type { Intent } from '../ledger/intents';

// What people do about exceptions. Every action goes through the engine's own guards and intents — a resolution
// never calls Mirakl or ReBound itself, it plans or reschedules what the engine sends — and every action is written
// to the audit log in the same transaction as the change it makes, so both land or neither does.
// A refund is never planned without a verified receipt unless a person records an override with a reason. Nothing here
// writes a table: exceptions change through the exceptions ledger, units through the restock ledger, calls through
// intents, and match decisions through the reconciler.

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

export function createResolutions(ctx: DomainContext, audit: AuditLog) {
  const { exceptions, reconciler } = ctx;
  /** After a person acted on a return, its row and exceptions are judged again at the next pass. */
  const markDirty = (returnId: string) => reconciler.rejudge('return', returnId);

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

  function refundIntentOf(e: ExceptionRecord): Intent<RefundPayload> | undefined {
    if (e.type === 'OUTCOME_UNKNOWN') return ctx.intents.get<RefundPayload>(intentIdOf(e));
    if (!e.return_id || !e.order_line_id) return undefined;
    return ctx.intents.findByKey<RefundPayload>(`refund:${e.return_id}:${e.order_line_id}`);
  }

  /**
   * A failed refund is never simply re-sent: it goes back to "uncertain", so the engine reads Mirakl's ledger first and
   * either records it as made (it went through after all) or sends it again (it is not there).
   */
  function recheckRefund(intent: Intent<RefundPayload>): void {
    ctx.intents.recheck(intent.id, 'a person asked to retry: Mirakl\'s refunds are read before it is sent again');
  }

  /** Plans a refund for a return line through the engine's guard; with an override when the guard holds it back. */
  function planRefundNow(returnId: string, orderLineId: string, actor: string, override: { reason: string } | null) {
    const guard = evaluateRefundGuard(ctx, returnId, orderLineId);
    const key = `refund:${returnId}:${orderLineId}`;
    const existing = ctx.intents.findByKey<RefundPayload>(key);
    if (existing) {
      if (existing.state === 'uncertain') throw new AppError('GUARD_BLOCKED', `The refund of ${orderLineId} may already have gone out; it must be probed in Mirakl before anything else.`);
      if (existing.state === 'failed') {
        recheckRefund(existing);
        audit.append({ actor, action: 'refund.retry', subject: `return:${returnId}`, before: { state: 'failed', lastError: existing.lastError }, after: { state: 'uncertain', retry: 'after reading the ledger' }, reason: override?.reason ?? null });
        return { intent: ctx.intents.get<RefundPayload>(existing.id) as Intent<RefundPayload>, overridden: false };
      }
      throw new AppError('CONFLICT', `The refund of ${orderLineId} is already ${existing.state}; it is never sent twice.`);
    }
    if (!guard.orderLine) throw new AppError('NOT_FOUND', `Return ${returnId} has no known order line ${orderLineId}.`);
    const failing = guard.conditions.filter((c) => !c.holds);
    // An override may stand in for the receipt, never for what OR28 itself needs (the line and a refund reason).
    const overridable = new Set(['verified receipt', 'Mirakl told of the receipt', 'Mirakl told of the inspection']);
    const hard = failing.filter((c) => !overridable.has(c.name));
    if (hard.length) throw new AppError('GUARD_BLOCKED', `Cannot refund: ${hard.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
    if (failing.length && !override) {
      throw new AppError('GUARD_BLOCKED', `No refund without a verified receipt: ${failing.map((c) => `${c.name} — ${c.detail}`).join('; ')}. Record an override with a reason to refund anyway.`);
    }
    const unitIds = failing.length
      ? guard.units.filter((u) => u.stage !== 'missing' && u.stage !== 'lost').map((u) => u.id)
      : guard.verified.map((u) => u.id);
    if (unitIds.length === 0) throw new AppError('GUARD_BLOCKED', `No unit of line ${orderLineId} is waiting to be refunded.`);
    const refund = refundFor(ctx, returnId, orderLineId, unitIds);
    if (!refund.payload) throw new AppError('CONFLICT', refund.capped ?? `Nothing is left to refund on line ${orderLineId}.`);
    const payload: RefundPayload = failing.length && override ? { ...refund.payload, override: { by: actor, reason: override.reason } } : refund.payload;
    const intent = ctx.intents.plan<RefundPayload>({ kind: 'mirakl.refund', key, subject: returnId, payload, mappingVersion: ctx.mappings().versions.reasonCodes });
    audit.append({
      actor,
      action: failing.length ? 'refund.override' : 'refund.now',
      subject: `return:${returnId}`,
      before: { guard: guard.conditions },
      after: { intent: intent.id, amountMinor: payload.amountMinor, currency: payload.currency, units: payload.units },
      reason: override?.reason ?? null,
    });
    return { intent, overridden: failing.length > 0 };
  }

  /** Runs `change` for each id in its own transaction: one that cannot be done is answered, the others still happen. */
  function eachAlone(ids: number[], change: (id: number) => string): ActResult[] {
    return ids.map((id) => {
      try {
        return { id, ok: true, message: exceptions.atomically(() => change(id)) };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return { id, ok: false, message: error.message, error: { code: error.code, message: error.message } };
      }
    });
  }

  /** One action on one exception; throws AppError when it cannot be done. Returns what happened, for the person. */
  function perform(e: ExceptionRecord, input: ActInput, actor: string): string {
    const action = findAction(e.type, input.action);
    if (!action) throw new AppError('VALIDATION', `${input.action} is not offered for ${e.type}.`, [{ path: ['action'], message: 'not offered for this type' }]);
    if (e.state === 'resolved') throw new AppError('CONFLICT', `Exception ${e.id} is already resolved; reopen it first.`);
    const reason = action.needsReason ? requireReason(input.reason, action.label) : input.reason?.trim() || null;
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
        closeByPerson(e, actor, `${action.label}: ${reason}`);
        return record(`${action.label}: resolved.`);
      case 'investigate':
      case 'chase_carrier':
        inReview(e);
        if (reason) exceptions.addNote(e.id, actor, reason);
        return record(`${action.label}: in review${reason ? ', note added' : ''}.`);
      case 'escalate':
        exceptions.escalateToFinance(e.id, actor, reason);
        return record('Escalated to finance.');
      case 'retry':
        return record(retry(e));
      case 'reprocess': {
        if (!exceptions.reprocessIntake(e.return_id)) throw new AppError('CONFLICT', `Return ${e.return_id} is not waiting for a mapping.`);
        return record('The return is checked again at the next cycle.');
      }
      case 'push_now': {
        const intent = ctx.intents.findByKey(`rt25:${e.return_id}`);
        if (!intent) throw new AppError('GUARD_BLOCKED', `Nothing to push yet: the receipt of ${e.return_id} is sent to Mirakl once ReBound has verified a unit, and none is verified.`);
        if (intent.state === 'failed') {
          ctx.intents.retryNow(intent.id);
          return record('The receipt is pushed to Mirakl again at the next cycle.');
        }
        if (intent.state === 'uncertain') throw new AppError('GUARD_BLOCKED', 'The last push may have reached Mirakl; it is being checked before any new push.');
        throw new AppError('CONFLICT', `The receipt push is already ${intent.state}.`);
      }
      case 'probe':
        return record(probe(e));
      case 'mark_confirmed':
      case 'mark_failed': {
        const intent = ctx.intents.get(intentIdOf(e));
        if (intent?.state !== 'uncertain') throw new AppError('CONFLICT', `The call is no longer uncertain (${intent?.state ?? 'gone'}).`);
        if (input.action === 'mark_failed' && intent.kind === 'mirakl.refund') {
          // A person's "it did not go through" never outranks Mirakl's ledger, and never stands in for it: only a read
          // of the ledger that began after the call can say a refund was not made (then it settles the call itself).
          const verdict = probeRefund(ctx, intent as Intent<RefundPayload>);
          if (verdict === 'ledger_not_read_yet') {
            throw new AppError(
              'GUARD_BLOCKED',
              "Mirakl's refunds for this order have not been read since the call, so nobody can say yet that it did not go through. The app reads them within minutes and settles it then.",
            );
          }
          const message = verdict === 'ours' ? 'Mirakl shows this refund went through: recorded as made, not failed.' : 'Mirakl shows no such refund: it is sent again at the next cycle.';
          // The probe has settled the call and closed this exception with the ledger's reason.
          return record(message, { intent: intent.id, ledger: verdict });
        }
        if (input.action === 'mark_confirmed') {
          ctx.intents.confirmUncertain(intent.id, { ...(intent.outcome as object | null), via: 'person', by: actor, ...(intent.kind === 'stock.import' ? { status: 'SETTLED' } : {}) });
          // A stock import seen applied: its units are back on sale, and must never be imported again.
          if (intent.kind === 'stock.import') ctx.restock.markApplied(intent.id, `applied: seen in Mirakl by ${actor}`);
        }
        else {
          // Never resent by itself: a person has to retry it once they have checked.
          ctx.intents.fail(intent.id, `marked not applied by ${actor}: ${reason}`, null, 'uncertain');
          if (intent.kind === 'stock.import') ctx.restock.releaseUnsent(intent.id, `marked not applied by ${actor}`);
        }
        closeByPerson(e, actor, `${action.label}: ${reason}`);
        return record(`${action.label}.`, { intent: intent.id, kind: intent.kind });
      }
      case 'refund_now': {
        if (!e.return_id || !e.order_line_id) throw new AppError('VALIDATION', 'This exception is not about one return line.');
        const { intent, overridden } = planRefundNow(e.return_id, e.order_line_id, actor, { reason: reason as string });
        inReview(e);
        return record(`Refund of ${(intent.payload.amountMinor / 100).toFixed(2)} ${intent.payload.currency} planned${overridden ? ' (override recorded)' : ''}; it goes out at the next cycle.`, { intent: intent.id });
      }
      case 'refund_difference':
        return record(refundDifference(e, actor));
      case 'remap': {
        const to = input.offerSku?.trim();
        if (!to) throw new AppError('VALIDATION', 'Remap needs the Mirakl offer SKU to restock.', [{ path: ['offerSku'], message: 'required' }]);
        const from = skuOf(e);
        const moved = ctx.restock.move(from, to, `remapped from ${from} by ${actor}`);
        closeByPerson(e, actor, `Remapped ${from} → ${to} (${moved} unit(s))`);
        return record(`${moved} unit(s) of ${from} will restock offer ${to}.`, { from, to, units: moved });
      }
      case 'skip_restock': {
        const sku = skuOf(e);
        const skipped = ctx.restock.skip(sku, `skipped by ${actor}: ${reason}`);
        closeByPerson(e, actor, `${action.label}: ${reason}`);
        return record(`${skipped} unit(s) of ${sku} will not be restocked.`, { sku, units: skipped });
      }
      case 'resync': {
        // ReBound's order is read again at the next poll; Mirakl's return is re-read with its next RT11 window.
        exceptions.resyncReturnOrder(e.return_id);
        inReview(e);
        return record('Both systems are read again at the next cycles.');
      }
    }
  }

  function retry(e: ExceptionRecord): string {
    if (e.type === 'RETURN_NOT_CREATED' || e.type === 'ORDER_NOT_FOUND') {
      const create = ctx.intents.findByKey(`rebound-return:${e.return_id}`);
      if (create?.state === 'uncertain') throw new AppError('GUARD_BLOCKED', 'The last creation may have reached ReBound; it is being checked first, so no duplicate is made.');
      if (create?.state === 'failed') ctx.intents.retryNow(create.id);
      const changed = exceptions.retryIntake(e.return_id, new Date(ctx.clock.now() + ctx.mappings().policy.returns.orderWaitMinutes * 60_000).toISOString());
      if (!changed && create?.state !== 'failed') throw new AppError('CONFLICT', `Return ${e.return_id} is not waiting on anything to retry.`);
      return 'Retried at the next cycle.';
    }
    if (e.type === 'REFUND_STALLED') {
      const intent = refundIntentOf(e);
      if (!intent) throw new AppError('GUARD_BLOCKED', 'No refund has been planned for this line yet; see why in the refund explanation.');
      if (intent.state === 'uncertain') throw new AppError('GUARD_BLOCKED', 'The last refund call may have gone through; it must be probed before any retry.');
      if (intent.state !== 'failed') throw new AppError('CONFLICT', `The refund is ${intent.state}; there is nothing to retry.`);
      recheckRefund(intent);
      return "Mirakl's refunds for this order are read first; if this refund is not among them, it is sent again within minutes.";
    }
    if (e.type === 'STATUS_PUSH_REJECTED') {
      // Subject rt04:<return>, rt26:<return> or rt27:<return>: the intent's own key. These updates are safe to repeat.
      const push = ctx.intents.findByKey(e.subject_key);
      if (push?.state !== 'failed' || !ctx.intents.retryNow(push.id)) throw new AppError('CONFLICT', `The update is ${push?.state ?? 'gone'}; there is nothing to retry.`);
      exceptions.resolveRetried(e.id, 'retried; a new refusal raises a new exception');
      return 'The update is sent to Mirakl again at the next cycle.';
    }
    if (e.type === 'STOCK_REJECTED') {
      const sku = skuOf(e);
      const units = ctx.restock.retryRejected(sku);
      if (!units) throw new AppError('CONFLICT', `No rejected restock of ${sku} is left to retry.`);
      exceptions.resolveRetried(e.id, `retried ${units} unit(s); a new rejection raises a new exception`);
      return `${units} unit(s) of ${sku} are restocked again at the next flush.`;
    }
    throw new AppError('VALIDATION', `retry is not offered for ${e.type}.`);
  }

  function probe(e: ExceptionRecord): string {
    const intent = refundIntentOf(e);
    if (intent?.kind === 'mirakl.refund' && intent.state === 'uncertain') {
      const verdict = probeRefund(ctx, intent);
      if (verdict === 'ours') return 'Mirakl shows the refund: it went through, and it is not sent again.';
      if (verdict === 'not_applied') return 'Mirakl shows no such refund: it did not go through and is sent again at the next cycle.';
      return "Mirakl's refunds for this order have not been read since the call settled; the engine reads them within minutes and decides then.";
    }
    if (intent && intent.state !== 'uncertain') return `Nothing to probe: the call is ${intent.state}.`;
    return 'The engine checks this call against the source of truth at each cycle; nothing is sent until it knows.';
  }

  function refundDifference(e: ExceptionRecord, actor: string): string {
    if (!e.return_id || !e.order_line_id) throw new AppError('VALIDATION', 'This exception is not about one return line.');
    const guard = evaluateRefundGuard(ctx, e.return_id, e.order_line_id);
    // refundFor leaves out units any refund intent of the line already covers (a failed one is retried, never
    // replaced) and money still on its way, so the difference is only what nothing of ours refunds yet.
    const verified = guard.verified.map((u) => u.id);
    const refund = refundFor(ctx, e.return_id, e.order_line_id, verified);
    if (!refund.payload) {
      throw new AppError('GUARD_BLOCKED', refund.capped ?? 'Every verified unit of this line already has a refund (sent, on its way or to be retried); a difference beyond them needs a receipt.');
    }
    // One key per set of units: the same difference can never be planned twice.
    const key = `refund-difference:${e.return_id}:${e.order_line_id}:${[...refund.payload.units].sort().join(',')}`;
    const intent = ctx.intents.plan<RefundPayload>({ kind: 'mirakl.refund', key, subject: e.return_id, payload: refund.payload, mappingVersion: ctx.mappings().versions.reasonCodes });
    inReview(e);
    return `Refund of the difference (${refund.payload.units.length} verified unit(s), ${(refund.payload.amountMinor / 100).toFixed(2)} ${refund.payload.currency}) planned as intent ${intent.id}, by ${actor}.`;
  }

  return {
    /** One action on each exception; each succeeds or fails alone (and atomically with its audit entry). */
    act(ids: number[], input: ActInput, actor: string): ActResult[] {
      return eachAlone(ids, (id) => perform(load(id), input, actor));
    },

    /** Resolve by hand with a reason, whatever the type (bulk). */
    resolve(ids: number[], reason: string, actor: string): ActResult[] {
      const why = requireReason(reason, 'Resolving by hand');
      return eachAlone(ids, (id) => {
        const e = load(id);
        closeByPerson(e, actor, why);
        audit.append({ actor, action: 'exception.resolve', subject: `exception:${e.id}`, before: { state: e.state }, after: { state: 'resolved' }, reason: why });
        return 'Resolved.';
      });
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
      return exceptions.atomically(() => {
        for (const id of ids) {
          const e = load(id);
          if (e.state === 'resolved') throw new AppError('CONFLICT', `Exception ${id} is resolved; it cannot be snoozed.`);
          exceptions.snooze(id, untilIso);
          audit.append({ actor, action: 'exception.snooze', subject: `exception:${id}`, before: { state: e.state }, after: { state: 'snoozed', until: untilIso }, reason: reason ?? null });
        }
        return ids.length;
      });
    },

    reopen(id: number, reason: string, actor: string): void {
      const why = requireReason(reason, 'Reopening');
      exceptions.atomically(() => {
        const e = load(id);
        if (e.state !== 'resolved') throw new AppError('CONFLICT', `Exception ${id} is not resolved.`);
        const other = exceptions.reopen(e);
        if (other) throw new AppError('CONFLICT', `Exception ${other.alreadyOpen} is already open for the same ${e.type} on ${e.subject_key}.`);
        if (e.return_id) markDirty(e.return_id);
        audit.append({ actor, action: 'exception.reopen', subject: `exception:${id}`, before: { state: 'resolved', resolution: e.resolution }, after: { state: 'open' }, reason: why });
      });
    },

    /** "Refund now" from a return line: the engine's guard, or an override with a reason. */
    refundNow(returnId: string, orderLineId: string, actor: string, override: { reason: string } | null) {
      const why = override ? { reason: requireReason(override.reason, 'A refund override') } : null;
      return exceptions.atomically(() => {
        const { intent, overridden } = planRefundNow(returnId, orderLineId, actor, why);
        markDirty(returnId);
        return { intentId: intent.id, state: intent.state, amountMinor: intent.payload.amountMinor, currency: intent.payload.currency, overridden };
      });
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
