import { z } from 'zod';

const empty = z.object({}).strict();

export const modeSchema = z.enum(['sandbox', 'live']);
export type Mode = z.infer<typeof modeSchema>;

export const feedStatusSchema = z.object({
  feed: z.string(),
  label: z.string(),
  cadenceSeconds: z.number().int().nonnegative(),
  isPaused: z.boolean(),
  lastRunAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  lastError: z.string().nullable(),
  nextRunAt: z.string().nullable(),
});
export type FeedStatus = z.infer<typeof feedStatusSchema>;

// Every command is `domain.verb` with a zod input and output. Electron IPC and the web host serve exactly this map.
export const commands = {
  'app.info': {
    input: empty,
    output: z.object({
      name: z.string(),
      version: z.string(),
      dataDir: z.string(),
      databaseFile: z.string(),
      mode: modeSchema,
      schemaVersion: z.number().int().nonnegative(),
      startedAt: z.string(),
    }),
  },
  'sync.status': {
    input: empty,
    output: z.object({
      state: z.enum(['idle', 'running', 'paused', 'stopped']),
      feeds: z.array(feedStatusSchema),
    }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export type Commands = typeof commands;
export type Command = keyof Commands;
export type Input<K extends Command> = z.input<Commands[K]['input']>;
export type Output<K extends Command> = z.output<Commands[K]['output']>;

export function isCommand(name: string): name is Command {
  return Object.prototype.hasOwnProperty.call(commands, name);
}
