import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { defaultSize, fitToDisplays, readWindowState, writeWindowState, type Rect } from './window-state';

const laptop: Rect = { x: 0, y: 0, width: 1920, height: 1040 };
const rightMonitor: Rect = { x: 1920, y: 0, width: 2560, height: 1400 };

describe('fitting saved window bounds to the displays attached now', () => {
  it('opens at the default size, centred on the primary display, the first time', () => {
    expect(fitToDisplays(null, [laptop, rightMonitor])).toEqual({
      bounds: { x: (1920 - defaultSize.width) / 2, y: (1040 - defaultSize.height) / 2, ...defaultSize },
      isMaximized: false,
    });
  });

  it('keeps a window that is fully on a display exactly where it was', () => {
    const saved = { bounds: { x: 2100, y: 100, width: 1600, height: 1000 }, isMaximized: true };
    expect(fitToDisplays(saved, [laptop, rightMonitor])).toEqual(saved);
  });

  it('moves a window whose monitor was unplugged back onto the primary display, keeping its size', () => {
    const saved = { bounds: { x: 2100, y: 100, width: 1600, height: 1000 }, isMaximized: false };
    expect(fitToDisplays(saved, [laptop])).toEqual({ bounds: { x: 160, y: 20, width: 1600, height: 1000 }, isMaximized: false });
  });

  it('shrinks a window larger than the display it is moved to', () => {
    const saved = { bounds: { x: 2000, y: 0, width: 2500, height: 1400 }, isMaximized: false };
    expect(fitToDisplays(saved, [laptop]).bounds).toEqual({ x: 0, y: 0, width: 1920, height: 1040 });
  });

  it('pulls a window hanging off the edge fully inside the display its title bar is on', () => {
    const saved = { bounds: { x: 1500, y: -20, width: 1000, height: 700 }, isMaximized: false };
    expect(fitToDisplays(saved, [laptop]).bounds).toEqual({ x: 920, y: 0, width: 1000, height: 700 });
  });

  it('treats a window whose title bar is above every display as lost, even if its body shows', () => {
    const saved = { bounds: { x: 100, y: -600, width: 1000, height: 800 }, isMaximized: false };
    expect(fitToDisplays(saved, [laptop]).bounds).toEqual({ x: 460, y: 120, width: 1000, height: 800 });
  });

  it('prefers the display showing most of a window that straddles two', () => {
    const saved = { bounds: { x: 1700, y: 50, width: 1200, height: 800 }, isMaximized: false };
    // 220 px on the laptop, 980 px on the right monitor: it lands inside the right monitor.
    expect(fitToDisplays(saved, [laptop, rightMonitor]).bounds).toEqual({ x: 1920, y: 50, width: 1200, height: 800 });
  });

  it('respects a display to the left of or above the primary (negative coordinates)', () => {
    const leftMonitor: Rect = { x: -1280, y: -200, width: 1280, height: 1024 };
    const saved = { bounds: { x: -1200, y: -150, width: 1000, height: 700 }, isMaximized: false };
    expect(fitToDisplays(saved, [laptop, leftMonitor]).bounds).toEqual(saved.bounds);
  });
});

describe('the window state file', () => {
  let temp: ReturnType<typeof makeTempDir>;
  afterEach(() => temp.remove());

  it('round-trips through a file written whole (no temporary file left behind)', () => {
    temp = makeTempDir();
    const file = join(temp.dir, 'state', 'window-state.json');
    const state = { bounds: { x: -5, y: 10, width: 1200, height: 800 }, isMaximized: true };
    writeWindowState(file, state);
    expect(readWindowState(file)).toEqual(state);
    expect(readdirSync(join(temp.dir, 'state'))).toEqual(['window-state.json']);
  });

  it('ignores a missing, corrupt or wrongly shaped file instead of failing the start', () => {
    temp = makeTempDir();
    const file = join(temp.dir, 'window-state.json');
    expect(existsSync(file)).toBe(false);
    expect(readWindowState(file)).toBeNull();
    writeFileSync(file, '{"bounds": {"x": 1');
    expect(readWindowState(file)).toBeNull();
    writeFileSync(file, JSON.stringify({ bounds: { x: 0, y: 0, width: -1, height: 600 }, isMaximized: false }));
    expect(readWindowState(file)).toBeNull();
    writeFileSync(file, JSON.stringify({ bounds: { x: 0.5, y: 0, width: 900, height: 600 }, isMaximized: 'yes' }));
    expect(readWindowState(file)).toBeNull();
  });
});
