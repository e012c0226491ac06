import type { ActionId } from '../contract/exceptions';

// Every exception type: who owns it, how bad it is, what it means, when it is raised and what a person should check
// and do. One catalogue serves the engine (which raises them), the in-app help and the operations guide
// (core/exceptions/guide.ts renders both; `npx tsx core/cli/guide.ts` regenerates OPERATIONS-GUIDE.md).
// A refund is never sent without a verified receipt unless a person records an override with a reason: the one
// action that does so (refund_now) needs a reason, like every action that closes an exception without fixing it.

export { actionIds, type ActionId } from '../contract/exceptions';

export type OwnerTeam = 'finance' | 'cs' | 'warehouse' | 'ops';
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** The policy settings (mappings/policy.yaml) that say how long a situation may last before it is raised. */
export type SlaPolicyKey =
  | 'returnNotCreatedHours'
  | 'statusNotPushedHours'
  | 'refundStalledHours'
  | 'parcelStalledDays'
  | 'statusDriftHours'
  | 'orderWaitMinutes';

/** Where the clock comes from: a policy setting, or a fixed rule (`at once` for what is raised the moment it is seen). */
export type SlaSource = { policyKey: SlaPolicyKey } | { fixed: string };



export interface ExceptionAction {
  id: ActionId;
  label: string;
  /** The person must give a reason; it is stored with the action in the audit log. */
  needsReason: boolean;
  help: string;
}

export interface ExceptionType {
  owner: OwnerTeam;
  severity: Severity;
  title: string;
  nextAction: string;
  /** What happened, in business terms. */
  meaning: string;
  sla: SlaSource;
  /** What to look at before acting. */
  check: readonly string[];
  actions: readonly ExceptionAction[];
}

const moneyRule =
  'A refund is never sent without a verified receipt unless a person records an override with a reason, and every manual action is written to the audit log.';

