import { describe, expect, it, vi } from 'vitest';
import { engineV8Flags } from '../../core/app/engine-process';

// The app's core process is started with the core's V8 flags, as `npm run web` / `serve` / `sync` start it.

const fork = vi.fn((..._args: unknown[]) => ({ on: vi.fn(), postMessage: vi.fn(), kill: vi.fn(), pid: 4242 }));
vi.mock('electron', () => ({ utilityProcess: { fork: (...args: unknown[]) => fork(...args) } }));

describe('the utility process launcher', () => {
  it("starts the core's process with the core's V8 flags and the given environment", async () => {
    const { utilityLauncher } = await import('./utility-launcher');
    const env = { RW_TEST: '1' };
    const child = utilityLauncher('/app/core.js', env)();
    expect(child.pid).toBe(4242);
    expect(fork).toHaveBeenCalledWith('/app/core.js', [], expect.objectContaining({ execArgv: [...engineV8Flags], env }));
  });
});
