import type { Dispatch } from '../../core/app/dispatch';
import { parseToCore, type CoreBootConfig, type FromCore, type ShutdownReport } from './protocol';

// The core's side of the link to main: boot once from the config main sends, answer commands, forward events,
// and on shutdown stop the sync service cleanly before the process exits. Free of Electron, so the same code runs
// under a utilityProcess in the app and under child_process.fork in the tests.

export interface ParentLink {
  post(message: FromCore): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** A core with its sync service running, as this process hosts it. */
export interface HostedCore {
  mode: 'sandbox' | 'live';
  dispatch: Dispatch;
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
  /** Stops scheduling, waits up to `drainMs` for the cycle in flight, records interrupted calls, closes the store. */
  shutdown(drainMs: number): Promise<ShutdownReport>;
}

export interface BootError {
  message: string;
  isPermanent: boolean;
}

export interface CoreHostOptions {
  link: ParentLink;
  boot: (config: CoreBootConfig) => Promise<HostedCore>;
  /** Classifies a boot failure: permanent ones (a damaged database, a bad mapping file) are not retried. */
  describeBootError: (error: unknown) => BootError;
  exit: (code: number) => void;
}

export function serveCore(options: CoreHostOptions): void {
  const { link } = options;
  let core: HostedCore | null = null;
  let phase: 'waiting' | 'booting' | 'ready' | 'stopping' = 'waiting';

  link.onMessage((raw) => {
    const message = parseToCore(raw);
    if (!message) return;
    switch (message.type) {
      case 'boot':
        if (phase !== 'waiting') return;
        phase = 'booting';
        options.boot(message.config).then(
          (booted) => {
            if (phase === 'stopping') {
              // Asked to stop while it was opening: close what was opened, then go.
              void booted.shutdown(0).finally(() => options.exit(0));
              return;
            }
            core = booted;
            phase = 'ready';
            booted.onEvent((name, payload) => link.post({ type: 'event', name, payload }));
            link.post({ type: 'ready', mode: booted.mode });
          },
          (error: unknown) => {
            const described = options.describeBootError(error);
            link.post({ type: 'bootFailed', message: described.message, isPermanent: described.isPermanent });
            options.exit(1);
          },
        );
        return;
      case 'invoke': {
        const { id, command, input } = message;
        if (!core || phase !== 'ready') {
          link.post({ type: 'result', id, result: { ok: false, error: { code: 'INTERNAL', message: 'The background service is not ready.' } } });
          return;
        }
        void core.dispatch(command, input).then((result) => link.post({ type: 'result', id, result }));
        return;
      }
      case 'shutdown': {
        if (phase === 'stopping') return;
        const running = core;
        const wasWaiting = phase === 'waiting';
        phase = 'stopping';
        if (!running) {
          link.post({ type: 'stopped', report: { isDrained: true, interrupted: 0 } });
          // Still booting: the boot's own completion closes what it opened and exits.
          if (wasWaiting) options.exit(0);
          return;
        }
        running.shutdown(message.drainMs).then(
          (report) => {
            link.post({ type: 'stopped', report });
            options.exit(0);
          },
          () => options.exit(1),
        );
        return;
      }
    }
  });
  link.post({ type: 'hello' });
}
