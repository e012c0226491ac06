import { utilityProcess } from 'electron';
import { engineV8Flags } from '../../core/app/engine-process';
import type { ChildHandle } from './supervisor';

// The supervisor's child in the app: an Electron utility process (a Node process started by Chromium's service
// manager), so the database, sync and keychain work never run on main's thread or in the renderer.

export function utilityLauncher(modulePath: string, env: NodeJS.ProcessEnv): () => ChildHandle {
  return () => {
    const child = utilityProcess.fork(modulePath, [], { serviceName: 'Returns Workbench core', stdio: 'inherit', env, execArgv: [...engineV8Flags] });
    return {
      postMessage: (message) => child.postMessage(message),
      onMessage: (listener) => void child.on('message', listener),
      onExit: (listener) => void child.on('exit', (code) => listener(code)),
      kill: () => void child.kill(),
      get pid() {
        return child.pid;
      },
    };
  };
}
