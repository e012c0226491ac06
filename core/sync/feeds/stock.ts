import { createHash } from 'node:crypto';
import { isApiError } from '../../net/api-error';
import type { EngineContext } from '../context';
import { isoAt } from '../context';
import { sendIntents } from '../execute';
import type { Intent } from '../intents';

// Stock is restored exactly once per sellable unit, on the offer the order line sold (or its mapped override),
// never guessed. Each unit gets one increment row (its id is the key); increments are flushed at most once a
// minute as one STO01 import of absolute quantities computed from a fresh OF21 read. One import is in flight at
// a time, so a read never overlaps our own pending write. A lost STO01 answer is settled by reading the
// quantities back once the import would have run: nearer the target means applied, nearer the start means not.

export interface ImportPayload {
  lines: { sku: string; from: number; to: number; units: string[] }[];
}

interface ImportOutcome {
  importId: string | null;
  status: string;
  checkedAt?: string;
}

const settleMs = 5 * 60_000;

export function planStockIncrements(ctx: EngineContext): void {
  const overrides = new Map(ctx.mappings().skuOffers.overrides.map((o) => [o.orderSku, o]));
  ctx.restock.planSellableUnits((orderSku) => {
    const override = overrides.get(orderSku);
    if (override && 'restock' in override) return { kind: 'skip' };
    return { kind: 'offer', sku: override && 'offerSku' in override ? override.offerSku : orderSku };
  });
}

function inFlight(ctx: EngineContext): Intent<ImportPayload> | undefined {
  return ctx
    .q(
      `SELECT id FROM intents WHERE kind = 'stock.import' AND (state IN ('planned', 'sending', 'uncertain')
         OR (state = 'confirmed' AND json_extract(outcome, '$.status') NOT IN ('COMPLETE', 'FAILED', 'SETTLED')))
       ORDER BY id LIMIT 1`,
    )
    .all()
    .map((r) => ctx.intents.get<ImportPayload>((r as { id: number }).id))
    .find((i): i is Intent<ImportPayload> => i !== undefined);
}

export async function flushStock(ctx: EngineContext): Promise<void> {
  const current = inFlight(ctx);
  if (current) return followImport(ctx, current);

  const pending = ctx
    .q(`SELECT offer_sku, group_concat(unit_id, ',') AS units FROM stock_increments WHERE state = 'pending' GROUP BY offer_sku ORDER BY min(created_at) LIMIT 100`)
    .all() as { offer_sku: string; units: string }[];
  if (pending.length === 0) return;
  const lines: ImportPayload['lines'] = [];
  for (const p of pending) {
    let offer;
    try {
      offer = await ctx.mirakl.offerBySku(p.offer_sku);
    } catch (error) {
      // An offer Mirakl sends unreadable holds back its own units only: its quantity cannot be trusted.
      if (!isApiError(error) || !error.quarantined) throw error;
      ctx.quarantine.hold([error.quarantined]);
      continue;
    }
    ctx.quarantine.release('OF21', [p.offer_sku]);
    const units = p.units.split(',').sort();
    if (!offer) {
      ctx.exceptions.raise({
        type: 'OFFER_NOT_FOUND',
        subjectKey: p.offer_sku,
        offerSku: p.offer_sku,
        cause: `${units.length} sellable unit(s) came back for SKU ${p.offer_sku}, but Mirakl has no offer with that shop SKU.`,
      });
      continue;
    }
    ctx.exceptions.autoResolve('OFFER_NOT_FOUND', p.offer_sku, 'the offer exists in Mirakl');
    lines.push({ sku: p.offer_sku, from: offer.quantity, to: offer.quantity + units.length, units });
  }
  if (lines.length === 0) return;
  // While OF21 was read, a person may have skipped or remapped some of these units (or another path moved them): the
  // guard is checked again now, in the same transaction that plans the import and just before it is sent. Only units
  // still pending on the same offer go out, and each line adds exactly the units it carries.
  let intent: Intent<ImportPayload> | undefined;
  let sending: ImportPayload['lines'] = [];
  ctx.db.transaction(() => {
    const claimable = ctx.restock.stillPending(lines);
    if (claimable.length === 0) return;
    const allUnits = claimable.flatMap((l) => l.units);
    // The units' exactly-once guarantee is their own state (pending → importing → applied); the key only names this
    // attempt, so a later attempt for the same units after a proven failure gets a fresh read and a new intent.
    const key = `stock-import:${createHash('sha256').update(allUnits.join('|')).digest('hex').slice(0, 24)}:${ctx.clock.now()}`;
    const planned = ctx.intents.plan<ImportPayload>({ kind: 'stock.import', key, subject: 'stock', payload: { lines: [] } });
    sending = ctx.restock.claimForImport(planned.id, claimable);
    ctx.intents.setPayload(planned.id, { lines: sending });
    intent = ctx.intents.get<ImportPayload>(planned.id);
  })();
  if (!intent) return;
  await sendStockImport(ctx, intent, sending);
}

