import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchHttp } from '../../net/http';
import { defaultScenario } from '../scenario';
import { ipcHttp, type IpcChannel } from './ipc';

// The standalone sandbox (npm run sandbox) started by a parent process: it stands still on a stepped clock, moves
// when told over /_sim/clock, and answers down the IPC channel exactly what it answers over loopback HTTP.
const cli = fileURLToPath(new URL('../../cli/sandbox.ts', import.meta.url));

interface Ready {
  type: 'sandbox.ready';
  mirakl: { baseUrl: string; apiKey: string };
  rebound: { baseUrl: string };
}

describe('sandbox in its own process', () => {
  let child: ChildProcess | null = null;
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.disconnect();
      await exited;
    }
    child = null;
  });

  it('serves over IPC what it serves over HTTP, on a clock its parent moves', async () => {
    child = fork(cli, ['--seed', '4', '--clock', 'stepped', '--scenario', '{"ordersPerDay":30,"historyDays":3}'], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      child?.on('message', (m) => (m as Ready).type === 'sandbox.ready' && resolve(m as Ready));
      child?.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}`)));
    });
    const http = ipcHttp(child as IpcChannel);
    try {
      const clockUrl = `${ready.mirakl.baseUrl}/_sim/clock`;
      const moved = await http({ method: 'POST', url: clockUrl, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 3_600_000 }) });
      expect(moved.status).toBe(200);
      expect(JSON.parse(moved.body)).toMatchObject({ now: defaultScenario.startMs + 3_600_000, isStepped: true });
      expect(JSON.parse((await fetchHttp({ method: 'GET', url: clockUrl })).body)).toMatchObject({ now: defaultScenario.startMs + 3_600_000 });

      const read = { method: 'GET', url: `${ready.mirakl.baseUrl}/api/returns?limit=3`, headers: { authorization: ready.mirakl.apiKey } };
      const overIpc = await http(read);
      expect(overIpc.status).toBe(200);
      // RT11 allows one first page per 5 minutes: the second read is refused by the same budget, whatever the road.
      const overHttp = await fetchHttp(read);
      expect(overHttp.status).toBe(429);
      await expect(http({ method: 'GET', url: 'http://127.0.0.1:9/nowhere' })).rejects.toMatchObject({ name: 'NetworkError', maybeSent: false });
    } finally {
      http.close();
    }
  }, 30_000);
});
