import type { AuditLog } from '../audit/log';
import type { MappingFileName, MappingsPreview, ReasonLists } from '../contract';
import { AppError } from '../errors';
import { restockTargets, type Policy, type ReasonCodes, type RestockTarget, type SkuOffers } from '../mappings/schemas';
import type { MappingStore } from '../mappings/store';
import type { IncrementGroup, MappingImpactRepo, TouchedReturn } from '../store/mapping-impact-repo';
import type { DomainContext } from '../sync/context';
import { feeds as engineFeeds } from '../sync/engine';
import { raiseEarlierCopyHold } from '../sync/feeds/stock';

// The mapping editor: what a change to reason codes, SKU → offer overrides or the policy would touch among stored
// records, and saving it. A saved file is audited (who, before and after with its text, why) and takes effect at
// once for the core and the engine; then the records it decides are re-evaluated straight away, so a return held by
// an unmapped reason continues and its exception closes without waiting for a cycle. Stock already restored never
// moves: only increments not yet sent follow a changed SKU override (stock is restored exactly once per unit).
// A reason mapping must name Mirakl's own reasons (RE01, issue 24): a refund reason Mirakl does not have, or keeps for
// the operator, is refused before anything is saved — in the preview and at the save — and every problem is said as
// the editor's table shows it (its row counted from 1, its column's label), not as a path counted from 0.

export interface Affected {
  description: string;
  count: number;
  returns?: { total: number; sample: string[] };
  money?: { currency: string; amountMinor: number }[];
}

type Problem = { path: string; row?: number; where?: string; message: string };

/** The editor's tables: each file's list and its columns' labels, to say where a problem is in the table's words. */
const tables: Partial<Record<MappingFileName, { list: string; columns: Record<string, string> }>> = {
  reasonCodes: { list: 'reasons', columns: { mirakl: 'Mirakl return reason', rebound: 'ReBound reason text', refund: 'Mirakl refund reason' } },
  skuOffers: { list: 'overrides', columns: { orderSku: 'Returned SKU', offerSku: 'Mirakl offer SKU', restock: 'Restock' } },
};

const fileWords: Record<MappingFileName, string> = { reasonCodes: 'reason mapping', skuOffers: 'SKU → offer overrides', policy: 'policy' };

/** `reasons[6].refund` → row 7, "Row 7, Mirakl refund reason"; a problem outside the rows keeps its path. */
function located(file: MappingFileName, p: Problem): Problem {
  const table = tables[file];
  const match = table ? new RegExp(`^${table.list}\\[(\\d+)\\](?:\\.(\\w+))?`).exec(p.path) : null;
  if (!table || !match) return p;
  const row = Number(match[1]) + 1;
  const column = match[2] ? (table.columns[match[2]] ?? match[2]) : null;
  return { ...p, row, where: column ? `Row ${row}, ${column}` : `Row ${row}` };
}

/** How many returns, and the first few order numbers; what their lines are worth per currency. */
function touched(rows: TouchedReturn[], what: 'lines' | 'returns'): Pick<Affected, 'count' | 'returns' | 'money'> {
  const money = new Map<string, number>();
  for (const r of rows) if (r.currency) money.set(r.currency, (money.get(r.currency) ?? 0) + r.valueMinor);
  const orders = [...new Set(rows.map((r) => r.commercialId))];
  return {
    count: what === 'lines' ? rows.reduce((n, r) => n + r.lines, 0) : orders.length,
    returns: { total: orders.length, sample: orders.slice(0, 8) },
    money: [...money].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => ({ currency, amountMinor })),
  };
}

/**
 * Codes the reason mapping names that Mirakl does not have: a refund reason not among RE01's REFUND reasons, or one
 * the shop may not use; a return reason neither Mirakl's (RE01 RETURN, the seller spec's enum) nor on any stored
 * return. Refund reasons cannot be checked while Mirakl's lists have never been read: that is a warning.
 */
