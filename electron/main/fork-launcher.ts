import { fork } from 'node:child_process';
import type { ChildHandle } from './supervisor';

// The supervisor's child as a plain Node process (child_process.fork). The tests drive the real core process with
// it; the app uses Electron's utilityProcess (utility-launcher.ts) through the same ChildHandle interface.

export function forkLauncher(modulePath: string, options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): () => ChildHandle {
  return () => {
    const child = fork(modulePath, [], {
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return {
      postMessage: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (listener) => void child.on('message', listener),
      onExit: (listener) => void child.on('exit', (code) => listener(code)),
      kill: () => void child.kill('SIGKILL'),
      pid: child.pid,
    };
  };
}
