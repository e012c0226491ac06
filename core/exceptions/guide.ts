import type { Policy } from '../mappings/schemas';
import {
  exceptionTypeNames,
  exceptionTypes,
  type ActionId,
  type ExceptionType,
  type ExceptionTypeName,
  type OwnerTeam,
  type Severity,
  type SlaPolicyKey,
  type SlaSource,
} from './catalogue';

// The catalogue rendered for people, not for IT: the in-app help next to each exception (helpFor) and the
// operations guide shipped with the app (renderOperationsGuide). Both take the policy, so every time limit shown
// is the one in force, never a number copied into prose.

/** The in-app help for one exception type: plain data, safe to send over the contract as JSON. */
export interface ExceptionHelp {
  type: ExceptionTypeName;
  title: string;
  owner: OwnerTeam;
  severity: Severity;
  /** When the exception is raised, with the policy's value: "4 hours after the return first appears in Mirakl". */
  sla: string;
  meaning: string;
  check: string[];
  actions: { id: ActionId; label: string; needsReason: boolean; help: string }[];
}

export const teamNames: Record<OwnerTeam, string> = {
  cs: 'Customer service',
  ops: 'Operations',
  warehouse: 'Warehouse',
  finance: 'Finance',
};

const teamWho: Record<OwnerTeam, string> = {
  cs: 'answers customers ("where is my refund?") and unsticks returns and refunds',
  ops: 'keeps returns flowing between the marketplace and ReBound: orders, reason and product mappings, stock, the connection itself',
  warehouse: 'deals with what physically arrived at the ReBound hub',
  finance: 'owns the money: refunds that do not match a receipt, amounts, the month-end close',
};

const severityNames: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };

const severityMeaning: Record<Severity, string> = {
  critical: 'money has left without proof, or nothing can move between the two systems: drop other work',
  high: 'a customer is waiting, or money is pending: deal with it the same day',
  medium: 'something is stuck, but nobody is out of pocket yet: deal with it within a working day or two',
  low: 'worth tidying up; nothing is blocked',
};

const severityOrder: Severity[] = ['critical', 'high', 'medium', 'low'];

/** What each policy time limit counts from, completing "<n hours> …". */
const slaClock: Record<SlaPolicyKey, string> = {
  returnNotCreatedHours: 'after the return first appears in Mirakl',
  statusNotPushedHours: 'after ReBound registers the parcel at its hub',
  refundStalledHours: 'after ReBound verifies the receipt',
  parcelStalledDays: 'without any news of the parcel',
  statusDriftHours: 'after Mirakl closes, cancels or refuses the return',
  orderWaitMinutes: 'after the return first appears in Mirakl',
};

const slaSetting: Record<SlaPolicyKey, string> = {
  returnNotCreatedHours: 'sla.returnNotCreatedHours',
  statusNotPushedHours: 'sla.statusNotPushedHours',
  refundStalledHours: 'sla.refundStalledHours',
  parcelStalledDays: 'sla.parcelStalledDays',
  statusDriftHours: 'sla.statusDriftHours',
  orderWaitMinutes: 'returns.orderWaitMinutes',
};

function plural(n: number, unit: string): string {
  const shown = Number(n.toFixed(2));
  return `${shown} ${unit}${shown === 1 ? '' : 's'}`;
}

/** A policy duration in the largest whole unit: 240 minutes → "4 hours", 1.5 hours → "90 minutes". */
export function formatDuration(value: number, unit: 'minutes' | 'hours' | 'days'): string {
  if (unit === 'days') return Number.isInteger(value) ? plural(value, 'day') : formatDuration(value * 24, 'hours');
  if (unit === 'hours') return Number.isInteger(value) ? plural(value, 'hour') : formatDuration(value * 60, 'minutes');
  return Number.isInteger(value / 60) ? plural(value / 60, 'hour') : plural(value, 'minute');
}

function policyValue(key: SlaPolicyKey, policy: Policy): string {
  if (key === 'orderWaitMinutes') return formatDuration(policy.returns.orderWaitMinutes, 'minutes');
  if (key === 'parcelStalledDays') return formatDuration(policy.sla.parcelStalledDays, 'days');
  return formatDuration(policy.sla[key], 'hours');
}

