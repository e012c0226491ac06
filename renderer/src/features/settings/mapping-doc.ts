import { isSeq, parseDocument } from 'yaml';

// Structured edits of a mapping file that keep the file's comments: rows are read from the YAML document and each
// edit is written back into that same document (changed values set in place, removed items deleted, new items
// appended), so a problem the contract reports at `reasons[3].refund` is row 3 as shown.

export interface Row<T> {
  /** The item's index in the file as loaded; null for a row added here. */
  origin: number | null;
  value: T;
}

export function readRows<T>(text: string, key: string, toRow: (item: unknown) => T): { rows: Row<T>[]; error: string | null } {
  const doc = parseDocument(text);
  if (doc.errors.length) return { rows: [], error: doc.errors[0]?.message ?? 'the file does not parse' };
  const items: unknown = (doc.toJS() as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(items)) return { rows: [], error: `the file has no "${key}" list` };
  return { rows: items.map((item, i) => ({ origin: i, value: toRow(item) })), error: null };
}

export function writeRows<T>(baseText: string, key: string, rows: Row<T>[], toItem: (value: T) => Record<string, unknown>): string {
  const doc = parseDocument(baseText);
  const seq = doc.get(key);
  const original = (doc.toJS() as Record<string, unknown[]>)[key] ?? [];
  const kept = new Set(rows.map((r) => r.origin).filter((o): o is number => o !== null));
  for (const r of rows) {
    if (r.origin === null) continue;
    const item = toItem(r.value);
    if (JSON.stringify(item) !== JSON.stringify(original[r.origin])) doc.setIn([key, r.origin], doc.createNode(item));
  }
  for (let i = original.length - 1; i >= 0; i--) if (!kept.has(i)) doc.deleteIn([key, i]);
  const added = rows.filter((r) => r.origin === null);
  if (added.length && isSeq(seq)) seq.flow = false;
  for (const r of added) doc.addIn([key], doc.createNode(toItem(r.value)));
  return doc.toString();
}

/** Rows shown in file order after an edit: kept rows first (their order never changes), then added ones. */
export function inFileOrder<T>(rows: Row<T>[]): Row<T>[] {
  return [...rows.filter((r) => r.origin !== null), ...rows.filter((r) => r.origin === null)];
}

export function readPolicyCadences(text: string): Record<string, number> {
  const doc = parseDocument(text);
  const cadences = (doc.toJS() as { cadences?: Record<string, number> } | null)?.cadences;
  return cadences ?? {};
}
