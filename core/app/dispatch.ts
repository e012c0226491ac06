import { commands, isCommand, type Command, type Output, type ParsedInput, type Result } from '../contract';
import { AppError } from '../errors';
import type { Logger } from '../ports';

export type Handlers = { [K in Command]: (input: ParsedInput<K>) => Promise<Output<K>> };
export type Dispatch = (command: string, input: unknown) => Promise<Result<unknown>>;

// The one place where untrusted input meets a handler: both the web host and Electron's IPC go through here.
export function createDispatch(handlers: Handlers, log: Logger): Dispatch {
  return async (command, rawInput) => {
    if (!isCommand(command)) {
      return { ok: false, error: { code: 'NOT_FOUND', message: `There is no command named "${command}".` } };
    }
    const spec = commands[command];
    const parsed = spec.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
      const where = issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
      return { ok: false, error: { code: 'VALIDATION', message: `Invalid input for ${command}: ${where}`, issues } };
    }
    const handler = handlers[command] as (input: unknown) => Promise<unknown>;
    try {
      const output = spec.output.parse(await handler(parsed.data));
      return { ok: true, data: output };
    } catch (error) {
      if (error instanceof AppError) return { ok: false, error: error.toContract() };
      log.error('command failed', { command, error: (error as Error).message, stack: (error as Error).stack });
      return { ok: false, error: { code: 'INTERNAL', message: `${command} failed unexpectedly; the details are in the log.` } };
    }
  };
}