/** When an exception is raised, with the policy's own value. */
export function slaText(sla: SlaSource, policy: Policy): string {
  if ('policyKey' in sla) return `${policyValue(sla.policyKey, policy)} ${slaClock[sla.policyKey]}`;
  return sla.fixed === 'at once' ? 'at once, as soon as it is seen' : `after ${sla.fixed}`;
}

const entry = (type: ExceptionTypeName): ExceptionType => exceptionTypes[type];

export function helpFor(type: ExceptionTypeName, policy: Policy): ExceptionHelp {
  const t = entry(type);
  return {
    type,
    title: t.title,
    owner: t.owner,
    severity: t.severity,
    sla: slaText(t.sla, policy),
    meaning: t.meaning,
    check: [...t.check],
    actions: t.actions.map((a) => ({ id: a.id, label: a.label, needsReason: a.needsReason, help: a.help })),
  };
}

const anchor = (type: ExceptionTypeName) => type.toLowerCase().replace(/_/g, '-');
const link = (type: ExceptionTypeName) => `[${entry(type).title}](#${anchor(type)})`;
const cell = (text: string) => text.replace(/\|/g, '\\|');
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function typesOf(owner: OwnerTeam): ExceptionTypeName[] {
  return exceptionTypeNames
    .filter((n) => entry(n).owner === owner)
    .sort((a, b) => severityOrder.indexOf(entry(a).severity) - severityOrder.indexOf(entry(b).severity));
}

function typeList(owner: OwnerTeam, policy: Policy): string[] {
  return typesOf(owner).map((n) => `   - ${link(n)} (${severityNames[entry(n).severity].toLowerCase()}; raised ${slaText(entry(n).sla, policy)}).`);
}

function tolerance(policy: Policy): string {
  const n = policy.refunds.toleranceMinor;
  if (n === 0) return 'any difference in a refunded amount, however small, counts as a mismatch';
  return `differences in a refunded amount of up to ${n} ${n === 1 ? 'penny or cent' : 'pence or cents'} are not treated as a mismatch`;
}

function verifiedReceipt(policy: Policy): string {
  return policy.refunds.trigger === 'inspected'
    ? 'ReBound has registered the item at its hub and graded it as sellable or acceptable'
    : 'ReBound has registered the item at its hub with the right product code';
}

