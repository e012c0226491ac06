import { ipcChannels } from '../../core/contract';
import type { Dispatch } from '../../core/app/dispatch';

// Storage and core never import Electron: IPC is bound through this tiny interface, so it is tested under Node.
export interface IpcEventLike {
  senderFrame: { url: string } | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export function bindIpc(ipc: IpcMainLike, dispatch: Dispatch, isTrustedSender: (url: string) => boolean): () => void {
  ipc.handle(ipcChannels.invoke, async (event, command, input) => {
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedSender(url)) {
      return { ok: false, error: { code: 'AUTH', message: 'Refused: the request did not come from the app window.' } };
    }
    if (typeof command !== 'string') {
      return { ok: false, error: { code: 'VALIDATION', message: 'The command name must be a string.' } };
    }
    return dispatch(command, input);
  });
  return () => ipc.removeHandler(ipcChannels.invoke);
}
