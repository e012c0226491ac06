import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { engineV8Flags } from './engine-process';

// Every way the core's process is started runs it with the same V8 flags: the npm scripts a person types, and the
// app's utility process (checked in electron/main/utility-launcher.test.ts).

describe("the core process's V8 flags", () => {
  it('are given to node by the npm scripts that run the core', () => {
    const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['web', 'serve', 'sync']) {
      expect(scripts[name], name).toMatch(new RegExp(`\\bnode ${engineV8Flags.join(' ')} --import tsx core/cli/${name}\\.ts$`));
    }
  });
});