function intro(policy: Policy): string[] {
  const sellable = policy.stock.sellableGrades.map((g) => `\`${g}\``).join(', ');
  return [
    '# Returns Workbench: operations guide',
    '',
    'For the people who run returns day to day: customer service, operations, the warehouse and finance. It says what',
    'the app does by itself, what it asks people to do, who owns what, and what to check every day and at month-end.',
    '',
    '> This file is generated from the exception catalogue in the app (`core/exceptions/catalogue.ts`) and the shipped',
    '> policy (`mappings/policy.yaml`). Do not edit it by hand: run `npx tsx core/cli/guide.ts`. The time limits below',
    "> are the shipped policy's; if yours were changed, the help next to each exception in the app shows your values.",
    '',
    '## What the app does',
    '',
    'Customers ask for returns on ASOS Marketplace, whose back office is **Mirakl**. **ReBound**, our returns partner,',
    'issues the returns label, carries the parcel to its hub, and registers and grades what arrives. The app connects the',
    'two, so nobody re-keys anything: it creates each return in ReBound, tells Mirakl when the items have arrived,',
    'refunds the customer once the items are verified, puts items fit to sell back on sale, and closes the return.',
    '',
    'The rules it keeps, with the current policy:',
    '',
    `- **No refund without a verified receipt.** A receipt counts as verified once ${verifiedReceipt(policy)}.`,
    `  Refunds on a carrier scan alone (before the parcel reaches the hub) are ${policy.refunds.allowCarrierScanRefunds ? '**switched on**' : 'switched off'}.`,
    '  A refund is never sent without a verified receipt unless a person records an override with a reason.',
    '- **Nobody is refunded twice.** When the app cannot tell whether a refund went through, it checks Mirakl before',
    '  it ever sends it again.',
    '- **Mirakl hears only what ReBound confirmed**: the marketplace is told an item arrived only after ReBound has',
    '  confirmed the product and its condition.',
    `- **Stock goes back once.** Each item ReBound grades as fit to sell (${sellable}) is put back on sale once, on the`,
    '  listing it was sold from.',
    `- **${capitalise(tolerance(policy))}.**`,
    '- **Every manual action is in the audit log**, and so is any change to the refund policy.',
    '',
    '### Words used in this guide',
    '',
    '| word | meaning |',
    '| --- | --- |',
    '| Mirakl back office | the marketplace system where returns, orders, refunds and listings live |',
    '| ReBound portal | ReBound\'s own website, showing labels, parcels and what the hub registered |',
    '| hub | the ReBound warehouse where returned parcels are opened, registered and graded |',
    '| listing (offer) | a product for sale on the marketplace, with its stock quantity |',
    '| product code (SKU) | the code that identifies a product; a listing is found by it |',
    '| verified receipt | proof from ReBound that a returned item arrived (see the rules above) |',
    "| timeline | the return's history in the app: everything Mirakl, ReBound and people did, in order |",
    '',
    '## Exceptions',
    '',
    'When the app cannot settle something by itself, or the two systems disagree for longer than allowed, it raises an',
    "**exception**: one line in the Exceptions section with a type, an owner team, a severity, the cause in plain words,",
    'the suggested next step, and the one-click actions that resolve it. There is never more than one open exception of',
    'the same type for the same return (or order line, or product): if the problem is seen again, the open one is',
    'updated, not duplicated. Each type has a short code in capitals, such as `REFUND_STALLED`, shown in the app.',
    '',
    '| state | meaning |',
    '| --- | --- |',
    '| open | new: nobody has picked it up yet |',
    '| in review | someone is working on it (it shows who) |',
    '| snoozed | put aside until a set time, when it comes back |',
    '| resolved | closed, by a person (with an action, and a reason where one is asked for) or by the app itself |',
    '',
    '**It often resolves itself.** When the two systems agree again (the refund shows as paid, the parcel arrives, the',
    'order appears), the exception closes by itself and records why. Read the cause before acting: the app may already',
    'be retrying.',
    '',
    '**Severity** says how soon to act:',
    '',
    ...severityOrder.map((s) => `- **${severityNames[s]}**: ${severityMeaning[s]}.`),
    '',
    '**The audit log.** Every manual action (who did what, when, what it was before and after, and the reason given) is',
    'written to an audit log that cannot be edited or deleted. Where an action asks for a reason, write one that',
    'finance could understand at month-end without asking you.',
    '',
  ];
}

function ownership(policy: Policy): string[] {
  const teams: OwnerTeam[] = ['cs', 'ops', 'warehouse', 'finance'];
  const limits = exceptionTypeNames.flatMap((n) => {
    const sla = entry(n).sla;
    return 'policyKey' in sla ? [{ n, key: sla.policyKey }] : [];
  });
  return [
    '## Who owns what',
    '',
    '| team | what they look after | exception types they own |',
    '| --- | --- | --- |',
    ...teams.map((t) => `| ${teamNames[t]} | ${cell(teamWho[t])} | ${typesOf(t).map(link).join(', ')} |`),
    '',
    'The owner team is the first to act; anyone can help. An exception can be handed on by assigning it to someone.',
    '',
    '### Time limits',
    '',
    'How long a situation may last before it becomes an exception. They are settings in the policy: ask whoever looks',
    'after the app to change them. Everything else is raised the moment it is seen.',
    '',
    '| exception | raised | policy setting |',
    '| --- | --- | --- |',
    ...limits.map(({ n, key }) => `| ${link(n)} | ${cell(slaText(entry(n).sla, policy))} | \`${slaSetting[key]}\` |`),
    '',
  ];
}

function dailyChecks(policy: Policy): string[] {
  return [
    '## Daily checks: customer service',
    '',
    '1. Open **Exceptions** and show those owned by Customer service, oldest first. Start with the most severe, then',
    '   anything older than its time limit. Your types, most urgent first:',
    ...typeList('cs', policy),
    '2. Refunds first: a stalled refund is a customer waiting for money. Check Mirakl for it before retrying; a retry',
    '   never refunds twice. Escalate to finance when the refund needs a decision about money.',
    '3. To answer "where is my refund?", search **Returns** by order number, return number, ReBound reference or tracking',
    "   number and read the return's timeline. If ReBound has not verified the items yet, no refund is due: tell the",
    '   customer where the parcel is instead.',
    '4. For stalled parcels, check the tracking number with the carrier and note what you did on the exception.',
    '',
    '## Daily checks: operations and warehouse',
    '',
    '1. Open the **Dashboard**: every feed should show a recent last success. If one has not succeeded for a while, or',
    '   the credentials were refused, fix that first: nothing else moves until the connection works.',
    '2. Open **Exceptions** and show those owned by Operations, most severe first:',
    ...typeList('ops', policy),
    '3. A missing reason mapping or a missing listing holds up every return with that reason or product: fix the',
    '   mapping once and reprocess, and the rest clears by itself.',
    '4. When the outcome of a change is unknown, look in Mirakl or ReBound before marking it done or not done. For a',
    '   refund, marking it "not done" by mistake refunds the customer twice.',
    '5. Warehouse: show the exceptions owned by the Warehouse and compare each with what the hub registered in the',
    '   ReBound portal:',
    ...typeList('warehouse', policy),
    '',
  ];
}