export const exceptionTypes = {
  RETURN_NOT_CREATED: {
    owner: 'cs',
    severity: 'high',
    title: 'Return not created in ReBound',
    nextAction: 'Retry the creation once the cause is fixed; dismiss with a reason if the customer withdrew.',
    meaning:
      'A customer asked for a return on the marketplace, but ReBound (our returns partner) has no return for it, so the customer may have no returns label yet. It is also raised at once when ReBound refuses the return, or when the return does not match its order (for example more items returned than were sold).',
    sla: { policyKey: 'returnNotCreatedHours' },
    check: [
      "The return's timeline in the app: the cause says whether ReBound refused it and why, or what does not match the order.",
      'The return and its order in the Mirakl back office (the marketplace system): is the return still open, and are the items and quantities right?',
      'The ReBound portal: search by the order number, in case the return is there under another reference.',
    ],
    actions: [
      {
        id: 'retry',
        label: 'Retry creating the return',
        needsReason: false,
        help: 'Sends the return to ReBound again. The app first looks for a return ReBound may already hold, so this never creates a second one.',
      },
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Closes the exception without creating the return, for example when the customer withdrew it. Nothing is sent to either system.',
      },
    ],
  },
  ORDER_NOT_FOUND: {
    owner: 'ops',
    severity: 'high',
    title: 'Order not visible in Mirakl',
    nextAction: 'Check the order in the Mirakl back office; retry now once it is visible, or dismiss with a reason.',
    meaning:
      'The marketplace shows a return, but the order it belongs to has not appeared in the order list the app reads from Mirakl. The app keeps trying by itself during the waiting time; nothing is created in ReBound until the order is known.',
    sla: { policyKey: 'orderWaitMinutes' },
    check: [
      'The order number in the Mirakl back office: does it exist, and is it for our shop?',
      "The return's timeline in the app: when the return arrived and how many times the order was looked up.",
      'The Dashboard: if the orders feed has not succeeded recently, the problem is the connection, not this order.',
    ],
    actions: [
      {
        id: 'retry',
        label: 'Retry now',
        needsReason: false,
        help: 'Looks the order up again straight away instead of waiting for the next attempt. If it is found, the return carries on by itself.',
      },
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Stops the app chasing this return, for example a test order or an order of another shop. The return is not sent to ReBound.',
      },
    ],
  },
  STATUS_NOT_PUSHED: {
    owner: 'cs',
    severity: 'medium',
    title: 'Receipt not pushed to Mirakl',
    nextAction: 'Push the status now; if Mirakl refuses, check the return state in the back office.',
    meaning:
      "ReBound has received the parcel at its hub, but the marketplace still shows the return as not received, so the customer's refund cannot start and the customer sees no progress.",
    sla: { policyKey: 'statusNotPushedHours' },
    check: [
      "The return's timeline in the app: when ReBound registered the parcel, and any error from Mirakl.",
      'The return in the Mirakl back office: its state (it should become RECEIVED, meaning received by the seller).',
    ],
    actions: [
      {
        id: 'push_now',
        label: 'Push the receipt now',
        needsReason: false,
        help: 'Tells Mirakl now that the items arrived, using what ReBound confirmed (product and condition). If Mirakl refuses, its answer is shown on the timeline.',
      },
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Closes the exception without telling Mirakl, for example when the return was handled by hand in the back office.',
      },
    ],
  },
  STATUS_PUSH_REJECTED: {
    owner: 'ops',
    severity: 'high',
    title: 'Mirakl refused a status update',
    nextAction: "Read Mirakl's message, correct the cause (in Mirakl's back office or the mappings), then retry the update, or dismiss it with a reason.",
    meaning:
      "The app told Mirakl something about a return — its label and tracking number, the inspection result, or that it is finished — and Mirakl refused it for good. The return carries on wherever it can (a refused tracking number does not stop the parcel being received and refunded), but Mirakl's view of it is now behind, and a return whose closing was refused stays open there. It is raised the moment Mirakl refuses.",
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: which update, and Mirakl's own message (for example the return is in a state that no longer allows it, or the tracking number is already used).",
      'The return in the Mirakl back office: its state, and whether someone changed it by hand.',
      "The return's timeline in the app: what was sent, and when.",
    ],
    actions: [
      {
        id: 'retry',
        label: 'Retry the update',
        needsReason: false,
        help: 'Sends the same update to Mirakl again at the next cycle. Use it once the cause is corrected; a new refusal raises this again.',
      },
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Closes the exception without sending anything, for example when the return was finished by hand in the Mirakl back office.',
      },
    ],
  },
  REFUND_STALLED: {
    owner: 'cs',
    severity: 'high',
    title: 'Refund not completed',
    nextAction: 'Check Mirakl for the refund, retry it, or escalate to finance.',
    meaning:
      'ReBound verified that the items arrived, but the customer has not been refunded in time: Mirakl does not show the refund as paid (REFUNDED). It is also raised at once when Mirakl refuses the refund.',
    sla: { policyKey: 'refundStalledHours' },
    check: [
      "The return's timeline in the app: the verified receipt, every refund attempt and Mirakl's answer to it.",
      "The order's refunds in the Mirakl back office: is a refund there, and in which state?",
      'The refund checks on the return (order line known, receipt verified, Mirakl told of the receipt, refund reason mapped): which one is not met?',
    ],
    actions: [
      {
        id: 'retry',
        label: 'Retry the refund',
        needsReason: false,
        help: `Sends the refund again, for the verified items only. If an earlier attempt may have reached Mirakl, the app checks Mirakl first so the customer is never refunded twice. ${moneyRule}`,
      },
      {
        id: 'probe',
        label: 'Check Mirakl for the refund',
        needsReason: false,
        help: "Reads the order's refunds from Mirakl now and records what it finds; if the refund is there and paid, the exception closes by itself. Nothing is sent.",
      },
      {
        id: 'escalate',
        label: 'Escalate to finance',
        needsReason: false,
        help: 'Hands the exception to the finance team, with a note, when the refund needs a decision about money.',
      },
      {
        id: 'refund_now',
        label: 'Refund now (override)',
        needsReason: true,
        help: `Sends the refund now even though the refund checks are not all met, for example when the item is known to be at the hub but ReBound has not registered it. This overrides the receipt check: the reason is required and recorded. ${moneyRule}`,
      },
    ],
  },
  REFUND_WITHOUT_RECEIPT: {
    owner: 'finance',
    severity: 'critical',
    title: 'Refund without a verified receipt',
    nextAction: 'Find who refunded and why; acknowledge with a reason once explained.',
    meaning:
      'Mirakl shows a refund that this app did not make, on an order line where ReBound has verified no returned item. Money has gone to the customer without proof that anything came back. It is raised the moment it is seen.',
    sla: { fixed: 'at once' },
    check: [
      'The refund in the Mirakl back office: date, amount and, where shown, who made it (often a manual refund or a goodwill gesture).',
      "The return's timeline in the app, and the ReBound portal: is a parcel on its way, or was the item never sent back?",
      'Ask customer service whether the refund was agreed with the customer.',
    ],
    actions: [
      {
        id: 'acknowledge',
        label: 'Acknowledge with a reason',
        needsReason: true,
        help: `Records that the refund is explained (for example a goodwill refund agreed by customer service) and closes the exception. The refund stays on the month-end report with your reason. ${moneyRule}`,
      },
    ],
  },
  REFUND_EXCEEDS_RECEIPT: {
    owner: 'finance',
    severity: 'critical',
    title: 'More refunded than came back',
    nextAction: 'Find the extra refund (usually one made in the Mirakl back office on top of the app\'s) and recover or explain it; acknowledge with a reason.',
    meaning:
      "Mirakl's refunds on an order line — every one, whether this app made it or someone else did in the back office — add up to more than the items ReBound verified as returned on that line are worth. The customer has been paid twice for the same item, or for an item that never came back. It is raised the moment it is seen.",
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: how much was refunded in all on the line, and what the verified items are worth.",
      'The refunds of the order line in the Mirakl back office: which were made by this app (its timeline shows them) and which by hand, by whom and when.',
      'Customer service: was an extra refund agreed with the customer (a goodwill gesture), or was it a mistake to recover?',
    ],
    actions: [
      {
        id: 'acknowledge',
        label: 'Acknowledge with a reason',
        needsReason: true,
        help: `Records why the line was refunded beyond its verified items (for example goodwill agreed with the customer) and closes the exception. It opens again if more is refunded. ${moneyRule}`,
      },
    ],
  },
  REFUND_AMOUNT_MISMATCH: {
    owner: 'finance',
    severity: 'high',
    title: 'Refunded amount differs from expected',
    nextAction: 'Accept the variance with a reason, or refund the difference.',
    meaning:
      'The amount refunded, or still refundable, on an order line differs from what the verified items are worth by more than the allowed tolerance. Usually part of the line was already refunded by hand in Mirakl.',
    sla: { fixed: 'at once' },
    check: [
      "The return's timeline in the app: the expected amount, what was refunded and when.",
      "The order line's refunds in the Mirakl back office: earlier or manual refunds, shipping and tax.",
    ],
    actions: [
      {
        id: 'accept_variance',
        label: 'Accept the variance',
        needsReason: true,
        help: `Accepts the difference as it is (for example a partial refund agreed with the customer) and closes the exception. The difference and your reason appear on the month-end report. ${moneyRule}`,
      },
      {
        id: 'refund_difference',
        label: 'Refund the difference',
        needsReason: false,
        help: `Refunds the missing amount, and only for items whose receipt ReBound verified. ${moneyRule}`,
      },
    ],
  },
  OUTCOME_UNKNOWN: {
    owner: 'ops',
    severity: 'high',
    title: 'Not known whether a change went through',
    nextAction: 'Check the other system again; after looking yourself, mark the change done or not done.',
    meaning:
      'The app asked Mirakl or ReBound to change something (for example a refund or a stock update), but the answer was lost, so nobody knows whether the change happened. The app never repeats such a change blindly: it checks the other system first, and raises this when an hour of checking has not settled it.',
    sla: { fixed: '1 hour' },
    check: [
      "The exception's cause: which change it was (refund, stock update, return creation…) and for which return or product.",
      'The Mirakl back office or the ReBound portal, whichever the change was sent to: did it happen (a refund listed, a quantity changed, a return created)?',
    ],
    actions: [
      {
        id: 'probe',
        label: 'Check again now',
        needsReason: false,
        help: 'Reads the other system again now; if the answer is clear, the exception closes by itself. Nothing is sent.',
      },
      {
        id: 'mark_confirmed',
        label: 'Mark as done',
        needsReason: true,
        help: 'Records that you saw the change in the other system, so it is never sent again. Say where you saw it.',
      },
      {
        id: 'mark_failed',
        label: 'Mark as not done',
        needsReason: true,
        help: "Records that you checked and the change did not happen; the app may then send it again. For a refund, be sure: a wrong answer refunds the customer twice. For a stock update, only Mirakl's import history says: a quantity unchanged proves nothing while it may wait in Mirakl's queue.",
      },
    ],
  },
  UNMAPPED_REASON: {
    owner: 'ops',
    severity: 'medium',
    title: 'Return reason has no mapping',
    nextAction: 'Add the reason to the reason mapping (Settings › Reason mappings); the return then continues at the next sync, or reprocess it now.',
    meaning:
      'The customer gave a return reason that the app does not know how to translate for ReBound and for the refund. The return waits: the app never guesses a reason.',
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: which reason code is missing.",
      'The reason list in Mirakl (the reasons offered to customers), to choose the matching ReBound reason and refund reason.',
    ],
    actions: [
      {
        id: 'reprocess',
        label: 'Reprocess the return',
        needsReason: false,
        help: 'After the reason has been added to the reason mapping (Settings › Reason mappings), runs the return through again straight away instead of waiting for the next sync.',
      },
    ],
  },
  OFFER_NOT_FOUND: {
    owner: 'ops',
    severity: 'medium',
    title: 'No Mirakl offer for the returned SKU',
    nextAction: 'Map the SKU to an offer, or skip the restock.',
    meaning:
      'A returned item is fit to sell again, but the marketplace has no listing (offer) with its product code (SKU), so its stock cannot be put back on sale. The app never guesses which listing to use.',
    sla: { fixed: 'at once' },
    check: [
      'The product code (SKU) in the Mirakl back office: was the listing renamed, replaced or withdrawn?',
      'The items waiting to be restocked for that product code, listed with the exception.',
    ],
    actions: [
      {
        id: 'remap',
        label: 'Map to another listing',
        needsReason: false,
        help: "Moves the items waiting for this listing to the Mirakl listing (offer) you choose, and saves it in the product mapping (Settings › SKU → offer overrides; on a team server it names the override to propose there), so items returned later go there too; each item's stock is still added only once. Mirakl's refusals of stock updates of this listing are answered with it.",
      },
      {
        id: 'skip_restock',
        label: 'Skip the restock',
        needsReason: true,
        help: "Does not put these items back on sale on the marketplace (for example a discontinued product). Mirakl's refusals of stock updates of this listing are answered with it. The refund is not affected.",
      },
    ],
  },
  STOCK_REJECTED: {
    owner: 'ops',
    severity: 'medium',
    title: 'Stock update rejected by Mirakl',
    nextAction: 'Retry, map the SKU to another listing, or skip the restock.',
    meaning: 'The app tried to put returned items back on sale, but Mirakl refused the stock update for that listing, so the stock shown on the marketplace is too low.',
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: Mirakl's reason for refusing.",
      'The listing (offer) in the Mirakl back office: is it active, and is its quantity what you expect?',
    ],
    actions: [
      {
        id: 'retry',
        label: 'Retry the stock update',
        needsReason: false,
        help: "Sends the stock update again with the quantity read fresh from Mirakl, so the items are added once, not twice. It takes every item of this listing Mirakl refused, in any stock update: the listing's other refusals are answered with it.",
      },
      {
        id: 'remap',
        label: 'Map to another listing',
        needsReason: false,
        help: "Moves the items Mirakl refused, and those waiting for this listing, to the Mirakl listing (offer) you choose, and saves it in the product mapping (Settings › SKU → offer overrides; on a team server it names the override to propose there), so items returned later go there too; each item's stock is still added only once. The listing's other refusals are answered with it.",
      },
      {
        id: 'skip_restock',
        label: 'Skip the restock',
        needsReason: true,
        help: "Leaves the stock as it is on the marketplace (for example when the listing is closed), for every item of this listing waiting to be restocked: the listing's other refusals are answered with it. The refund is not affected.",
      },
    ],
  },
  STOCK_IMPORT_STALLED: {
    owner: 'ops',
    severity: 'medium',
    title: 'Stock update not run by Mirakl',
    nextAction: 'Nothing to send: the app keeps checking. If Mirakl shows the update still waiting in its import history for hours more, ask Mirakl support about its import queue.',
    meaning:
      "The app sent a stock update to put returned items back on sale, and Mirakl accepted it, but has not run it for over an hour (it still shows it waiting or running). Those items are not on sale yet. The app checks it at every sync and closes this by itself once Mirakl runs or refuses it; it never sends these listings' stock again meanwhile, since Mirakl may still run it. Other listings are restocked as usual.",
    sla: { fixed: '1 hour' },
    check: [
      "The exception's cause: Mirakl's import id, its status, and how many items on how many listings wait.",
      "The stock import history in the Mirakl back office: the import's status, and whether imports behind it are running.",
    ],
    actions: [
      {
        id: 'investigate',
        label: 'Investigate',
        needsReason: false,
        help: 'Marks the exception as being looked into, with a note (for example a Mirakl support ticket number). Nothing is sent; it still closes by itself when Mirakl runs or refuses the update.',
      },
    ],
  },
  STOCK_OVERWRITTEN: {
    owner: 'ops',
    severity: 'high',
    title: 'More stock on sale than there is',
    nextAction: 'Lower the listing\'s quantity in the Mirakl back office by the number of items named, then mark it corrected.',
    meaning:
      'The app put returned items back on sale by setting the listing\'s quantity on the marketplace. Items sold while that update was on its way were not counted in it, so the marketplace now offers that many items too many, and a customer could buy an item that is not there. The app works the number out from the quantity the marketplace shows afterwards and the orders placed in between; it never changes the quantity again on its own.',
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: the listing (product code), how many items to take off, and the quantity the marketplace showed.",
      'The listing (offer) in the Mirakl back office: its quantity now, and the orders placed for it since the stock update.',
    ],
    actions: [
      {
        id: 'investigate',
        label: 'Investigate',
        needsReason: false,
        help: 'Marks the exception as being looked into, with a note (for example while the warehouse counts the items). The quantity on sale is not changed.',
      },
      {
        id: 'acknowledge',
        label: 'Mark as corrected',
        needsReason: true,
        help: 'Records that you lowered the quantity in the Mirakl back office by the items named (or why it needs no change) and closes the exception. Say what you did.',
      },
    ],
  },
  SHORT_RECEIPT: {
    owner: 'warehouse',
    severity: 'medium',
    title: 'Fewer units arrived than were returned',
    nextAction: 'Accept the partial receipt (only what arrived is refunded), or investigate with ReBound.',
    meaning: 'The parcel arrived at the ReBound hub with fewer items than the customer said they were returning. Only the items that arrived can be refunded.',
    sla: { fixed: 'at once' },
    check: [
      'The ReBound portal: what the hub registered for this parcel, with any photos or notes.',
      "The return's timeline in the app: which items are missing.",
      'Whether the customer sent a second parcel.',
    ],
    actions: [
      {
        id: 'accept_partial',
        label: 'Accept the partial receipt',
        needsReason: true,
        help: 'Accepts that only part of the return arrived: the items that arrived are refunded and restocked, the missing ones are not. Customer service may need to tell the customer.',
      },
      {
        id: 'investigate',
        label: 'Investigate',
        needsReason: false,
        help: 'Marks the exception as being looked into (for example a query raised with ReBound or the carrier), with a note. Nothing more is refunded meanwhile.',
      },
    ],
  },
  UNIT_FACTS_CONTRADICT: {
    owner: 'finance',
    severity: 'high',
    title: 'ReBound said received, then lost',
    nextAction: 'Ask ReBound what really arrived; if a refund was sent, decide whether to recover it, then mark it reviewed.',
    meaning:
      'ReBound first registered items of this return at its hub, then reported the return as expired, which means nothing came back. The two cannot both be true. The app follows what ReBound said last: the items count as lost, not received, in every figure. If a refund was already sent for them, that money was paid for items that may never have arrived.',
    sla: { fixed: 'at once' },
    check: [
      'The ReBound portal: the hub registration (with any photos) and why the return order was expired.',
      "The return's timeline in the app: when each was reported, and the refund sent, if any.",
      'The order in the Mirakl back office: what the customer was refunded.',
    ],
    actions: [
      {
        id: 'resync',
        label: 'Read ReBound again',
        needsReason: false,
        help: "Reads ReBound's return order again at the next cycle, in case it has corrected itself. Items it reports lost stay lost.",
      },
      {
        id: 'investigate',
        label: 'Investigate',
        needsReason: false,
        help: 'Marks the exception as being looked into (for example a query with ReBound), with a note.',
      },
      {
        id: 'acknowledge',
        label: 'Mark reviewed',
        needsReason: true,
        help: 'Closes the exception once you know what arrived and what to do about any refund sent (recovered, written off, or right after all). Say which.',
      },
    ],
  },
  UNEXPECTED_ITEM: {
    owner: 'warehouse',
    severity: 'low',
    title: 'Item ReBound could not match',
    nextAction: 'Investigate the parcel with ReBound; nothing is refunded or restocked for it.',
    meaning: 'ReBound registered an item in a parcel that does not belong to the return (a different product, or something extra). Nothing is refunded or restocked for it.',
    sla: { fixed: 'at once' },
    check: [
      'The ReBound portal: the item registered, its product code and any photos.',
      "The return's timeline and the order in the Mirakl back office: did the customer send the wrong product, or is the order wrong?",
    ],
    actions: [
      {
        id: 'investigate',
        label: 'Investigate',
        needsReason: false,
        help: 'Marks the exception as being looked into (for example a query with ReBound about returning the item to the customer), with a note.',
      },
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Closes the exception once the item has been dealt with outside the app.',
      },
    ],
  },
  PARCEL_STALLED: {
    owner: 'cs',
    severity: 'medium',
    title: 'Parcel in transit too long',
    nextAction: 'Chase the carrier (add a note), or mark the parcel lost.',
    meaning:
      'There has been no news of a return parcel for too long: it is stuck with the carrier or at the hub. It is also raised at once when ReBound cancels a label that was never used, which means nothing was sent back.',
    sla: { policyKey: 'parcelStalledDays' },
    check: [
      'The tracking number on the return, on the carrier website.',
      "The ReBound portal: the parcel's last status.",
      'Whether the customer says they sent it, and when.',
    ],
    actions: [
      {
        id: 'chase_carrier',
        label: 'Chase the carrier',
        needsReason: false,
        help: 'Records that the carrier has been chased, with a note (reference, date promised). The exception stays open until the parcel moves.',
      },
      {
        id: 'mark_lost',
        label: 'Mark the parcel lost',
        needsReason: true,
        help: 'Records that the parcel will not arrive. Nothing is refunded automatically: a refund for a lost parcel is a separate decision.',
      },
    ],
  },
  STATUS_DRIFT: {
    owner: 'ops',
    severity: 'medium',
    title: 'Mirakl and ReBound disagree',
    nextAction: 'Re-sync both systems, or dismiss with a reason.',
    meaning:
      'The two systems tell different stories about the same return for too long, for example the marketplace has closed or cancelled it while ReBound still expects the parcel.',
    sla: { policyKey: 'statusDriftHours' },
    check: [
      'The return in the Mirakl back office and in the ReBound portal: which one is right?',
      "The return's timeline in the app: what each system said, and when.",
    ],
    actions: [
      {
        id: 'resync',
        label: 'Re-sync both systems',
        needsReason: false,
        help: 'Reads the return again from both systems now; if they agree, the exception closes by itself.',
      },
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Closes the exception when the difference is expected, for example a return cancelled on the marketplace after the customer already posted it.',
      },
    ],
  },
  MALFORMED_RECORD: {
    owner: 'ops',
    severity: 'high',
    title: 'A record could not be read',
    nextAction:
      'Look at the record as it was sent (shown with the exception) and ask Mirakl or ReBound support to correct it; it is read again by itself, and this closes when it reads.',
    meaning:
      "Mirakl or ReBound sent a record (a return, an order, a return order) that lacks something the app needs before it can act on it safely — an id, a quantity, an amount, a currency — or that has it in a form nobody could read. The app kept the record exactly as it was sent, left it aside and carried on with everything else, so one bad record never stops the others. Nothing is done for that record (no return created, no refund, no restock) until a readable copy arrives. It is raised the moment it is seen.",
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: which record, which field, and what was wrong with it.",
      'The record as it was sent, shown with the exception: is the field missing, empty, or in an unexpected form?',
      'The same record in the Mirakl back office or the ReBound portal: is it complete there? If it is, the integration owner should report the answer to Mirakl or ReBound support with the record.',
    ],
    actions: [
      {
        id: 'dismiss',
        label: 'Dismiss',
        needsReason: true,
        help: 'Closes the exception, for example when the record was deleted at the source. It opens again if the same unreadable record is sent again. Nothing is sent to either system.',
      },
    ],
  },
  RESTORED_DATABASE: {
    owner: 'ops',
    severity: 'critical',
    title: 'Database restored or copied in: refunds and stock paused',
    nextAction: 'Nothing to do while it clears by itself; if it stays open, check that no other copy of the app is syncing this shop.',
    meaning:
      "The app started on a database that is older than the one it last used in this folder (put back from a backup) or that came from elsewhere (copied in). Such a database does not know the refunds and stock updates made since it was taken, so the app sends no refund and no stock update until it has read Mirakl's refunds again for every order with refund work and has counted, from Mirakl's stock, the returned items already put back on sale. Everything else goes on. It closes by itself once that is done, and says what it found.",
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: backup or copy, and the figures that showed it.",
      'Whether another installation is still syncing this shop with its own copy of the database: only one may.',
    ],
    actions: [],
  },
  FOREIGN_WRITE: {
    owner: 'finance',
    severity: 'critical',
    title: 'Someone else is writing to this shop: refunds and stock paused',
    nextAction: 'Find who made the refund or the stock change; stop any other installation syncing this shop; then acknowledge it with a reason.',
    meaning:
      "Mirakl shows a refund on a returned order line that this app did not send, or a listing's stock changed after this app's stock update in a way no sale explains. Either another installation of the app is syncing the same shop with its own database — two apps refunding one shop can refund the same item twice, and each overwrites the other's stock — or a person did it in the Mirakl back office. Until you acknowledge it, the app sends no refund and no stock update for the shop; everything else (reading, receipts, grading) goes on. It is raised the moment it is seen.",
    sla: { fixed: 'at once' },
    check: [
      "The refund or the listing in the Mirakl back office: who changed it and when (a person's name, or the account another installation uses).",
      'Whether anyone else runs Returns Workbench in Live mode for this shop: only one installation may sync it. Stop the other one first.',
      "The return's timeline in the app: the refund, and what ReBound verified of the line.",
    ],
    actions: [
      {
        id: 'acknowledge',
        label: 'Acknowledge with a reason',
        needsReason: true,
        help: `Records who made the change and why (for example a goodwill refund agreed by customer service, a stock count corrected by hand, or the other installation now stopped) and lets refunds and stock updates go out again once no other such exception is open. A refund counts as money already paid on its line, so the app never refunds more than the line has. ${moneyRule}`,
      },
    ],
  },
  RESTOCK_UNCERTAIN: {
    owner: 'ops',
    severity: 'high',
    title: 'Restock after a restore: maybe already on sale',
    nextAction: "Check the listing's quantity in the Mirakl back office, then restock the items or skip the restock.",
    meaning:
      "The database was put back from a backup or copied in. Returned items of this listing are waiting to be put back on sale, but a stock update the app made before the restore may already have added them, and Mirakl's quantity, less the sales the app has read, does not prove it either way. Adding them again would put items on sale that are not there, so they wait for you. Nothing else waits: refunds and the other listings go on.",
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: how many items wait, the quantity Mirakl showed, the quantity this database knew of and the sales since.",
      'The listing (offer) in the Mirakl back office: its quantity now, and its recent orders and stock updates.',
    ],
    actions: [
      {
        id: 'retry',
        label: 'Restock them',
        needsReason: false,
        help: 'Puts the items back on sale with the quantity read fresh from Mirakl (each added once). Use it when the quantity shows they were not added.',
      },
      {
        id: 'skip_restock',
        label: 'Skip the restock',
        needsReason: true,
        help: 'Leaves the stock as it is, for example when the quantity shows the items were already added. The refund is not affected.',
      },
    ],
  },
  CREDENTIALS_INVALID: {
    owner: 'ops',
    severity: 'critical',
    title: 'Credentials refused',
    nextAction: 'Open Settings and test the connection; sync waits until it works.',
    meaning:
      'Mirakl or ReBound refused the app\'s login details (the key or password was changed, expired or withdrawn). Nothing moves between the two systems until this is fixed. It is raised the moment it happens.',
    sla: { fixed: 'at once' },
    check: [
      "The exception's cause: which system refused.",
      'There is no one-click fix here: open Settings, enter the current key or password for that system and use "Test connection". Sync carries on by itself once the connection works.',
      'Whoever manages the Mirakl or ReBound account: was the key changed or withdrawn?',
    ],
    actions: [],
  },
} as const satisfies Record<string, ExceptionType>;

export type ExceptionTypeName = keyof typeof exceptionTypes;

export const exceptionTypeNames = Object.keys(exceptionTypes) as ExceptionTypeName[];

/** The one-click resolutions offered for an exception of this type, in the order they are shown. */
export function actionsOf<T extends ExceptionTypeName>(type: T): (typeof exceptionTypes)[T]['actions'] {
  return exceptionTypes[type].actions;
}

/** The action, if this type offers it: how a command checks that a resolution applies and whether it needs a reason. */
export function findAction(type: ExceptionTypeName, id: ActionId): ExceptionAction | undefined {
  return (exceptionTypes[type].actions as readonly ExceptionAction[]).find((a) => a.id === id);
}
