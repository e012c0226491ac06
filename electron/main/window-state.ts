import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

// The window reopens where the user left it, but never off-screen: a monitor may have been unplugged or
// rearranged since, so the saved bounds are fitted to the displays attached now.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Rect;
  isMaximized: boolean;
}

export const defaultSize = { width: 1400, height: 900 } as const;
/** The strip at the top of the window the user drags it by, and how much of it must be on a display to grab it. */
const titleBarHeight = 40;
const minimumVisible = { width: 120, height: 20 } as const;

const stateSchema = z.object({
  bounds: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().positive(), height: z.number().int().positive() }),
  isMaximized: z.boolean(),
});

/** The saved state, or null when there is none or it cannot be trusted (the window then opens centred). */
export function readWindowState(file: string): WindowState | null {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = stateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Written to a temporary file and renamed, so a crash mid-write never leaves half a file. */
export function writeWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  writeFileSync(temp, JSON.stringify(state));
  renameSync(temp, file);
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

function centredIn(area: Rect, width: number, height: number): Rect {
  const w = Math.min(width, area.width);
  const h = Math.min(height, area.height);
  return { x: area.x + Math.round((area.width - w) / 2), y: area.y + Math.round((area.height - h) / 2), width: w, height: h };
}

/**
 * Fits saved bounds to the displays' work areas (screen minus task bars). `workAreas[0]` is the primary display.
 * - No saved state: default size, centred on the primary display.
 * - The title bar is visible enough on some display: kept, shrunk to that display and pulled fully inside it.
 * - Otherwise (the display it was on is gone): its size, centred on the primary display.
 */
export function fitToDisplays(saved: WindowState | null, workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0];
  if (!primary) return { bounds: { x: 0, y: 0, ...defaultSize }, isMaximized: saved?.isMaximized ?? false };
  if (!saved) return { bounds: centredIn(primary, defaultSize.width, defaultSize.height), isMaximized: false };

  const { bounds } = saved;
  const titleBar: Rect = { x: bounds.x, y: bounds.y, width: bounds.width, height: Math.min(bounds.height, titleBarHeight) };
  let best: Rect | null = null;
  let bestArea = 0;
  for (const area of workAreas) {
    const seen = overlap(titleBar, area);
    if (seen.width >= Math.min(minimumVisible.width, bounds.width) && seen.height >= Math.min(minimumVisible.height, bounds.height)) {
      const total = overlap(bounds, area);
      if (total.width * total.height > bestArea || !best) {
        best = area;
        bestArea = total.width * total.height;
      }
    }
  }
  if (!best) return { bounds: centredIn(primary, bounds.width, bounds.height), isMaximized: saved.isMaximized };

  const width = Math.min(bounds.width, best.width);
  const height = Math.min(bounds.height, best.height);
  const x = Math.min(Math.max(bounds.x, best.x), best.x + best.width - width);
  const y = Math.min(Math.max(bounds.y, best.y), best.y + best.height - height);
  return { bounds: { x, y, width, height }, isMaximized: saved.isMaximized };
}
