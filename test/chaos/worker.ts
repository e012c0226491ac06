import { checkSeed } from './check-seed';

// A worker process of the chaos pool: checks the seeds its parent sends, one at a time, and sends each report back.

process.on('message', (message: { seed: number }) => {
  void checkSeed(message.seed).then(
    (report) => process.send?.({ seed: message.seed, report }),
    (error: unknown) => process.send?.({ seed: message.seed, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.send?.({ ready: true });
