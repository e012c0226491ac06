import type { Api, Command, ContractError, EventName, EventPayload, Input, Output, Result } from '../../../core/contract';

// The only file that touches the transport: Electron's preload (`window.api`) when present, otherwise the
// loopback web host over HTTP + server-sent events, authenticated with the per-launch token.

declare global {
  interface Window {
    api?: Api;
  }
}

const tokenKey = 'rw.token';

function takeToken(): string {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(tokenKey, decodeURIComponent(match[1]));
    // Keep the token out of the address bar, bookmarks and screenshots.
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(tokenKey) ?? '';
}

function createHttpApi(): Api {
  const token = takeToken();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let streaming = false;

  async function invoke<K extends Command>(command: K, input: Input<K>): Promise<Result<Output<K>>> {
    try {
      const response = await fetch(`/api/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(input ?? {}),
      });
      const body = (await response.json()) as Result<Output<K>>;
      return body;
    } catch (error) {
      return { ok: false, error: { code: 'INTERNAL', message: `The app's local service did not answer (${(error as Error).message}).` } };
    }
  }

  async function stream(): Promise<void> {
    for (;;) {
      try {
        const response = await fetch('/api/events', { headers: { authorization: `Bearer ${token}` } });
        if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
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
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

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

  return {
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
}

export const api: Api = window.api ?? createHttpApi();
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
      headers: { 'content-type': 'application/json', authorization: `Bearer ${takeToken()}` },
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
