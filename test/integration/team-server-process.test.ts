import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli-process';
import { rawRequest } from '../support/http';
import { makeTempDir } from '../support/temp-dir';

// The team server as its admin runs it: `core/cli/serve.ts` in a process of its own, stopped with SIGTERM and started
// again on the same folder. The certificate, the accounts and the sessions people hold survive the restart; the
// first-start admin password is printed once; a restore is refused while the server runs.

interface Started {
  child: ChildProcess;
  info: { url: string; port: number; fingerprint: string; firstAdmin: { username: string; password: string } | null };
}

const children: ChildProcess[] = [];
let temp: ReturnType<typeof makeTempDir> | null = null;

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  temp?.remove();
  temp = null;
});

function serve(dataDir: string, port = 0): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'core/cli/serve.ts', '--data-dir', dataDir, '--port', String(port), '--json', '--backup-hours', '0', '--warmup', '0', '--faults', 'none'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed nothing in 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as Started['info'] });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('npm run serve, as a process', () => {
  it('keeps its certificate, accounts and sessions across a restart, prints the first admin password once, and refuses a restore while running', { timeout: 180_000 }, async () => {
    temp = makeTempDir('rw-serve-');
    const dataDir = join(temp.dir, 'data');
    const first = await serve(dataDir);
    expect(first.info.firstAdmin).toMatchObject({ username: 'admin', password: expect.stringMatching(/^\S{20}$/) });
    expect(first.info.url).toMatch(/^https:\/\//);
    const { port } = first.info;
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await rawRequest(port, {
        method: 'POST',
        path,
        headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        ca: (await import('node:fs')).readFileSync(join(dataDir, 'tls', 'server.crt'), 'utf8'),
      });
      return { status: res.status, body: JSON.parse(res.body) as { ok: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } } };
    };
    const signedIn = await post('/auth/sign-in', { username: 'admin', password: first.info.firstAdmin!.password });
    const token = signedIn.body.data!.token as string;
    expect((await post('/api/team.changePassword', { current: first.info.firstAdmin!.password, next: 'the admin chose this one' }, token)).status).toBe(200);

    const backup = join(temp.dir, 'backup.sqlite');
    copyFileSync(join(dataDir, 'workbench.sqlite'), backup);
    const restore = spawnSync(process.execPath, ['--import', 'tsx', 'core/cli/restore.ts', '--data-dir', dataDir, '--from', backup], { cwd: repoRoot, encoding: 'utf8' });
    expect(restore.status).toBe(2);
    expect(restore.stderr).toMatch(/Stop the server first/);

    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    const second = await serve(dataDir, port);
    expect(second.info.firstAdmin).toBeNull();
    expect(second.info.fingerprint).toBe(first.info.fingerprint);
    expect(await post('/api/team.me', {}, token)).toMatchObject({ status: 200, body: { ok: true, data: { username: 'admin', mustChangePassword: false } } });
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });
});
