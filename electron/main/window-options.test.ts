import { describe, expect, it } from 'vitest';
import { mainWindowOptions } from './window-options';

describe('main window options', () => {
  it('keep the renderer sandboxed, isolated and without Node', () => {
    const prefs = mainWindowOptions('/app/out/preload/index.cjs').webPreferences ?? {};
    expect(prefs.sandbox).toBe(true);
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.preload).toBe('/app/out/preload/index.cjs');
  });

  it('open where the window state says, without touching the security settings', () => {
    const bounds = { x: -1200, y: 40, width: 1000, height: 700 };
    const options = mainWindowOptions('/p.cjs', bounds);
    expect(options).toMatchObject({ ...bounds, show: false });
    expect(options.webPreferences).toEqual(mainWindowOptions('/p.cjs').webPreferences);
  });

  it('give a team server’s page no preload, and the same sandbox', () => {
    const remote = mainWindowOptions(null).webPreferences ?? {};
    expect('preload' in remote).toBe(false);
    const { preload: _preload, ...local } = mainWindowOptions('/p.cjs').webPreferences ?? {};
    expect(remote).toEqual(local);
  });
});
