import type { Api, Command, ContractError, EventName, EventPayload, Input, Output, Result } from '../../../core/contract';

// The only file that touches the transport: Electron's preload (`window.api`) when present, otherwise the web host
// over HTTP + server-sent events: the loopback host with its per-launch token, or a team server (npm run serve) with
// the session token of the person who signed in (asked for at /auth/mode when the address carries no token).

declare global {
  interface Window {
    api?: Api;
  }
}

const tokenKey = 'rw.token';
/** A team server's session token: kept for this tab only, like the per-launch token. */
const sessionKey = 'rw.session';

/**
 * Who the page talks to: the desktop app (IPC), the loopback web host (its per-launch token), or a team server
 * (people sign in; their session token stands in for the per-launch one).
 */
export type HostKind = 'desktop' | 'loopback' | 'team';

/** What the page knows of its connection, for the sign-in gate and the "Reconnecting" indicator. */
export interface ConnectionState {
  /** null until the host has said whether it is a team server. */
  host: HostKind | null;
  /** A team server: whether this tab holds a session (false again once the server answers 401). */
  isSignedIn: boolean;
  /** The event stream was connected and is not now: the server is restarting, or the network dropped. */
  isStreamDown: boolean;
}

function takeToken(): string {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(tokenKey, decodeURIComponent(match[1]));
    // Keep the token out of the address bar, bookmarks and screenshots.
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(tokenKey) ?? '';
}

