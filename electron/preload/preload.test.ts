import { existsSync, readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ipcChannels } from '../../core/contract';

// Loads the *built* preload (what Electron would run) with a stand-in `electron` module, and checks what it
// exposes to the renderer. `npm test` builds before it runs the unit tests.
const builtPreload = new URL('../../out/preload/index.cjs', import.meta.url);

describe('built preload', () => {
  it('exposes exactly invoke and on, wired to the contract channels', async () => {
    expect(existsSync(builtPreload), 'out/preload/index.cjs is missing: run `npm run build` first').toBe(true);
    const exposed = new Map<string, Record<string, unknown>>();
    const calls: unknown[][] = [];
    const listeners = new Map<string, (...args: unknown[]) => void>();
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, value: Record<string, unknown>) => exposed.set(key, value) },
      ipcRenderer: {
        invoke: async (...args: unknown[]) => {
          calls.push(args);
          return { ok: true, data: null };
        },
        on: (channel: string, l: (...args: unknown[]) => void) => listeners.set(channel, l),
        removeListener: (channel: string) => listeners.delete(channel),
      },
    };
    const required: string[] = [];
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return electron;
    };
    runInNewContext(readFileSync(builtPreload, 'utf8'), { require: sandboxRequire, module: { exports: {} }, exports: {} });

    expect(required).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['api']);
    const api = exposed.get('api') ?? {};
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on']);

    await (api.invoke as (c: string, i: unknown) => Promise<unknown>)('app.info', {});
    expect(calls).toEqual([[ipcChannels.invoke, 'app.info', {}]]);

    const seen: unknown[] = [];
    const off = (api.on as (e: string, l: (p: unknown) => void) => () => void)('data.changed', (p) => seen.push(p));
    listeners.get(ipcChannels.event)?.({}, 'sync.progressed', { ignored: true });
    listeners.get(ipcChannels.event)?.({}, 'data.changed', { tables: ['feeds'] });
    expect(seen).toEqual([{ tables: ['feeds'] }]);
    off();
    expect(listeners.has(ipcChannels.event)).toBe(false);
  });
});
