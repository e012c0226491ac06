import { describe, expect, it } from 'vitest';
import { createCommandQueue } from './queue';
import type { ChangeLog } from '../store/changes';

describe('the command queue', () => {
  it('runs commands one at a time, in order, across awaits, whatever each one\'s outcome', async () => {
    const queue = createCommandQueue();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const feed = queue.run('feed:stock', async () => {
      log.push('feed reads');
      await gate;
      log.push('feed sends');
    });
    const failing = queue.run('person:bad', () => {
      log.push('bad');
      throw new Error('refused');
    });
    const person = queue.run('person:skip', () => {
      log.push('person skips');
      return 'skipped';
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queue.current).toBe('feed:stock');
    expect(queue.waiting).toBe(2);
    release();
    await feed;
    await expect(failing).rejects.toThrow('refused');
    expect(await person).toBe('skipped');
    expect(log).toEqual(['feed reads', 'feed sends', 'bad', 'person skips']);
    expect(queue.current).toBeNull();
  });

  it('announces the tables each command changed once it has finished, and writes outside commands on their own', async () => {
    let changed = new Set<string>();
    let first: (() => void) | null = null;
    const changes: ChangeLog = {
      mark(table) {
        const isFirst = changed.size === 0;
        changed.add(table);
        if (isFirst) first?.();
      },
      take() {
        const tables = [...changed];
        changed = new Set();
        return tables;
      },
      onFirstChange(listener) {
        first = listener;
      },
    };
    const announced: string[][] = [];
    const queue = createCommandQueue({ changes, announce: (tables) => announced.push(tables) });
    await queue.run('feed:intake', async () => {
      changes.mark('return_intake');
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(announced).toEqual([]);
      changes.mark('rebound_return_orders');
      changes.mark('return_intake');
    });
    expect(announced).toEqual([['return_intake', 'rebound_return_orders']]);
    await queue.run('feed:quiet', () => undefined);
    expect(announced).toHaveLength(1);
    await expect(
      queue.run('person:refund', () => {
        changes.mark('intents');
        throw new Error('refused after a write');
      }),
    ).rejects.toThrow();
    expect(announced.at(-1)).toEqual(['intents']);
    // A write outside any command (a webhook recorded): announced once the current turn of work is done.
    changes.mark('rebound_events');
    changes.mark('rebound_events');
    expect(announced).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(announced.at(-1)).toEqual(['rebound_events']);
    expect(announced).toHaveLength(3);
  });
});