async function sendStockImport(ctx: EngineContext, intent: Intent<ImportPayload>, lines: ImportPayload['lines']): Promise<void> {
  await sendIntents(ctx, [intent], {
    point: 'sto01',
    isUnsafeWrite: true,
    call: () => ctx.mirakl.importStock(lines.map((l) => ({ sku: l.sku, quantity: l.to }))),
    onResult: (importId) => ctx.intents.confirm(intent.id, { importId, status: 'SUBMITTED' } satisfies ImportOutcome),
  });
  const after = ctx.intents.get<ImportPayload>(intent.id);
  if (after?.state !== 'failed') return;
  const isRefused = after.nextAttemptAt === null;
  ctx.db.transaction(() => {
    releaseIncrements(ctx, intent.id, isRefused ? 'rejected' : 'pending', after.lastError ?? '');
    // Refused outright: these units are not back on sale, and only a person can say what to do about it.
    for (const line of isRefused ? lines : []) {
      ctx.exceptions.raise({
        type: 'STOCK_REJECTED',
        subjectKey: `${line.sku}:intent-${intent.id}`,
        offerSku: line.sku,
        cause: `Mirakl refused the stock import setting ${line.sku} to ${line.to} (${line.units.length} unit(s) restocked): ${after.lastError ?? 'no reason given'}`,
      });
    }
  })();
}

async function followImport(ctx: EngineContext, intent: Intent<ImportPayload>): Promise<void> {
  if (intent.state === 'uncertain') return probeImport(ctx, intent);
  if (intent.state === 'planned') {
    // Planned but never sent (the app stopped in between): its quantities are stale, so it is dropped and the
    // units go back to pending for a fresh read.
    ctx.db.transaction(() => {
      ctx.intents.fail(intent.id, 'never sent; replaced by a fresh import', null, 'planned');
      releaseIncrements(ctx, intent.id, 'pending', '');
    })();
    return;
  }
  if (intent.state !== 'confirmed') return;
  const outcome = intent.outcome as ImportOutcome;
  if (!outcome.importId) return;
  const status = await ctx.mirakl.importStatus(outcome.importId);
  if (status.status !== 'COMPLETE' && status.status !== 'FAILED') {
    ctx.intents.updateOutcome(intent.id, { ...outcome, status: status.status === 'WAITING' || status.status === 'RUNNING' ? status.status : 'RUNNING' });
    return;
  }
  let rejected = new Map<string, string>();
  if (status.has_error_report) {
    const errors = await ctx.mirakl.importErrors(outcome.importId);
    rejected = new Map(errors.map((e) => [e.sku, e.reason]));
  }
  ctx.db.transaction(() => {
    for (const line of intent.payload.lines) {
      const reason = status.status === 'FAILED' ? 'the whole import failed' : rejected.get(line.sku);
      if (reason) ctx.restock.markRejected(intent.id, reason, line.sku);
      else ctx.restock.markApplied(intent.id, null, line.sku);
      if (reason) {
        ctx.exceptions.raise({
          type: 'STOCK_REJECTED',
          subjectKey: `${line.sku}:${outcome.importId}`,
          offerSku: line.sku,
          cause: `Mirakl rejected setting ${line.sku} to ${line.to} (${line.units.length} unit(s) restocked) in import ${outcome.importId}: ${reason}`,
        });
      }
    }
    ctx.intents.updateOutcome(intent.id, { ...outcome, status: status.status });
  })();
}

function probeImport(ctx: EngineContext, intent: Intent<ImportPayload>): Promise<void> {
  if (ctx.clock.now() - Date.parse(intent.updatedAt) < settleMs) return Promise.resolve();
  return (async () => {
    const verdicts: ('applied' | 'not_applied' | 'unclear')[] = [];
    for (const line of intent.payload.lines) {
      const offer = await ctx.mirakl.offerBySku(line.sku);
      const q = offer?.quantity ?? line.from;
      const toTarget = Math.abs(q - line.to);
      const toStart = Math.abs(q - line.from);
      verdicts.push(toTarget < toStart ? 'applied' : toStart < toTarget ? 'not_applied' : 'unclear');
    }
    if (verdicts.every((v) => v === 'applied')) {
      ctx.db.transaction(() => {
        ctx.intents.confirmUncertain(intent.id, { importId: null, status: 'SETTLED', checkedAt: isoAt(ctx.clock.now()) } satisfies ImportOutcome);
        ctx.restock.markApplied(intent.id, 'confirmed by reading the quantities back');
        ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', `intent:${intent.id}`, 'the quantities show the import was applied');
      })();
    } else if (verdicts.every((v) => v === 'not_applied')) {
      ctx.db.transaction(() => {
        ctx.intents.fail(intent.id, 'the quantities show the import was not applied', null, 'uncertain');
        releaseIncrements(ctx, intent.id, 'pending', '');
        ctx.exceptions.autoResolve('OUTCOME_UNKNOWN', `intent:${intent.id}`, 'the quantities show the import was not applied');
      })();
    } else {
      ctx.exceptions.raise({
        type: 'OUTCOME_UNKNOWN',
        subjectKey: `intent:${intent.id}`,
        cause: `A stock import's answer was lost and the quantities read back do not tell whether it ran (${intent.payload.lines.length} offer(s)). Check the offers in Mirakl, then mark it confirmed or failed.`,
      });
    }
  })();
}

function releaseIncrements(ctx: EngineContext, intentId: number, state: 'pending' | 'rejected', note: string): void {
  if (state === 'pending') ctx.restock.releaseUnsent(intentId, note || null);
  else ctx.restock.markRejected(intentId, note);
}
