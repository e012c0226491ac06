// A small, strict flag parser for the CLIs: unknown flags are an error that names the flag, never ignored.
export type FlagSpec = Record<string, 'string' | 'boolean'>;

export function parseFlags<S extends FlagSpec>(argv: string[], spec: S, usage: string) {
  const values: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    const [name, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    const kind = name ? spec[name] : undefined;
    if (!name || !kind) throw new UsageError(`Unknown argument "${arg}".\n${usage}`);
    if (kind === 'boolean') values[name] = true;
    else {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value.\n${usage}`);
      values[name] = value;
    }
  }
  return values as { [K in keyof S]?: S[K] extends 'boolean' ? boolean : string };
}

export class UsageError extends Error {
  override name = 'UsageError';
}
