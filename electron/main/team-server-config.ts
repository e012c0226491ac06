import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { sha256FingerprintSchema, teamServerUrlProblem } from '../../core/contract';

// Which way the desktop starts: alone (its own core, database and sync) or as the client of a team server, whose
// address and pinned certificate are kept in team-server.json in the desktop's data folder. The file is untrusted
// input (a person may edit it by hand): a broken one is reported, naming what is wrong, and never taken to mean
// "alone" — that would quietly start a second engine beside the team's.

export const teamServerConfigName = 'team-server.json';

const configSchema = z
  .object({
    origin: z.string().superRefine((value, ctx) => {
      const problem = teamServerUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      else if (new URL(value).origin !== value) ctx.addIssue({ code: 'custom', message: `write the origin exactly as ${new URL(value).origin}` });
    }),
    fingerprint: sha256FingerprintSchema,
    connectedAt: z.iso.datetime({ message: 'expected an ISO date-time, e.g. 2026-12-06T16:00:00.000Z' }),
  })
  .strict();
export type TeamServerConfig = z.infer<typeof configSchema>;

export type StartupPlan =
  | { mode: 'standalone' }
  | { mode: 'client'; server: TeamServerConfig }
  | { mode: 'broken'; file: string; problem: string };

/** The config's text as a team server to connect to, or what is wrong with it (naming the field). */
export function parseTeamServerConfig(text: string): { ok: true; config: TeamServerConfig } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `it is not JSON (${(error as Error).message})` };
  }
  const parsed = configSchema.safeParse(value);
  if (parsed.success) return { ok: true, config: parsed.data };
  const where = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(the file)'}: ${i.message}`).join('; ');
  return { ok: false, problem: where };
}

/** The start-up decision: no file is the standalone desktop; a readable file, its server; anything else, broken. */
export function startupPlan(dataDir: string): StartupPlan {
  const file = join(dataDir, teamServerConfigName);
  if (!existsSync(file)) return { mode: 'standalone' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { mode: 'broken', file, problem: `it cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  const parsed = parseTeamServerConfig(text);
  return parsed.ok ? { mode: 'client', server: parsed.config } : { mode: 'broken', file, problem: parsed.problem };
}

/** Writes the config whole or not at all (a crash mid-write must not leave a half file that reads as broken). */
export function writeTeamServerConfig(dataDir: string, config: TeamServerConfig): string {
  const checked = configSchema.parse(config);
  const file = join(dataDir, teamServerConfigName);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
  return file;
}

/** Back to the standalone desktop: the config goes. */
export function removeTeamServerConfig(dataDir: string): void {
  rmSync(join(dataDir, teamServerConfigName), { force: true });
}

/** A broken config is moved aside, not deleted (STYLE §8: never destroy what a person may need to see); answers where. */
export function setBrokenConfigAside(file: string, now: Date): string {
  const aside = `${file}.broken-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, aside);
  return aside;
}
