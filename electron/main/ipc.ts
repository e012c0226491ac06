import { commands, ipcChannels, isCommand, type ContractError } from '../../core/contract';
import type { Dispatch } from '../../core/app/dispatch';

// The renderer is untrusted. Before a command reaches the core's process, main checks who sent it (our window's
// top frame, on the app's own page) and parses its input with the contract's schema; the core parses it again.
// Storage and core never import Electron: IPC is bound through this tiny interface, so it is tested under Node.

export interface IpcEventLike {
  /** The WebContents that sent the message. */
  sender: { id: number } | null;
  /** The frame that sent it: null once it navigated away or was destroyed; `parent` is null for a top frame. */
  senderFrame: { url: string; parent?: unknown } | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** Inputs bigger than this are refused before parsing (a saved mapping file is at most 1 MB of text). */
export const maxInputBytes = 4 * 1024 * 1024;

/** Trusts only the top frame of one window (its WebContents id) showing the app's own page. */
export function appWindowSender(windowId: () => number | null, isAppPage: (url: string) => boolean): (event: IpcEventLike) => boolean {
  return (event) => {
    const id = windowId();
    const frame = event.senderFrame;
    if (id === null || event.sender?.id !== id || !frame) return false;
    if (frame.parent !== null && frame.parent !== undefined) return false;
    return isAppPage(frame.url);
  };
}

/** The contract's validation, at the boundary: the command must exist and its input must parse. */
export function validateInvocation(command: unknown, input: unknown): { ok: true; command: string; input: unknown } | { ok: false; error: ContractError } {
  if (typeof command !== 'string') return { ok: false, error: { code: 'VALIDATION', message: 'The command name must be a string.' } };
  if (!isCommand(command)) return { ok: false, error: { code: 'NOT_FOUND', message: `There is no command named "${command.slice(0, 80)}".` } };
  let size: number;
  try {
    size = JSON.stringify(input ?? {})?.length ?? 0;
  } catch {
    return { ok: false, error: { code: 'VALIDATION', message: `Invalid input for ${command}: it is not plain data.` } };
  }
  if (size > maxInputBytes) {
    return { ok: false, error: { code: 'VALIDATION', message: `Invalid input for ${command}: ${size} bytes is more than the ${maxInputBytes} allowed.` } };
  }
  const parsed = commands[command].input.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
    const where = issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'VALIDATION', message: `Invalid input for ${command}: ${where}`, issues } };
  }
  return { ok: true, command, input: parsed.data };
}

export function bindIpc(ipc: IpcMainLike, dispatch: Dispatch, isTrustedSender: (event: IpcEventLike) => boolean): () => void {
  ipc.handle(ipcChannels.invoke, async (event, command, input) => {
    if (!isTrustedSender(event)) {
      return { ok: false, error: { code: 'AUTH', message: 'Refused: the request did not come from the app window.' } };
    }
    const checked = validateInvocation(command, input);
    if (!checked.ok) return checked;
    return dispatch(checked.command, checked.input);
  });
  return () => ipc.removeHandler(ipcChannels.invoke);
}
