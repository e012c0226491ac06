import { create } from 'zustand';
import type { ContractError, Input, MappingFileName, MappingsPreview, Output, ReasonLists, Result, SettingsView, TeamProbe } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';

// Settings: connections (secrets travel only inward, to the keychain), test connection, cadences, and the mapping
// files with a preview of what a change would touch before it is saved.

type MappingFiles = Output<'mappings.get'>['files'];
export type FieldErrors = Record<string, string>;

export const settingsTabs = [
  { id: 'connections', label: 'Connections' },
  { id: 'policy', label: 'Cadences and policy' },
  { id: 'reasons', label: 'Reason mappings' },
  { id: 'skus', label: 'SKU → offer overrides' },
] as const;
export type SettingsTab = (typeof settingsTabs)[number]['id'];

interface SettingsState {
  tab: SettingsTab;
  setTab(tab: SettingsTab): void;
  settings: SettingsView | null;
  settingsError: ContractError | null;
  files: MappingFiles | null;
  filesError: ContractError | null;
  /** Mirakl's return and refund reasons (RE01, cached by the server) to pick from in the reason mapping. */
  reasons: ReasonLists | null;
  isReadingReasons: boolean;
  load(): Promise<void>;
  /** Mirakl's lists as the server has them (it reads them from Mirakl when never read or a day old), or read now. */
  loadReasons(refresh?: boolean): Promise<void>;
  loadMappings(): Promise<void>;
  /** Answers the field errors by path (e.g. `mirakl.baseUrl`), or null when saved. */
  saveConnections(input: Input<'settings.saveConnections'>): Promise<FieldErrors | null>;
  testConnection(input: Input<'settings.testConnection'>): Promise<Output<'settings.testConnection'> | { ok: false; message: string; status?: number }>;
  /** Answers the field errors, or null when saved or sent for approval (a team server's maker-checker). */
  setCadences(input: Input<'settings.setCadences'>): Promise<FieldErrors | null>;
  /** Reaches a team server's address and answers the certificate it presents (desktop: before connecting to it). */
  probeTeamServer(url: string): Promise<Result<TeamProbe>>;
  /** Desktop only: pins the checked certificate and relaunches as the server's client (main answers it). */
  connectTeamServer(url: string, fingerprint: string): Promise<Result<Output<'team.connect'>>>;
  /** Sets the name the person's actions are recorded under (empty: the computer's); the problem, or null when saved. */
  setName(name: string): Promise<string | null>;
  preview(file: MappingFileName, text: string): Promise<MappingsPreview | { ok: false; problems: { path: string; message: string }[] }>;
  /** Saved, sent for approval as a proposal (a team server's maker-checker: the version in force stays), or refused. */
  saveMapping(input: Input<'mappings.save'>): Promise<{ saved: Output<'mappings.save'> } | { proposed: number } | { errors: FieldErrors }>;
}

/** A contract error as messages per field path; what names no field goes under ''. */
export function fieldErrorsOf(error: ContractError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues ?? []) {
    const key = issue.path.map(String).join('.');
    errors[key] = errors[key] ? `${errors[key]}; ${issue.message}` : issue.message;
  }
  if (!error.issues?.length) errors[''] = error.message;
  return errors;
}

export const useSettingsStore = create<SettingsState>((set, get) => ({
  tab: 'connections',
  setTab: (tab) => set({ tab }),
  settings: null,
  settingsError: null,
  files: null,
  filesError: null,
  reasons: null,
  isReadingReasons: false,

  load: async () => {
    const result = await api.invoke('settings.get', {});
    set(result.ok ? { settings: result.data, settingsError: null } : { settingsError: result.error });
    await get().loadMappings();
  },

  loadReasons: async (refresh = false) => {
    set({ isReadingReasons: true });
    const result = await api.invoke('mappings.reasons', refresh ? { refresh } : {});
    set({ isReadingReasons: false });
    if (result.ok) set({ reasons: result.data });
    else useAppStore.getState().notifyError(result.error, "Mirakl's reason lists");
  },

  loadMappings: async () => {
    const result = await api.invoke('mappings.get', {});
    set(result.ok ? { files: result.data.files, filesError: null } : { filesError: result.error });
  },

  saveConnections: async (input) => {
    const result = await api.invoke('settings.saveConnections', input);
    const app = useAppStore.getState();
    if (!result.ok) {
      app.notifyError(result.error, 'Connections not saved');
      return fieldErrorsOf(result.error);
    }
    set({ settings: result.data.settings });
    app.notify('ok', result.data.message);
    void useAppStore.getState().loadInfo();
    return null;
  },

  probeTeamServer: (url) => api.invoke('team.probe', { url }),
  connectTeamServer: (url, fingerprint) => api.invoke('team.connect', { url, fingerprint }),

  testConnection: async (input) => {
    const result = await api.invoke('settings.testConnection', input);
    if (!result.ok) return { ok: false, message: `[${result.error.code}] ${result.error.message}` };
    return result.data;
  },

  setCadences: async (input) => {
    const result = await api.invoke('settings.setCadences', input);
    const app = useAppStore.getState();
    if (!result.ok) {
      app.notifyError(result.error, 'Cadences not saved');
      return result.error.code === 'APPROVAL_REQUIRED' ? null : fieldErrorsOf(result.error);
    }
    app.notify('ok', result.data.message);
    await get().loadMappings();
    return null;
  },

  setName: async (name) => {
    const result = await api.invoke('settings.setName', { name });
    const app = useAppStore.getState();
    if (!result.ok) return result.error.issues?.[0]?.message ?? result.error.message;
    set({ settings: result.data });
    app.notify('ok', `Your actions are recorded as “${result.data.person?.name ?? name}” from now on.`);
    return null;
  },

  preview: async (file, text) => {
    const result = await api.invoke('mappings.preview', { file, text });
    if (!result.ok) return { ok: false, problems: [{ path: '', message: result.error.message }] };
    return result.data;
  },

  saveMapping: async (input) => {
    const result = await api.invoke('mappings.save', input);
    const app = useAppStore.getState();
    if (!result.ok && result.error.code === 'APPROVAL_REQUIRED') {
      app.notify('info', result.error.message);
      return { proposed: result.error.proposalId ?? 0 };
    }
    if (!result.ok) {
      // The message says where, as the table numbers its rows; the per-field issues are shown at their cells.
      app.notify('error', result.error.code === 'VALIDATION' ? result.error.message : `Mapping not saved: ${result.error.message}`);
      return { errors: fieldErrorsOf(result.error) };
    }
    app.notify('ok', result.data.message);
    await get().loadMappings();
    return { saved: result.data };
  },
}));

// Another window (or the engine) saved a mapping: show the version in force.
api.on('mappings.changed', () => {
  if (useSettingsStore.getState().files) void useSettingsStore.getState().loadMappings();
});
