import type { Result } from '../../core/contract';

// The messages between main and the core's process. Main sends the paths once (boot), then commands; the core
// answers each command by id, forwards contract events, and says when it is ready or stopped. Both sides are ours,
// but a message is still checked for its shape before it is trusted: a half-started process can send anything.

/** Everything the core needs from main: paths are decided by main (it alone knows where Electron keeps them). */
export interface CoreBootConfig {
  dataDir: string;
  migrationsDir: string;
  mappingsDir: string;
  appVersion: string;
  /** This machine's per-user state folder, outside the data folder (engines record their lease there too). */
  engineStateDir?: string;
  /** better-sqlite3 compiled for Electron when running from a source checkout (`npm start`); unset when packaged. */
  nativeBinding?: string;
  /** Sandbox time's pace after the warm-up (the Electron end-to-end tests speed it up); the workbench's default if unset. */
  sandboxSpeed?: number;
  /** Show this evidence bundle read-only instead of the app's own data: no credentials, no network, no sync. */
  bundleFile?: string;
}

export type ToCore =
  | { type: 'boot'; config: CoreBootConfig }
  | { type: 'invoke'; id: number; command: string; input: unknown }
  | { type: 'shutdown'; drainMs: number };

export interface ShutdownReport {
  /** The cycle in flight, if any, finished within the time allowed. */
  isDrained: boolean;
  /** Intents found still `sending` and recorded as interrupted (uncertain, to be probed at the next start). */
  interrupted: number;
}

export type FromCore =
  /** The core process listens: main may send the boot config (a message sent earlier could be lost under Node). */
  | { type: 'hello' }
  | { type: 'ready'; mode: 'sandbox' | 'live' }
  /** `isPermanent`: restarting will not help (the database or a mapping file must be fixed first). */
  | { type: 'bootFailed'; message: string; isPermanent: boolean }
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'event'; name: string; payload: unknown }
  | { type: 'stopped'; report: ShutdownReport };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function parseFromCore(message: unknown): FromCore | null {
  if (!isObject(message) || typeof message.type !== 'string') return null;
  switch (message.type) {
    case 'hello':
      return { type: 'hello' };
    case 'ready':
      return message.mode === 'sandbox' || message.mode === 'live' ? { type: 'ready', mode: message.mode } : null;
    case 'bootFailed':
      return typeof message.message === 'string' && typeof message.isPermanent === 'boolean'
        ? { type: 'bootFailed', message: message.message, isPermanent: message.isPermanent }
        : null;
    case 'result':
      return typeof message.id === 'number' && isObject(message.result) && typeof message.result.ok === 'boolean'
        ? { type: 'result', id: message.id, result: message.result as Result<unknown> }
        : null;
    case 'event':
      return typeof message.name === 'string' ? { type: 'event', name: message.name, payload: message.payload } : null;
    case 'stopped': {
      const report = message.report;
      return isObject(report) && typeof report.isDrained === 'boolean' && typeof report.interrupted === 'number'
        ? { type: 'stopped', report: { isDrained: report.isDrained, interrupted: report.interrupted } }
        : null;
    }
    default:
      return null;
  }
}

export function parseToCore(message: unknown): ToCore | null {
  if (!isObject(message) || typeof message.type !== 'string') return null;
  switch (message.type) {
    case 'boot': {
      const c = message.config;
      if (!isObject(c)) return null;
      const strings = ['dataDir', 'migrationsDir', 'mappingsDir', 'appVersion'] as const;
      if (!strings.every((k) => typeof c[k] === 'string' && c[k] !== '')) return null;
      if (c.nativeBinding !== undefined && typeof c.nativeBinding !== 'string') return null;
      if (c.sandboxSpeed !== undefined && !(typeof c.sandboxSpeed === 'number' && c.sandboxSpeed > 0)) return null;
      if (c.bundleFile !== undefined && !(typeof c.bundleFile === 'string' && c.bundleFile !== '')) return null;
      return { type: 'boot', config: c as unknown as CoreBootConfig };
    }
    case 'invoke':
      return typeof message.id === 'number' && typeof message.command === 'string'
        ? { type: 'invoke', id: message.id, command: message.command, input: message.input }
        : null;
    case 'shutdown':
      return typeof message.drainMs === 'number' && message.drainMs >= 0 ? { type: 'shutdown', drainMs: message.drainMs } : null;
    default:
      return null;
  }
}
