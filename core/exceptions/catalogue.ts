// Every exception type: who owns it, how bad it is, and what a person should do. One catalogue serves the engine
// (which raises them), the in-app help and the operations guide.

export type OwnerTeam = 'finance' | 'cs' | 'warehouse' | 'ops';
export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface ExceptionType {
  owner: OwnerTeam;
  severity: Severity;
  title: string;
  nextAction: string;
}

export const exceptionTypes = {
  RETURN_NOT_CREATED: {
    owner: 'cs',
    severity: 'high',
    title: 'Return not created in ReBound',
    nextAction: 'Retry the creation, or create it with edits; dismiss with a reason if the customer withdrew.',
  },
  ORDER_NOT_FOUND: {
    owner: 'ops',
    severity: 'high',
    title: 'Order not visible in Mirakl',
    nextAction: 'Check the order in the Mirakl back office; retry now once it is visible, or dismiss with a reason.',
  },
  STATUS_NOT_PUSHED: {
    owner: 'cs',
    severity: 'medium',
    title: 'Receipt not pushed to Mirakl',
    nextAction: 'Push the status now; if Mirakl refuses, check the return state in the back office.',
  },
  REFUND_STALLED: {
    owner: 'cs',
    severity: 'high',
    title: 'Refund not completed',
    nextAction: 'Probe Mirakl for the refund, retry it, or escalate to finance.',
  },
  REFUND_WITHOUT_RECEIPT: {
    owner: 'finance',
    severity: 'critical',
    title: 'Refund without a verified receipt',
    nextAction: 'Find who refunded and why; acknowledge with a reason once explained.',
  },
  REFUND_AMOUNT_MISMATCH: {
    owner: 'finance',
    severity: 'high',
    title: 'Refunded amount differs from expected',
    nextAction: 'Accept the variance with a reason, or refund the difference.',
  },
  OUTCOME_UNKNOWN: {
    owner: 'ops',
    severity: 'high',
    title: 'Outcome of a call unknown',
    nextAction: 'Probe the source of truth; mark it confirmed or failed.',
  },
  UNMAPPED_REASON: {
    owner: 'ops',
    severity: 'medium',
    title: 'Return reason has no mapping',
    nextAction: 'Add the reason to the reason mapping (Settings → Mappings); the return then continues by itself.',
  },
  OFFER_NOT_FOUND: {
    owner: 'ops',
    severity: 'medium',
    title: 'No Mirakl offer for the returned SKU',
    nextAction: 'Map the SKU to an offer, or skip the restock.',
  },
  STOCK_REJECTED: {
    owner: 'ops',
    severity: 'medium',
    title: 'Stock update rejected by Mirakl',
    nextAction: 'Retry, remap the SKU to another offer, or skip the restock.',
  },
  SHORT_RECEIPT: {
    owner: 'warehouse',
    severity: 'medium',
    title: 'Fewer units arrived than were returned',
    nextAction: 'Accept the partial receipt (only what arrived is refunded), or investigate with ReBound.',
  },
  UNEXPECTED_ITEM: {
    owner: 'warehouse',
    severity: 'low',
    title: 'Item ReBound could not match',
    nextAction: 'Investigate the parcel with ReBound; nothing is refunded or restocked for it.',
  },
  PARCEL_STALLED: {
    owner: 'cs',
    severity: 'medium',
    title: 'Parcel in transit too long',
    nextAction: 'Chase the carrier (add a note), or mark the parcel lost.',
  },
  STATUS_DRIFT: {
    owner: 'ops',
    severity: 'medium',
    title: 'Mirakl and ReBound disagree',
    nextAction: 'Re-sync both systems, or resolve with a reason.',
  },
  CREDENTIALS_INVALID: {
    owner: 'ops',
    severity: 'critical',
    title: 'Credentials refused',
    nextAction: 'Open Settings and test the connection; sync waits until it works.',
  },
} as const satisfies Record<string, ExceptionType>;

export type ExceptionTypeName = keyof typeof exceptionTypes;
