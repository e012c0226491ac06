import { create } from 'zustand';
import type { ContractError, Output } from '../../../core/contract';
import { api } from '../api/transport';

export const sections = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'returns', label: 'Returns' },
  { id: 'exceptions', label: 'Exceptions' },
  { id: 'reports', label: 'Reports' },
  { id: 'settings', label: 'Settings' },
  { id: 'about', label: 'About' },
] as const;
export type SectionId = (typeof sections)[number]['id'];

type AppInfo = Output<'app.info'>;

interface AppState {
  section: SectionId;
  info: AppInfo | null;
  infoError: ContractError | null;
  navigate(section: SectionId): void;
  loadInfo(): Promise<void>;
}

export const useAppStore = create<AppState>((set) => ({
  section: 'dashboard',
  info: null,
  infoError: null,
  navigate: (section) => set({ section }),
  loadInfo: async () => {
    const result = await api.invoke('app.info', {});
    if (result.ok) set({ info: result.data, infoError: null });
    else set({ infoError: result.error });
  },
}));
