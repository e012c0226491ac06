import { create } from 'zustand';
import type { ContractError, Output } from '../../../core/contract';
import { api } from '../api/transport';
import { describeError } from './format';

export const sections = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'returns', label: 'Returns' },
  { id: 'exceptions', label: 'Exceptions' },
  { id: 'suggestions', label: 'Suggested matches' },
  { id: 'outgoing', label: 'Outgoing calls' },
  { id: 'reports', label: 'Reports' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'settings', label: 'Settings' },
  { id: 'accounts', label: 'Accounts' },
  { id: 'audit', label: 'Audit log' },
  { id: 'about', label: 'About' },
] as const;
export type SectionId = (typeof sections)[number]['id'];

type AppInfo = Output<'app.info'>;

export interface Notice {
  id: number;
  /** 'info': neither done nor refused, e.g. a change sent for a second person's approval. */
  kind: 'ok' | 'info' | 'error';
  text: string;
  /** Where it was said: a notice belongs to the page of the action, and does not follow the person elsewhere. */
  section: SectionId;
}

interface AppState {
  section: SectionId;
  info: AppInfo | null;
  infoError: ContractError | null;
  notices: Notice[];
  navigate(section: SectionId): void;
  loadInfo(): Promise<void>;
  /** Tells the person what happened: a plain confirmation, a proposal sent for approval, or exactly why it was refused. */
  notify(kind: Notice['kind'], text: string): void;
  notifyError(error: ContractError, prefix?: string): void;
  dismiss(id: number): void;
}

/** The section in the address (`?section=returns`), so a reload or a bookmark opens where the person was. */
function sectionFromAddress(): SectionId {
  const wanted = new URLSearchParams(window.location.search).get('section');
  return sections.find((s) => s.id === wanted)?.id ?? 'dashboard';
}

function showInAddress(section: SectionId): void {
  const url = new URL(window.location.href);
  url.searchParams.set('section', section);
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

let nextNotice = 1;
const maxNotices = 4;

export const useAppStore = create<AppState>((set, get) => ({
  section: sectionFromAddress(),
  info: null,
  infoError: null,
  notices: [],
  navigate: (section) => {
    showInAddress(section);
    set((s) => ({ section, notices: s.notices.filter((n) => n.section === section) }));
  },
  loadInfo: async () => {
    const result = await api.invoke('app.info', {});
    if (result.ok) set({ info: result.data, infoError: null });
    else set({ infoError: result.error });
  },
  notify: (kind, text) => {
    const notice = { id: nextNotice++, kind, text, section: get().section };
    set((s) => ({ notices: [...s.notices, notice].slice(-maxNotices) }));
    // Confirmations fade; a refusal stays until the person has read and dismissed it.
    if (kind === 'ok') setTimeout(() => get().dismiss(notice.id), 8000);
  },
  // A change that needs a second person is not refused: it became a proposal, and the server's message says which.
  notifyError: (error, prefix) =>
    error.code === 'APPROVAL_REQUIRED' ? get().notify('info', error.message) : get().notify('error', `${prefix ? `${prefix}: ` : ''}${describeError(error)}`),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
}));
