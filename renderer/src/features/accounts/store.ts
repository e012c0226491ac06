import { create } from 'zustand';
import type { Account, ContractError, Input } from '../../../../core/contract';
import { api } from '../../api/transport';
import { useAppStore } from '../../app/store';

// A team server's accounts, for Integration admins: who may sign in and with which roles. A new account or a reset
// gets a temporary password the server answers once; the person chooses their own at their next sign-in.

export interface TemporaryPassword {
  username: string;
  password: string;
  isNew: boolean;
}

interface AccountsState {
  accounts: Account[] | null;
  error: ContractError | null;
  /** The temporary password just made, shown until the admin closes it (the server never shows it again). */
  temporary: TemporaryPassword | null;
  load(): Promise<void>;
  /** The refusal per field ('' for the rest), or null when saved. */
  save(input: Input<'accounts.save'>, done: string): Promise<Record<string, string> | null>;
  dismissTemporary(): void;
}

export const useAccountsStore = create<AccountsState>((set, get) => ({
  accounts: null,
  error: null,
  temporary: null,

  load: async () => {
    const result = await api.invoke('accounts.list', {});
    set(result.ok ? { accounts: result.data.accounts, error: null } : { error: result.error });
  },

  save: async (input, done) => {
    const isNew = !get().accounts?.some((a) => a.username.toLowerCase() === input.username.toLowerCase());
    const result = await api.invoke('accounts.save', input);
    const app = useAppStore.getState();
    if (!result.ok) {
      app.notifyError(result.error, `Account ${input.username} not saved`);
      const errors: Record<string, string> = {};
      for (const issue of result.error.issues ?? []) errors[issue.path.map(String).join('.')] = issue.message;
      if (!result.error.issues?.length) errors[''] = result.error.message;
      return errors;
    }
    if (result.data.temporaryPassword) set({ temporary: { username: result.data.account.username, password: result.data.temporaryPassword, isNew } });
    app.notify('ok', done);
    await get().load();
    return null;
  },

  dismissTemporary: () => set({ temporary: null }),
}));

