// Every API call is journalled (method, path, status, duration) for the integration owner's health view, in
// request_journal (core/store/journal-repo.ts).
// Query strings and bodies are left out on purpose: they can carry customer data, and headers carry secrets.
export interface JournalEntry {
  at: number;
  system: 'mirakl' | 'rebound';
  operation: string;
  method: string;
  path: string;
  status: number | null;
  durationMs: number;
  outcome: string;
}

export interface RequestJournal {
  record(entry: JournalEntry): void;
}

export const memoryJournal = (): RequestJournal & { entries: JournalEntry[] } => {
  const entries: JournalEntry[] = [];
  return { entries, record: (e) => void entries.push(e) };
};
