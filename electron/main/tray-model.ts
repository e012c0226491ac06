import type { SyncStatus } from '../../core/contract';

// What the tray menu says and offers, from the sync service's own status. Pure, so every state the menu can be
// in is tested under Node; main only turns it into an Electron Menu and routes the clicks.

/** The background service's life as the supervisor sees it (the core runs in a separate process). */
export type ServiceState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping';

export type TrayAction = 'toggleWindow' | 'pause' | 'resume' | 'runNow' | 'quit';

export type TrayItem =
  | { kind: 'info'; label: string }
  | { kind: 'action'; action: TrayAction; label: string; isEnabled: boolean }
  | { kind: 'separator' };

export interface TrayModel {
  tooltip: string;
  items: TrayItem[];
}

export interface TrayInput {
  service: ServiceState;
  /** The last answer of `sync.status`; null before the first. */
  status: SyncStatus | null;
  isWindowVisible: boolean;
  /** Formats an ISO time for the menu (local time of day); injected so tests do not depend on the time zone. */
  formatTime: (iso: string) => string;
}

function statusLine(input: TrayInput): string {
  const { service, status } = input;
  if (service === 'starting') return 'Sync: starting…';
  if (service === 'restarting') return 'Sync: restarting after a problem…';
  if (service === 'stopping') return 'Sync: finishing the current step before quitting…';
  if (service === 'failed') return 'Sync: stopped — the background service could not start';
  if (!status) return 'Sync: starting…';
  const last = status.lastCycleAt ? ` · last cycle ${input.formatTime(status.lastCycleAt)}` : '';
  switch (status.state) {
    case 'running':
      return 'Sync: running now';
    case 'idle':
      return `Sync: on${last}`;
    case 'paused':
      return `Sync: paused${last}`;
    case 'stopped':
      return status.lastError ? 'Sync: stopped — it could not start' : 'Sync: stopped';
  }
}

export function trayModel(input: TrayInput): TrayModel {
  const { status } = input;
  const isReady = input.service === 'ready' && status !== null;
  const failing = (status?.feeds ?? []).filter((f) => f.lastError !== null);
  const items: TrayItem[] = [{ kind: 'info', label: statusLine(input) }];
  if (status) items.push({ kind: 'info', label: status.mode === 'live' ? 'Mode: live (your Mirakl and ReBound)' : 'Mode: sandbox (simulated systems)' });
  if (failing.length > 0) {
    const names = failing.map((f) => f.label).join(', ');
    items.push({ kind: 'info', label: failing.length === 1 ? `Failing: ${names}` : `${failing.length} feeds failing: ${names}` });
  }
  if (isReady && status.state === 'stopped' && status.lastError) items.push({ kind: 'info', label: status.lastError });
  items.push({ kind: 'separator' });
  items.push({ kind: 'action', action: 'toggleWindow', label: input.isWindowVisible ? 'Hide window' : 'Open Returns Workbench', isEnabled: true });
  if (isReady && status.state === 'paused') {
    items.push({ kind: 'action', action: 'resume', label: 'Resume sync', isEnabled: true });
  } else {
    items.push({ kind: 'action', action: 'pause', label: 'Pause sync', isEnabled: isReady && (status.state === 'idle' || status.state === 'running') });
  }
  items.push({ kind: 'action', action: 'runNow', label: 'Run sync now', isEnabled: isReady && status.state === 'idle' });
  items.push({ kind: 'separator' });
  items.push({ kind: 'action', action: 'quit', label: 'Quit Returns Workbench', isEnabled: input.service !== 'stopping' });

  const tooltipParts = ['Returns Workbench', statusLine(input).replace(/^Sync: /, 'sync ')];
  if (failing.length > 0) tooltipParts.push(`${failing.length} failing`);
  return { tooltip: tooltipParts.join(' — '), items };
}