function unknownCodes(file: ReasonCodes, lists: ReasonLists): { problems: Problem[]; warnings: string[] } {
  const problems: Problem[] = [];
  const refunds = new Map(lists.refund.map((r) => [r.code, r]));
  const usable = lists.refund.filter((r) => r.isShopRight).map((r) => `${r.code} (${r.label})`);
  const returns = new Set(lists.returns.map((r) => r.code));
  file.reasons.forEach((r, i) => {
    if (!returns.has(r.mirakl)) {
      problems.push({ path: `reasons[${i}].mirakl`, message: `"${r.mirakl}" is not a return reason Mirakl has: pick one of its return reasons.` });
    }
    if (lists.readAt === null) return;
    const refund = refunds.get(r.refund);
    if (!refund) problems.push({ path: `reasons[${i}].refund`, message: `"${r.refund}" is not one of Mirakl's refund reasons: pick one of ${usable.join(', ') || 'them'}.` });
    else if (!refund.isShopRight) problems.push({ path: `reasons[${i}].refund`, message: `"${r.refund}" (${refund.label}) is kept by Mirakl for the operator: the shop cannot refund with it.` });
  });
  const warnings =
    lists.readAt === null
      ? [`Mirakl's refund reasons have not been read yet${lists.problem ? ` (${lists.problem})` : ''}, so the refund reasons are not checked against them.`]
      : [];
  return { problems, warnings };
}

const stageNames = { pre: ['awaiting_order', 'blocked'] } as const;
const slaTypes: Record<keyof Policy['sla'], string> = {
  returnNotCreatedHours: 'RETURN_NOT_CREATED',
  statusNotPushedHours: 'STATUS_NOT_PUSHED',
  refundStalledHours: 'REFUND_STALLED',
  parcelStalledDays: 'PARCEL_STALLED',
  statusDriftHours: 'STATUS_DRIFT',
};

type Target = RestockTarget;

const sameTarget = (a: Target, b: Target) => (a.kind === 'skip' ? b.kind === 'skip' : b.kind === 'offer' && a.sku === b.sku);

export interface MappingEditorPorts {
  domain: DomainContext;
  mappings: MappingStore;
  audit: AuditLog;
  /** Who acts (read at each action: the name set in Settings can change between two). */
  actor: () => string;
  /** After a save: tell the sync service to carry on with what the change unblocked. */
  afterSave: (file: MappingFileName) => void;
  /** Sandbox mode keeps its edits with the sandbox's data, which the next launch starts afresh. */
  isSandbox: boolean;
  /** What a change would touch, counted in the store. */
  impact: MappingImpactRepo;
  /** Mirakl's reason lists (RE01), read when never read or stale; `onQueue` when the caller already runs on the queue. */
  reasons: { current(options?: { onQueue?: boolean }): Promise<ReasonLists> };
}