function monthEnd(policy: Policy): string[] {
  return [
    '## Month-end checks for finance',
    '',
    'Before closing a month, in this order:',
    '',
    `1. **Refunds without a verified receipt must be 0.** Every ${link('REFUND_WITHOUT_RECEIPT')} of the month is explained`,
    '   and acknowledged with a reason; none is left open. Acknowledged ones stay on the report with their reasons.',
    '2. **Receipts without a refund are listed.** Items ReBound verified but not yet refunded should each be on their way',
    `   (verified less than ${policyValue('refundStalledHours', policy)} ago), have an open ${link('REFUND_STALLED')} being`,
    '   dealt with, or be explained (for example a partial receipt accepted, or a refund made by hand).',
    `3. **Amount mismatches are explained.** Every ${link('REFUND_AMOUNT_MISMATCH')} is resolved: the variance accepted`,
    `   with a reason, or the difference refunded (${tolerance(policy)}).`,
    `4. **No refund of unknown outcome.** No ${link('OUTCOME_UNKNOWN')} about a refund is left open: until it is settled`,
    '   nobody knows whether the money left.',
    '5. **Overrides reviewed.** In the audit log, read every refund sent with "Refund now (override)" and every',
    '   acknowledged refund or accepted variance of the month, with its reason and who gave it.',
    '6. **Lock the period.** The period lock comes with the month-end reports in the **Reports** section (the',
    '   reconciliation report as CSV, Excel or PDF, and an evidence bundle for review offline). Lock only when checks 1',
    '   to 5 are clean. Until the reports arrive, the checks above are the month-end sign-off.',
    '',
    'Your exception types:',
    '',
    ...typeList('finance', policy).map((l) => l.replace(/^ {3}/, '')),
    '',
  ];
}

function typeSection(type: ExceptionTypeName, policy: Policy): string[] {
  const t = entry(type);
  const sla = t.sla;
  const raised = capitalise(slaText(sla, policy)) + ('policyKey' in sla ? ` (policy setting \`${slaSetting[sla.policyKey]}\`)` : '');
  return [
    `<a id="${anchor(type)}"></a>`,
    '',
    `### ${t.title} (\`${type}\`)`,
    '',
    t.meaning,
    '',
    `- **Owner:** ${teamNames[t.owner]}`,
    `- **Severity:** ${severityNames[t.severity]}`,
    `- **Raised:** ${raised}`,
    `- **Next step:** ${t.nextAction}`,
    '',
    '**What to check**',
    '',
    ...t.check.map((c) => `- ${c}`),
    '',
    '**How to resolve**',
    '',
    ...(t.actions.length === 0
      ? ['- There is no one-click action in the app for this one: see "What to check".']
      : t.actions.map((a) => `- **${a.label}**${a.needsReason ? ' (needs a reason)' : ''}: ${a.help}`)),
    '',
  ];
}

/** The operations guide in Markdown, for the people running the business; every time limit comes from `policy`. */
export function renderOperationsGuide(policy: Policy): string {
  const lines = [
    ...intro(policy),
    ...ownership(policy),
    ...dailyChecks(policy),
    ...monthEnd(policy),
    '## Exception types',
    '',
    'One section per type, grouped by owner team. "Needs a reason" means the app asks you to write why; the reason is',
    'kept in the audit log.',
    '',
    ...(['cs', 'ops', 'warehouse', 'finance'] as const).flatMap((team) => typesOf(team).flatMap((n) => typeSection(n, policy))),
  ];
  return lines.join('\n').replace(/\n+$/, '') + '\n';
}
