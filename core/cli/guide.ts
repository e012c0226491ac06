import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderOperationsGuide } from '../exceptions/guide';
import { loadMappings } from '../mappings/load';
import { parseFlags, UsageError } from './args';
import { repoRoot } from './paths';

export const guidePath = join(repoRoot, 'core', 'exceptions', 'OPERATIONS-GUIDE.md');

const usage = `Usage: npx tsx core/cli/guide.ts [--out FILE] [--check]
  Renders the operations guide from the exception catalogue (core/exceptions/catalogue.ts) and the shipped policy
  (mappings/policy.yaml) into ${relative(repoRoot, guidePath)}, or into --out FILE.
  --check writes nothing: it exits 1 if the file differs from a fresh render.`;

function main(): number {
  const flags = parseFlags(process.argv.slice(2), { out: 'string', check: 'boolean' }, usage);
  const out = flags.out ?? guidePath;
  const guide = renderOperationsGuide(loadMappings().policy);
  if (flags.check) {
    if (existsSync(out) && readFileSync(out, 'utf8') === guide) {
      process.stdout.write(`${out} is up to date.\n`);
      return 0;
    }
    process.stderr.write(`${out} is out of date with the exception catalogue or the policy: run npx tsx core/cli/guide.ts${flags.out ? ` --out ${flags.out}` : ''}\n`);
    return 1;
  }
  writeFileSync(out, guide);
  process.stdout.write(`Wrote ${out}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
