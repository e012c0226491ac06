import { contextBridge, ipcRenderer } from 'electron';
import type { Api } from '../../core/contract/api';

// The renderer gets exactly two functions. Channel names are inlined so the sandboxed preload imports nothing
// but electron at run time.
const api: Api = {
  invoke: (command, input) => ipcRenderer.invoke('rw:invoke', command, input),
  on: (event, listener) => {
    const forward = (_e: unknown, name: unknown, payload: unknown) => {
      if (name === event) (listener as (p: unknown) => void)(payload);
    };
    ipcRenderer.on('rw:event', forward);
    return () => {
      ipcRenderer.removeListener('rw:event', forward);
    };
  },
};

contextBridge.exposeInMainWorld('api', api);
