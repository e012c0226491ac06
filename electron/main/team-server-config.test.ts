import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { parseTeamServerConfig, removeTeamServerConfig, setBrokenConfigAside, startupPlan, teamServerConfigName, writeTeamServerConfig } from './team-server-config';

// How the desktop starts: alone, or as a team server's client. team-server.json may be edited by hand, so it is read
// as untrusted input: a broken file is named with what is wrong in it, and never read as "alone".

const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const good = { origin: 'https://workbench.example:8443', fingerprint, connectedAt: '2026-12-06T16:00:00.000Z' };

describe('team server config and the start-up decision', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir('rw-team-config-');
  });
  afterEach(() => temp.remove());
  const write = (text: string) => writeFileSync(join(temp.dir, teamServerConfigName), text);

  it('starts alone without the file, and as the client of the server the file names', () => {
    expect(startupPlan(temp.dir)).toEqual({ mode: 'standalone' });
    write(JSON.stringify({ ...good, fingerprint: fingerprint.toLowerCase() }));
    expect(startupPlan(temp.dir)).toEqual({ mode: 'client', server: good });
  });

  it('names what is wrong in a broken file, and does not start alone because of it', () => {
    const cases: [string, string][] = [
      ['', 'it is not JSON'],
      ['{"origin": "https://workbench.example:8443",', 'it is not JSON'],
      ['[]', '(the file): Invalid input: expected object, received array'],
      [JSON.stringify({ ...good, origin: 'http://workbench.example:8443' }), 'origin: The address must start with https://'],
      [JSON.stringify({ ...good, origin: 'https://workbench.example:8443/app' }), 'origin: Give the server’s address only, without the path “/app”'],
      [JSON.stringify({ ...good, origin: 'https://WORKBENCH.example:8443' }), 'origin: write the origin exactly as https://workbench.example:8443'],
      [JSON.stringify({ ...good, origin: 'https://u:p@workbench.example:8443' }), 'origin: The address must not contain a user name or password'],
      [JSON.stringify({ ...good, fingerprint: 'sha256/abc=' }), 'fingerprint: a SHA-256 fingerprint: 32 hex pairs separated by colons'],
      [JSON.stringify({ ...good, fingerprint: fingerprint.slice(3) }), 'fingerprint: a SHA-256 fingerprint'],
      [JSON.stringify({ ...good, connectedAt: 'yesterday' }), 'connectedAt: expected an ISO date-time'],
      [JSON.stringify({ origin: good.origin }), 'fingerprint: Invalid input: expected string, received undefined; connectedAt:'],
      [JSON.stringify({ ...good, preload: '/tmp/evil.cjs' }), '(the file): Unrecognized key: "preload"'],
    ];
    for (const [text, problem] of cases) {
      write(text);
      const plan = startupPlan(temp.dir);
      expect(plan.mode, text).toBe('broken');
      expect(plan.mode === 'broken' && plan.problem, text).toContain(problem);
      expect(plan.mode === 'broken' && plan.file).toBe(join(temp.dir, teamServerConfigName));
    }
    mkdirSync(join(temp.dir, 'x'));
    expect(startupPlan(join(temp.dir, 'x'))).toEqual({ mode: 'standalone' });
    mkdirSync(join(temp.dir, 'x', teamServerConfigName));
    expect(startupPlan(join(temp.dir, 'x'))).toMatchObject({ mode: 'broken', problem: 'it cannot be read (EISDIR)' });
  });

  it('parses what it writes, writes it whole and readable by its owner only, and removes it to work alone', () => {
    const file = writeTeamServerConfig(temp.dir, good);
    expect(parseTeamServerConfig(readFileSync(file, 'utf8'))).toEqual({ ok: true, config: good });
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(readdirSync(temp.dir)).toEqual([teamServerConfigName]);
    expect(() => writeTeamServerConfig(temp.dir, { ...good, origin: 'http://x' })).toThrow(/https/);
    removeTeamServerConfig(temp.dir);
    expect(startupPlan(temp.dir)).toEqual({ mode: 'standalone' });
    removeTeamServerConfig(temp.dir); // already alone: nothing to do
  });

  it('moves a broken file aside instead of deleting it', () => {
    write('{ not json');
    const aside = setBrokenConfigAside(join(temp.dir, teamServerConfigName), new Date('2026-12-06T16:05:00.123Z'));
    expect(aside).toBe(join(temp.dir, `${teamServerConfigName}.broken-2026-12-06T16-05-00-123Z`));
    expect(readFileSync(aside, 'utf8')).toBe('{ not json');
    expect(existsSync(join(temp.dir, teamServerConfigName))).toBe(false);
    expect(startupPlan(temp.dir)).toEqual({ mode: 'standalone' });
  });
});
