import { describe, expect, it } from 'vitest';
import { createCommandQueue } from './queue';

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
});
