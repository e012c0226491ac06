import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import direction of STYLE.md §1 is enforced by lint; this proves the rules fire (and do not over-fire).
const eslint = new ESLint({ cwd: new URL('../../', import.meta.url).pathname });

async function restrictedImports(filePath: string, code: string): Promise<number> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').length;
}

describe('import direction', () => {
  it('core never imports electron, react or the renderer', async () => {
    expect(await restrictedImports('core/sync/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toBe(1);
    expect(await restrictedImports('core/sync/x.ts', "import { useState } from 'react';\nexport const a = useState;\n")).toBe(1);
    expect(await restrictedImports('core/sync/x.ts', "import { App } from '../../renderer/src/app/App';\nexport const a = App;\n")).toBe(1);
    expect(await restrictedImports('core/sync/x.ts', "import { join } from 'node:path';\nexport const a = join;\n")).toBe(0);
  });

  it('the renderer imports only core/contract, and no Node', async () => {
    expect(await restrictedImports('renderer/src/x.ts', "import { openStore } from '../../core/store/db';\nexport const a = openStore;\n")).toBe(1);
    expect(await restrictedImports('renderer/src/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n")).toBe(1);
    expect(await restrictedImports('renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n")).toBe(1);
    expect(await restrictedImports('renderer/src/x.ts', "import { commands } from '../../core/contract';\nexport const a = commands;\n")).toBe(0);
  });

  it('core/contract stays free of Node and of the rest of core', async () => {
    expect(await restrictedImports('core/contract/x.ts', "import { createHash } from 'node:crypto';\nexport const a = createHash;\n")).toBe(1);
    expect(await restrictedImports('core/contract/x.ts', "import { openStore } from '../store/db';\nexport const a = openStore;\n")).toBe(1);
    expect(await restrictedImports('core/contract/x.ts', "import { z } from 'zod';\nexport const a = z;\n")).toBe(0);
  });
});
