import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleCommand, shellArgument } from '../contract/shell';

// The printed command survives a real shell: each path below reaches the program as exactly one argument.

const echoArgs = (command: string) =>
  JSON.parse(execFileSync('/bin/sh', ['-c', `${process.execPath} -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- ${command}`], { encoding: 'utf8' })) as string[];

describe('shellArgument', () => {
  it.each([
    '/home/ana/.config/Returns Workbench/reports/2026-09/returns-evidence-2026-09.zip',
    "/home/o'brien/My Reports/returns-evidence-2026-09.zip",
    '/tmp/a $HOME `id` "quoted" \\ back;slash & | > <.zip',
    '/tmp/plain/returns-evidence-2026-09.zip',
  ])('%s reaches /bin/sh as one argument, unchanged', (path) => {
    expect(echoArgs(shellArgument(path))).toEqual([path]);
  });

  it('double-quotes a Windows path with a space, for cmd and PowerShell', () => {
    expect(shellArgument('C:\\Users\\Ana\\AppData\\Roaming\\Returns Workbench\\reports\\x.zip')).toBe('"C:\\Users\\Ana\\AppData\\Roaming\\Returns Workbench\\reports\\x.zip"');
  });

  it('the bundle command runs with a path holding a space: the file named is the one that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw shell quote '));
    try {
      const file = join(dir, 'returns-evidence-2026-09.zip');
      writeFileSync(file, 'x');
      const command = bundleCommand(file);
      expect(command).toBe(`npm run web -- --bundle '${file}'`);
      const args = echoArgs(command.replace(/^npm run web -- /, ''));
      expect(args).toEqual(['--bundle', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