function createHttpApi() {
  // A per-launch token in the address (or kept from it) is the loopback host: no question asked, as always.
  const launchToken = takeToken();
  let state: ConnectionState = { host: launchToken ? 'loopback' : null, isSignedIn: false, isStreamDown: false };
  const watchers = new Set<() => void>();
  const update = (change: Partial<ConnectionState>) => {
    const next = { ...state, ...change };
    if (next.host === state.host && next.isSignedIn === state.isSignedIn && next.isStreamDown === state.isStreamDown) return;
    state = next;
    watchers.forEach((w) => w());
  };
  let signedIn: () => void = () => undefined;
  let whenSignedIn = new Promise<void>((resolve) => (signedIn = resolve));

  const hostKnown: Promise<HostKind> = state.host
    ? Promise.resolve(state.host)
    : fetch('/auth/mode')
        .then((r) => r.json() as Promise<Result<{ team: boolean }>>)
        .then((body) => (body.ok && body.data.team ? 'team' : 'loopback'))
        .catch(() => 'loopback' as const)
        .then((host) => {
          const hasSession = host === 'team' && Boolean(sessionStorage.getItem(sessionKey));
          update({ host, isSignedIn: hasSession });
          if (hasSession) signedIn();
          return host;
        });

  const token = () => (state.host === 'team' ? (sessionStorage.getItem(sessionKey) ?? '') : launchToken);

  /** The server no longer knows this tab's session (signed out elsewhere, expired, account disabled or reset). */
  function sessionEnded(): void {
    if (state.host !== 'team') return;
    sessionStorage.removeItem(sessionKey);
    if (state.isSignedIn) whenSignedIn = new Promise<void>((resolve) => (signedIn = resolve));
    update({ isSignedIn: false, isStreamDown: false });
  }

  const notSignedIn = { ok: false as const, error: { code: 'AUTH' as const, message: 'Sign in to the team server first.' } };

  async function invoke<K extends Command>(command: K, input: Input<K>): Promise<Result<Output<K>>> {
    const host = await hostKnown;
    if (host === 'team' && !state.isSignedIn) return notSignedIn;
    try {
      const response = await fetch(`/api/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
        body: JSON.stringify(input ?? {}),
      });
      const body = (await response.json()) as Result<Output<K>>;
      if (response.status === 401) sessionEnded();
      return body;
    } catch (error) {
      const what = host === 'team' ? 'The team server' : "The app's local service";
      return { ok: false, error: { code: 'INTERNAL', message: `${what} did not answer (${(error as Error).message}).` } };
    }
  }

  async function stream(): Promise<void> {
    const host = await hostKnown;
    for (;;) {
      if (host === 'team') await whenSignedIn;
      try {
        const response = await fetch('/api/events', { headers: { authorization: `Bearer ${token()}` } });
        if (response.status === 401) {
          sessionEnded();
          continue;
        }
        if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
        update({ isStreamDown: false });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatchFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // The host restarted or the network blipped: reconnect below.
      }
      // Ended by a sign-out (this tab's or the server's) is not a lost connection.
      if (host !== 'team' || state.isSignedIn) update({ isStreamDown: true });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let streaming = false;

  function dispatchFrame(frame: string): void {
    let name = '';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!name || !data) return;
    const payload: unknown = JSON.parse(data);
    listeners.get(name)?.forEach((l) => l(payload));
  }

  const api: Api = {
    invoke,
    on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void) {
      if (!streaming) {
        streaming = true;
        void stream();
      }
      const set = listeners.get(event) ?? new Set();
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      listeners.set(event, set);
      return () => set.delete(wrapped);
    },
  };

  const connection = {
    get: () => state,
    watch(watcher: () => void): () => void {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    token,

    /** A team server's sign-in: the error message to show, or what the session needs next. */
    async signIn(username: string, password: string): Promise<{ ok: true; mustChangePassword: boolean } | { ok: false; message: string }> {
      try {
        const response = await fetch('/auth/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
        const body = (await response.json()) as Result<{ token: string; expiresAt: string; mustChangePassword: boolean }>;
        if (!body.ok) return { ok: false, message: body.error.message };
        sessionStorage.setItem(sessionKey, body.data.token);
        update({ isSignedIn: true });
        signedIn();
        return { ok: true, mustChangePassword: body.data.mustChangePassword };
      } catch (error) {
        return { ok: false, message: `The team server did not answer (${(error as Error).message}).` };
      }
    },

    /**
     * Ends this tab's session on the server (its token is refused from then on), then forgets it here: the page says
     * signed out only once the server has said so. A server that cannot be reached cannot be told; the tab forgets the
     * session anyway, and the answer says so (the session then ends at its expiry, or when an admin disables the account).
     */
    async signOut(): Promise<{ isEndedOnServer: boolean }> {
      const ending = token();
      const response = await fetch('/auth/sign-out', { method: 'POST', headers: { authorization: `Bearer ${ending}` } }).catch(() => null);
      sessionEnded();
      return { isEndedOnServer: response !== null && (response.ok || response.status === 401) };
    },
  };

  return { api, connection };
}

/** The desktop app's connection: no sign-in, and IPC has no stream to lose. */
const desktopConnection = {
  get: (): ConnectionState => ({ host: 'desktop', isSignedIn: true, isStreamDown: false }),
  watch: (_watcher: () => void) => () => undefined,
  token: () => '',
  signIn: async () => ({ ok: false as const, message: 'The desktop app has no sign-in.' }),
  signOut: async () => ({ isEndedOnServer: true }),
};

const http = window.api ? null : createHttpApi();

export const api: Api = window.api ?? http!.api;
/** The connection's state and a team server's sign-in and sign-out. */
export const connection = http?.connection ?? desktopConnection;
export const transportKind: 'electron' | 'browser' = window.api ? 'electron' : 'browser';

/**
 * Hands an exported file to the person: in a browser, a download (the host gives a one-use link for it; the token
 * never goes into a link); in the desktop app, its folder opened with the file selected. The core decides which files
 * may be handed out (reports.file). Resolves with the refusal, or null.
 */
export async function offerFile(path: string): Promise<ContractError | null> {
  if (transportKind === 'electron') {
    const shown = await api.invoke('reports.file', { path, reveal: true });
    return shown.ok ? null : shown.error;
  }
  try {
    const response = await fetch('/api/downloads', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${connection.token()}` },
      body: JSON.stringify({ path }),
    });
    const body = (await response.json()) as Result<{ url: string; name: string }>;
    if (!body.ok) return body.error;
    const link = document.createElement('a');
    link.href = body.data.url;
    link.download = body.data.name;
    link.rel = 'noopener';
    document.body.append(link);
    link.click();
    link.remove();
    return null;
  } catch (error) {
    return { code: 'INTERNAL', message: `The app's local service did not answer (${(error as Error).message}).` };
  }
}