export function createMappingEditor(ports: MappingEditorPorts) {
  const { domain, mappings, audit } = ports;
  const impact = ports.impact;
  const nowIso = () => new Date(domain.clock.now()).toISOString();

  // ---- reason codes ---------------------------------------------------------------------------------------------

  function changedReasonCodes(before: ReasonCodes, after: ReasonCodes) {
    const key = (r: ReasonCodes['reasons'][number]) => `${r.rebound}\u0000${r.refund}`;
    const was = new Map(before.reasons.map((r) => [r.mirakl, key(r)]));
    const now = new Map(after.reasons.map((r) => [r.mirakl, key(r)]));
    const changed = [...new Set([...was.keys(), ...now.keys()])].filter((code) => was.get(code) !== now.get(code));
    const removed = [...was.keys()].filter((code) => !now.has(code));
    return { changed, removed, mapped: new Set(now.keys()) };
  }

  /** Open UNMAPPED_REASON exceptions whose return has every reason mapped in `mapped`. */
  function unmappedReasonResolvedBy(mapped: Set<string>): { id: number; returnId: string; commercialId: string }[] {
    return impact
      .unmappedReasonExceptions()
      .filter((r) => r.codes.every((c) => mapped.has(c)))
      .map(({ id, returnId, commercialId }) => ({ id, returnId, commercialId }));
  }

  function previewReasonCodes(after: ReasonCodes): Affected[] {
    const { changed, removed, mapped } = changedReasonCodes(mappings.current().reasonCodes, after);
    const resolved = unmappedReasonResolvedBy(mapped);
    const resolvedOrders = [...new Set(resolved.map((r) => r.commercialId))];
    return [
      {
        description: 'Open "return reason has no mapping" exceptions this change resolves (those returns continue)',
        count: resolved.length,
        returns: { total: resolvedOrders.length, sample: resolvedOrders.slice(0, 8) },
      },
      { description: 'Return lines whose reason code changes mapping (value of their returned units)', ...touched(impact.returnsWithReasons(changed, false), 'lines') },
      {
        description: 'Of those, lines not refunded yet: their refund will carry the new refund reason',
        ...touched(impact.returnsWithReasons(changed, true), 'lines'),
      },
      {
        description: 'Refunds Mirakl refused on those lines: a retry now sends them with the new refund reason',
        ...touched(impact.failedRefundsWithReasons(changed), 'lines'),
      },
      {
        description: 'Returns not yet sent to ReBound that a removed reason would hold back',
        count: impact.returnsInStagesWithReasons(stageNames.pre, removed),
      },
    ];
  }

  /** Closes UNMAPPED_REASON exceptions the new mapping covers and lets their returns through at once. */
  function applyReasonCodes(after: ReasonCodes, version: string): void {
    const { mapped } = changedReasonCodes(mappings.current().reasonCodes, after);
    for (const { returnId } of unmappedReasonResolvedBy(mapped)) {
      domain.exceptions.autoResolve('UNMAPPED_REASON', returnId, `every reason of the return is now mapped (${version})`);
      impact.releaseBlocked(returnId, nowIso());
    }
  }

  // ---- SKU → offer overrides --------------------------------------------------------------------------------------

  function changedSkus(before: SkuOffers, after: SkuOffers): string[] {
    const skus = new Set([...before.overrides, ...after.overrides].map((o) => o.orderSku));
    const [was, willBe] = [restockTargets(before.overrides), restockTargets(after.overrides)];
    return [...skus].filter((sku) => !sameTarget(was(sku), willBe(sku)));
  }

  /** Increments not sent yet of units whose order SKU changes override: what applyMapping moves, and what it leaves held. */
  function openIncrements(skus: string[]): IncrementGroup[] {
    return impact.openIncrements(skus);
  }

  function skuOutcome(after: SkuOffers) {
    const skus = changedSkus(mappings.current().skuOffers, after);
    let moved = 0;
    let stopped = 0;
    let resumed = 0;
    let held = 0;
    const leaving = new Map<string, number>();
    const targetOf = restockTargets(after.overrides);
    for (const g of openIncrements(skus)) {
      // Held for a person: it waits for their answer, wherever the edit sends the SKU (one in doubt the mapping skipped,
      // brought back, is held on its new offer).
      if (g.held !== null) {
        held += g.n;
        continue;
      }
      const target = targetOf(g.orderSku);
      if (g.state === 'skipped') {
        if (g.byMapping && target.kind === 'offer') resumed += g.n;
        continue;
      }
      if (target.kind === 'skip') stopped += g.n;
      else if (target.sku !== g.target) moved += g.n;
      else continue;
      leaving.set(g.target, (leaving.get(g.target) ?? 0) + g.n);
    }
    // An OFFER_NOT_FOUND is about units waiting for an offer SKU Mirakl lacks: it closes once none waits for it.
    const resolves = impact.openOfferNotFound().filter((sku) => (leaving.get(sku) ?? 0) > 0 && impact.pendingOnOffer(sku) <= (leaving.get(sku) ?? 0));
    return { skus, moved, stopped, resumed, held, resolves };
  }

  function previewSkuOffers(after: SkuOffers): Affected[] {
    const o = skuOutcome(after);
    return [
      { description: 'Returned SKUs whose override changes', count: o.skus.length },
      { description: 'Units waiting to be restocked that move to another offer', count: o.moved },
      { description: 'Units waiting to be restocked that will not be restocked', count: o.stopped },
      { description: 'Units the mapping had excluded that will be restocked again', count: o.resumed },
      { description: 'Open "no Mirakl offer for the returned SKU" exceptions this change resolves', count: o.resolves.length },
      { description: 'Units held for a person (RESTOCK_UNCERTAIN) that keep waiting for that answer, whatever this change says', count: o.held },
    ];
  }

  /**
   * Re-targets the increments not sent yet; never touches one being imported or applied, nor one held for a person (it
   * may already be on sale): only their decision on its RESTOCK_UNCERTAIN releases it. A unit in doubt the mapping had
   * skipped, brought back, is held on its new offer and asked of a person, as planning it there would have.
   */
  function applySkuOffers(after: SkuOffers, version: string): void {
    const o = skuOutcome(after);
    const heldForPerson = new Set<string>();
    const targetOf = restockTargets(after.overrides);
    for (const orderSku of o.skus) {
      const target = targetOf(orderSku);
      const { heldForPerson: held } = domain.restock.applyMapping(orderSku, target, `sku-offers mapping ${version}`);
      if (held > 0 && target.kind === 'offer') heldForPerson.add(target.sku);
    }
    for (const sku of heldForPerson) raiseEarlierCopyHold(domain, sku);
    for (const sku of o.resolves) domain.exceptions.autoResolve('OFFER_NOT_FOUND', sku, `no unit waits for this offer any more (${version})`);
  }

  // ---- policy -----------------------------------------------------------------------------------------------------

  function previewPolicy(after: Policy): Affected[] {
    const before = mappings.current().policy;
    const affected: Affected[] = [];
    const cadenceKeys = Object.keys(after.cadences) as (keyof Policy['cadences'])[];
    affected.push({ description: 'Polling cadences that change', count: cadenceKeys.filter((k) => before.cadences[k] !== after.cadences[k]).length });
    for (const key of Object.keys(slaTypes) as (keyof Policy['sla'])[]) {
      if (before.sla[key] === after.sla[key]) continue;
      const type = slaTypes[key];
      affected.push({
        description: `${type}: divergences being timed or raised whose time limit changes (${before.sla[key]} → ${after.sla[key]})`,
        count: impact.watchesOfType(type),
      });
    }
    if (before.refunds.trigger !== after.refunds.trigger || before.refunds.allowCarrierScanRefunds !== after.refunds.allowCarrierScanRefunds) {
      affected.push({
        description: 'Units registered at a hub but not graded yet, whose refund timing changes with the refund trigger',
        count: impact.unitsRegisteredNotGraded(),
      });
      affected.push({ description: 'Units still in transit (refundable on a carrier scan only if that is allowed)', count: impact.unitsInTransit() });
    }
    if (before.refunds.shipping !== after.refunds.shipping || before.refunds.toleranceMinor !== after.refunds.toleranceMinor) {
      affected.push({
        description: 'Refunds planned or waiting to be retried (not sent yet)',
        count: impact.refundsNotSent(),
      });
      affected.push({
        description: 'Open refund amount mismatches judged again with the new tolerance',
        count: impact.openAmountMismatches(),
      });
    }
    if (JSON.stringify(before.stock.sellableGrades) !== JSON.stringify(after.stock.sellableGrades)) {
      affected.push({
        description: 'Units not graded yet (graded from now on with the new list; units already graded keep their decision)',
        count: impact.unitsNotGraded(),
      });
    }
    if (before.mirakl.orderTaxMode !== after.mirakl.orderTaxMode) {
      affected.push({
        description: `Orders whose amounts are read again in ${after.mirakl.orderTaxMode} (refunds already planned keep the mode they were planned in)`,
        count: impact.orders(),
      });
    }
    if (before.returns.autoAccept !== after.returns.autoAccept) {
      affected.push({ description: 'Returns waiting for acceptance', count: impact.returnsInStage('awaiting_acceptance') });
    }
    if (before.returns.orderWaitMinutes !== after.returns.orderWaitMinutes) {
      affected.push({ description: 'Returns waiting for their order to appear in Mirakl', count: impact.returnsInStage('awaiting_order') });
    }
    return affected;
  }

  function refundRuleChanged(after: Policy): boolean {
    const before = mappings.current().policy;
    return (
      before.refunds.trigger !== after.refunds.trigger ||
      before.refunds.allowCarrierScanRefunds !== after.refunds.allowCarrierScanRefunds ||
      before.mirakl.orderTaxMode !== after.mirakl.orderTaxMode
    );
  }

  // ---- preview and save -------------------------------------------------------------------------------------------

  function previewParsed(file: MappingFileName, value: unknown): Affected[] {
    if (file === 'reasonCodes') return previewReasonCodes(value as ReasonCodes);
    if (file === 'skuOffers') return previewSkuOffers(value as SkuOffers);
    return previewPolicy(value as Policy);
  }

  /** The file's shape, then (for reason codes) Mirakl's own codes: problems located as the table shows them. */
  async function check(file: MappingFileName, text: string, onQueue: boolean) {
    const checked = mappings.check(file, text);
    if (!checked.ok) return { ok: false as const, problems: checked.problems.map((p) => located(file, p)) };
    if (file !== 'reasonCodes') return { ...checked, warnings: [] as string[] };
    const { problems, warnings } = unknownCodes(checked.value as ReasonCodes, await ports.reasons.current({ onQueue }));
    if (problems.length) return { ok: false as const, problems: problems.map((p) => located(file, p)) };
    return { ...checked, warnings };
  }

  return {
    async preview(file: MappingFileName, text: string): Promise<MappingsPreview> {
      const checked = await check(file, text, false);
      if (!checked.ok) return { ok: false, problems: checked.problems };
      return { ok: true, affected: previewParsed(file, checked.value), ...(checked.warnings.length ? { warnings: checked.warnings } : {}) };
    },

    /** Saves a checked file; runs on the command queue (the caller's). */
    async save(input: { file: MappingFileName; text: string; reason?: string | undefined; baseVersion?: string | undefined }) {
      const { file, text } = input;
      const checked = await check(file, text, true);
      if (!checked.ok) {
        const where = checked.problems.map((p) => `${p.where ?? (p.path || '(top level)')}: ${p.message}`).join('; ');
        throw new AppError(
          'VALIDATION',
          `The ${fileWords[file]} was not saved: ${where}`,
          // Per field, for the editor to show at the cell; the message above says where, in the table's words.
          checked.problems.map((p) => ({ path: [p.path || '(top level)'], message: p.message })),
        );
      }
      const previous = mappings.file(file);
      if (input.baseVersion && input.baseVersion !== previous.version) {
        throw new AppError('CONFLICT', `The ${file} mapping changed since you opened it (now ${previous.version}); reload it and apply your edit again.`);
      }
      const reason = input.reason?.trim() || null;
      if (file === 'policy' && refundRuleChanged(checked.value as Policy) && (reason === null || reason.length < 3)) {
        throw new AppError('VALIDATION', 'Changing when refunds are sent (refund trigger or carrier-scan refunds) needs a reason; it is kept in the audit log.', [
          { path: ['reason'], message: 'required when the refund trigger or carrier-scan refunds change' },
        ]);
      }
      if (checked.version === previous.version) {
        return { file, version: previous.version, previousVersion: previous.version, auditSeq: null, affected: [], resolvedExceptions: 0, message: 'Nothing changed: the text is the one in force.' };
      }
      const affected = previewParsed(file, checked.value);
      const openBefore = impact.openExceptionIds();
      const staged = mappings.stage(file, text);
      let auditSeq = 0;
      try {
        domain.transaction(() => {
          auditSeq = audit.append({
            actor: ports.actor(),
            action: 'mappings.save',
            subject: `mapping:${file}`,
            before: { version: previous.version, source: previous.source, text: previous.text },
            after: { version: checked.version, text },
            reason,
          }).seq;
          // Re-evaluated with the old mapping still current, so the change is measured against what it replaces.
          if (file === 'reasonCodes') applyReasonCodes(checked.value as ReasonCodes, checked.version);
          if (file === 'skuOffers') applySkuOffers(checked.value as SkuOffers, checked.version);
          staged.commit();
        });
      } finally {
        staged.discard();
      }
      const policy = mappings.current().policy;
      if (file === 'policy') {
        for (const f of engineFeeds) domain.feeds.register({ feed: f.feed, label: f.label, cadenceSeconds: f.cadenceSeconds(policy) });
      }
      // A tolerance change judges again only the returns whose money differs by more than the smaller tolerance.
      domain.reconciler.run(policy, { fullPass: 'none' });
      const stillOpen = impact.openExceptionIds();
      const resolvedExceptions = [...openBefore].filter((id) => !stillOpen.has(id)).length;
      domain.events?.emit('mappings.changed', { file, version: checked.version });
      ports.afterSave(file);
      return {
        file,
        version: checked.version,
        previousVersion: previous.version,
        auditSeq,
        affected,
        resolvedExceptions,
        message:
          `Saved ${checked.version}; it is in force now.${resolvedExceptions ? ` ${resolvedExceptions} exception(s) resolved.` : ''}` +
          (ports.isSandbox ? ' Sandbox mode: this edit lasts until the app stops, like the rest of the sandbox; live mode keeps its own mappings.' : ''),
      };
    },
  };
}

export type MappingEditor = ReturnType<typeof createMappingEditor>;
