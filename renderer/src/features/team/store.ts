import { create } from 'zustand';
import { mayRun, rolesAllowed, type Command, type ContractError, type Output } from '../../../../core/contract';
import { api, connection, type ConnectionState } from '../../api/transport';

// Who is using the app and what they may do. In the desktop app and the loopback browser mode that is one person with
// every role (team.me answers so); on a team server, the account that signed in. The server checks every command
// anyway: the page only hides or disables what the person's roles cannot use, and says why.

type Me = Output<'team.me'>;

interface TeamState extends ConnectionState {
  me: Me | null;
  meError: ContractError | null;
  loadMe(): Promise<void>;
  /** The server's refusal to show, or null when signed in. */
  signIn(username: string, password: string): Promise<string | null>;
  /** The refusal per field ('' for the rest), or null when the new password is in force. */
  changePassword(current: string, next: string): Promise<Record<string, string> | null>;
  /** Ending the session on the server: the way out is disabled meanwhile. */
  isSigningOut: boolean;
  /** Set when the server could not be told of a sign-out: shown on the sign-in page. */
  signOutWarning: string | null;
  signOut(): Promise<void>;
}

export const useTeamStore = create<TeamState>((set, get) => ({
  ...connection.get(),
  me: null,
  meError: null,
  isSigningOut: false,
  signOutWarning: null,

  loadMe: async () => {
    const result = await api.invoke('team.me', {});
    set(result.ok ? { me: result.data, meError: null } : { meError: result.error });
  },

  signIn: async (username, password) => {
    set({ signOutWarning: null });
    const answer = await connection.signIn(username, password);
    if (!answer.ok) return answer.message;
    await get().loadMe();
    return null;
  },

  changePassword: async (current, next) => {
    const result = await api.invoke('team.changePassword', { current, next });
    if (result.ok) {
      set({ me: result.data });
      return null;
    }
    const errors: Record<string, string> = {};
    for (const issue of result.error.issues ?? []) errors[issue.path.map(String).join('.')] = issue.message;
    if (!result.error.issues?.length) errors[''] = result.error.message;
    return errors;
  },

  signOut: async () => {
    if (get().isSigningOut) return;
    set({ isSigningOut: true, signOutWarning: null });
    const { isEndedOnServer } = await connection.signOut();
    set({
      me: null,
      isSigningOut: false,
      signOutWarning: isEndedOnServer
        ? null
        : 'Signed out of this tab, but the team server could not be reached to end the session: it ends at its expiry (12 hours after sign-in), or at once if an Integration admin disables the account or resets its password.',
    });
  },
}));

// The connection's state follows the transport's; a session that ended forgets who was signed in.
connection.watch(() => {
  const next = connection.get();
  useTeamStore.setState(next.isSignedIn ? next : { ...next, me: null });
});

/**
 * Whether the signed-in person's roles allow `command`, and if not, why (for a disabled button's title). The desktop
 * app's and the loopback browser mode's one person has every role; on a team server nothing is offered until the
 * person is known.
 */
export function permission(host: ConnectionState['host'], me: Me | null, command: Command): { isAllowed: boolean; whyNot: string | null } {
  if (host !== 'team') return { isAllowed: true, whyNot: null };
  if (!me) return { isAllowed: false, whyNot: 'Loading who you are…' };
  if (mayRun(me.roles, command)) return { isAllowed: true, whyNot: null };
  return { isAllowed: false, whyNot: `Needs the ${rolesAllowed(command)} role; an Integration admin can change your roles.` };
}

export function useCan(command: Command): { isAllowed: boolean; whyNot: string | null } {
  return permission(
    useTeamStore((s) => s.host),
    useTeamStore((s) => s.me),
    command,
  );
}
