import type { ContractError } from '../../../core/contract';

// Plain formatting for people: money from integer minor units, dates in the user's locale, error codes in words.

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(ms);
}

export function formatMoney(minor: number, currency: string | null | undefined): string {
  if (currency && currency !== '?') {
    try {
      return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(minor / 100);
    } catch {
      // An unknown currency code: show the code rather than fail.
    }
  }
  return `${(minor / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

export function formatCount(n: number, isCapped = false): string {
  return `${n.toLocaleString('en-GB')}${isCapped ? '+' : ''}`;
}

/** "3 min", "2 h", "4 days" from a number of seconds. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

const codeWords: Record<ContractError['code'], string> = {
  VALIDATION: 'Not accepted',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Refused',
  GUARD_BLOCKED: 'Blocked by a safety check',
  AUTH: 'Not signed in',
  FORBIDDEN: 'Not allowed for your role',
  APPROVAL_REQUIRED: 'Sent for approval',
  UPSTREAM: 'The other system refused',
  INTERNAL: 'Something went wrong',
  KEYCHAIN_UNAVAILABLE: 'The keychain is not available',
};

/** One sentence naming what was refused and why, with the contract's code for support. */
export function describeError(error: ContractError): string {
  const issues = error.issues?.length ? ` (${error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')})` : '';
  const message = error.issues?.length && error.message.startsWith('Invalid input') ? '' : error.message;
  return `${codeWords[error.code]} [${error.code}]: ${message}${issues}`.replace(/: \s*\(/, ': (');
}

export const ownerLabels = { finance: 'Finance', cs: 'Customer service', warehouse: 'Warehouse', ops: 'Operations' } as const;
export const severityLabels = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' } as const;
export const ageBucketLabels = { under_1d: 'Under 1 day', '1_3d': '1–3 days', '3_7d': '3–7 days', over_7d: 'Over 7 days' } as const;
export const stateLabels = { open: 'Open', in_review: 'In review', snoozed: 'Snoozed', resolved: 'Resolved' } as const;
export const refundStatusLabels = { none: 'No refund due', pending: 'Awaiting refund', partial: 'Partly refunded', refunded: 'Refunded', over: 'Over-refunded' } as const;
