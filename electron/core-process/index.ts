import { bootCore, describeBootError } from './boot';
import { serveCore, type ParentLink } from './host';
import type { FromCore } from './protocol';

// Entry of the core's process: an Electron utilityProcess in the app (messages through process.parentPort), or a
// child_process.fork in the tests (process.send). Everything else is shared.

interface ElectronParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function parentLink(): ParentLink {
  const port = (process as unknown as { parentPort?: ElectronParentPort | null }).parentPort;
  if (port) {
    return {
      post: (message: FromCore) => port.postMessage(message),
      onMessage: (listener) => port.on('message', (event) => listener(event.data)),
    };
  }
  if (!process.send) throw new Error('The core process must be started by the desktop app (no parent to talk to).');
  // Main went away without a word (it crashed or was killed): nothing can reach this process any more.
  process.on('disconnect', () => process.exit(0));
  return {
    post: (message: FromCore) => void process.send?.(message),
    onMessage: (listener) => void process.on('message', listener),
  };
}

// The last message must reach main before the process goes.
const exitSoon = (code: number) => void setTimeout(() => process.exit(code), 100);

process.on('uncaughtException', (error) => {
  process.stderr.write(`Returns Workbench core process: ${error.stack ?? error.message}\n`);
  process.exit(1);
});

serveCore({ link: parentLink(), boot: bootCore, describeBootError, exit: exitSoon });
