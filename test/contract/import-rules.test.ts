import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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

  it('money, stock and SQL have their places: no SQL or driver outside core/store, core/ledger and *-repo.ts', async () => {
    const messages = async (filePath: string, code: string) => ((await eslint.lintText(code, { filePath }))[0]?.messages ?? []).map((m) => m.ruleId);
    const sql = "export const a = (db: { prepare(s: string): unknown }) => db.prepare(`UPDATE stock_increments SET state = 'applied'`);\n";
    expect(await messages('core/sync/feeds/x.ts', sql)).toEqual(['no-restricted-syntax', 'no-restricted-syntax']);
    expect(await messages('core/reconcile/x.ts', "import type { Database } from 'better-sqlite3';\nexport type A = Database;\n")).toEqual(['no-restricted-imports']);
    expect(await messages('core/ledger/x.ts', sql)).toEqual([]);
    expect(await messages('core/store/x-repo.ts', sql)).toEqual([]);
  });

  it('sync, reconcile and app never import each other in a circle', async () => {
    expect(await restrictedImports('core/reconcile/x.ts', "import { feeds } from '../sync/engine';\nexport const a = feeds;\n")).toBe(1);
    expect(await restrictedImports('core/sync/feeds/x.ts', "import { createCore } from '../../app/create-core';\nexport const a = createCore;\n")).toBe(1);
    expect(await restrictedImports('core/ledger/x.ts', "import { explainReturn } from '../reconcile/explain';\nexport const a = explainReturn;\n")).toBe(1);
    expect(await restrictedImports('core/store/report/x.ts', "import { arrived } from '../reconcile/detectors';\nexport const a = arrived;\n")).toBe(0);
    expect(await restrictedImports('core/app/x.ts', "import { feeds } from '../sync/engine';\nexport const a = feeds;\n")).toBe(0);
  });

  it('money, stock and exceptions are written only by core/ledger: no other file has a write statement on their tables', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const ledgerTables = ['intents', 'units', 'stock_increments', 'exceptions', 'exception_notes', 'recon_watch', 'quarantined_records'];
    const write = new RegExp(`\\b(?:INSERT(?:\\s+OR\\s+\\w+)?\\s+INTO|REPLACE\\s+INTO|UPDATE(?:\\s+OR\\s+\\w+)?|DELETE\\s+FROM)\\s+"?(?:main\\.)?(${ledgerTables.join('|')})\\b`, 'gi');
    const files = (readdirSync(join(root, 'core'), { recursive: true }) as string[])
      .map((f) => join(root, 'core', f))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('/core/sandbox/') && !f.includes('/core/ledger/'));
    expect(files.length).toBeGreaterThan(50);
    const writers = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(write)].map((m) => `${relative(root, f)}: ${m[0]}`));
    expect(writers).toEqual([]);
    // The check sees a write where there is one.
    expect('UPDATE exceptions SET state = 1'.match(write)).not.toBeNull();
  });
});
