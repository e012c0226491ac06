import { periodSchema } from '../contract/reports';
import { AppError } from '../errors';

// A reporting period is a calendar month in UTC. Stored timestamps are ISO-8601 UTC strings ('…Z', with or without
// milliseconds), so a period's bounds are compared as text: '2026-10-01T00:00:00' sorts before both
// '2026-10-01T00:00:00Z' and '2026-10-01T00:00:00.000Z', and after everything on 30 September.

export interface Period {
  /** YYYY-MM */
  id: string;
  /** First instant of the month, ISO with milliseconds. */
  from: string;
  /** First instant of the next month. */
  to: string;
  /** The same bounds without a zone suffix, for comparing with stored timestamps. */
  fromKey: string;
  toKey: string;
  fromMs: number;
  toMs: number;
  /** "October 2026" */
  label: string;
}

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function parsePeriod(text: string): Period {
  const parsed = periodSchema.safeParse(text);
  if (!parsed.success) throw new AppError('VALIDATION', `"${text}" is not a period: ${parsed.error.issues[0]?.message ?? 'expected YYYY-MM'}.`);
  const [year, month] = text.split('-').map(Number) as [number, number];
  const fromMs = Date.UTC(year, month - 1, 1);
  const toMs = Date.UTC(year, month, 1);
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  return { id: text, from, to, fromKey: from.slice(0, 19), toKey: to.slice(0, 19), fromMs, toMs, label: `${months[month - 1]} ${year}` };
}

export function periodOf(ms: number): Period {
  return parsePeriod(new Date(ms).toISOString().slice(0, 7));
}

export function nextPeriod(period: Period): Period {
  return periodOf(period.toMs);
}

export function previousPeriod(period: Period): Period {
  return periodOf(period.fromMs - 1);
}
