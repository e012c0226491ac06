import { describe, expect, it } from 'vitest';
import { syncStatusSchema, type SyncStatus } from '../../core/contract';
import { trayModel, type TrayInput, type TrayItem } from './tray-model';

const feed = (name: string, label: string, lastError: string | null = null) => ({
  feed: name,
  label,
  cadenceSeconds: 60,
  isPaused: false,
  lastRunAt: '2026-11-01T09:00:00.000Z',
  lastSuccessAt: lastError ? null : '2026-11-01T09:00:00.000Z',
  lastError,
  nextRunAt: '2026-11-01T09:01:00.000Z',
  apiErrors: lastError ? 3 : 0,
  rateLimitWaits: 0,
});

// Built through the contract's schema, so the test breaks if the status it reads changes shape.
const status = (over: Partial<SyncStatus> = {}): SyncStatus =>
  syncStatusSchema.parse({
    state: 'idle',
    mode: 'sandbox',
    feeds: [feed('mirakl.returns', 'Mirakl returns (RT11)'), feed('rebound', 'ReBound parcels and grading')],
    lastCycleAt: '2026-11-01T09:00:05.000Z',
    lastError: null,
    cycles: 12,
    ...over,
  });

const input = (over: Partial<TrayInput> = {}): TrayInput => ({
  service: 'ready',
  status: status(),
  isWindowVisible: true,
  formatTime: (iso) => iso.slice(11, 16),
  ...over,
});

const action = (items: TrayItem[], name: string) => items.find((i) => i.kind === 'action' && i.action === name);
const infos = (items: TrayItem[]) => items.filter((i) => i.kind === 'info').map((i) => (i as { label: string }).label);

describe('tray menu', () => {
  it('shows an idle sync with its last cycle and offers pause and run now', () => {
    const { items, tooltip } = trayModel(input());
    expect(infos(items)).toEqual(['Sync: on · last cycle 09:00', 'Mode: sandbox (simulated systems)']);
    expect(action(items, 'pause')).toMatchObject({ label: 'Pause sync', isEnabled: true });
    expect(action(items, 'resume')).toBeUndefined();
    expect(action(items, 'runNow')).toMatchObject({ isEnabled: true });
    expect(action(items, 'toggleWindow')).toMatchObject({ label: 'Hide window' });
    expect(tooltip).toBe('Returns Workbench — sync on · last cycle 09:00');
  });

  it('offers resume instead of pause while paused, and no run now', () => {
    const { items } = trayModel(input({ status: status({ state: 'paused' }), isWindowVisible: false }));
    expect(infos(items)[0]).toBe('Sync: paused · last cycle 09:00');
    expect(action(items, 'resume')).toMatchObject({ label: 'Resume sync', isEnabled: true });
    expect(action(items, 'pause')).toBeUndefined();
    expect(action(items, 'runNow')).toMatchObject({ isEnabled: false });
    expect(action(items, 'toggleWindow')).toMatchObject({ label: 'Open Returns Workbench' });
  });

  it('does not offer run now while a cycle is running', () => {
    const { items } = trayModel(input({ status: status({ state: 'running' }) }));
    expect(infos(items)[0]).toBe('Sync: running now');
    expect(action(items, 'runNow')).toMatchObject({ isEnabled: false });
    expect(action(items, 'pause')).toMatchObject({ isEnabled: true });
  });

  it('names the failing feeds, in the menu and the tooltip', () => {
    const failing = status({
      mode: 'live',
      feeds: [feed('mirakl.returns', 'Mirakl returns (RT11)', '503 Service Unavailable'), feed('rebound', 'ReBound parcels and grading', 'timeout')],
    });
    const { items, tooltip } = trayModel(input({ status: failing }));
    expect(infos(items)).toContain('Mode: live (your Mirakl and ReBound)');
    expect(infos(items)).toContain('2 feeds failing: Mirakl returns (RT11), ReBound parcels and grading');
    expect(tooltip).toBe('Returns Workbench — sync on · last cycle 09:00 — 2 failing');
  });

  it('says why sync is stopped when the service could not start it', () => {
    const stopped = status({ state: 'stopped', lastError: 'The OS keychain is not available, so credentials cannot be read.' });
    const { items } = trayModel(input({ status: stopped }));
    expect(infos(items)).toEqual([
      'Sync: stopped — it could not start',
      'Mode: sandbox (simulated systems)',
      'The OS keychain is not available, so credentials cannot be read.',
    ]);
    expect(action(items, 'pause')).toMatchObject({ isEnabled: false });
    expect(action(items, 'runNow')).toMatchObject({ isEnabled: false });
  });

  it('disables every sync control while the background service starts, restarts or failed', () => {
    for (const service of ['starting', 'restarting', 'failed'] as const) {
      const { items } = trayModel(input({ service, status: service === 'starting' ? null : status() }));
      expect(action(items, 'pause')).toMatchObject({ isEnabled: false });
      expect(action(items, 'runNow')).toMatchObject({ isEnabled: false });
      expect(action(items, 'quit')).toMatchObject({ isEnabled: true });
    }
    expect(infos(trayModel(input({ service: 'restarting' })).items)[0]).toBe('Sync: restarting after a problem…');
    expect(infos(trayModel(input({ service: 'failed' })).items)[0]).toBe('Sync: stopped — the background service could not start');
  });

  it('cannot be asked to quit twice while the last sync step finishes', () => {
    const { items } = trayModel(input({ service: 'stopping' }));
    expect(infos(items)[0]).toBe('Sync: finishing the current step before quitting…');
    expect(action(items, 'quit')).toMatchObject({ isEnabled: false });
  });
});
