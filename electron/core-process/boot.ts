import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKeytarSecretStore, rememberSecrets } from '../../core/adapters/keytar-secrets';
import { createLogger, createSecretRedactor, fileSink } from '../../core/adapters/logger';
import { osPersonName } from '../../core/adapters/person-name';
import { systemClock, systemIds, systemRandom } from '../../core/adapters/system';
import { startWorkbench, type WorkbenchOptions, type Workbench } from '../../core/app/workbench';
import { MappingError } from '../../core/mappings/load';
import { openBundleViewer } from '../../core/app/bundle-host';
import type { Logger, SecretStore } from '../../core/ports';
import { StoreOpenError } from '../../core/store/db';
import { MigrationError } from '../../core/store/migrate';
import { unsafeIntentKinds } from '../../core/sync/engine';
import { createIntents } from '../../core/ledger/intents';
import type { BootError, HostedCore } from './host';
import type { CoreBootConfig, ShutdownReport } from './protocol';

// The core as the desktop app hosts it: the workbench (core + sync service, Sandbox or live mode) with secrets in
// the OS keychain and a log that masks every secret the keychain handed out.
//
// Quitting must never leave an intent `sending` without a trace (DESIGN.md rule 6). The sync service is asked to
// stop and the cycle in flight gets `drainMs` to finish; if a call is still out after that, the intents left
// `sending` are recorded exactly as after a crash (intents.recoverOrphans): unsafe writes become `uncertain`, to
// be probed at the next start before anything is sent again; calls safe to repeat are rescheduled.

export interface HostedCoreDeps {
  secrets?: SecretStore;
  log?: Logger;
  /** Extra workbench options (tests pass a fake network, sandbox settings, a faster idle time). */
  workbench?: Partial<WorkbenchOptions>;
}

export async function bootHostedCore(config: CoreBootConfig, deps: HostedCoreDeps = {}): Promise<HostedCore & { workbench: Workbench }> {
  const redactor = createSecretRedactor();
  mkdirSync(join(config.dataDir, 'logs'), { recursive: true });
  const log = deps.log ?? createLogger({ clock: systemClock, sink: fileSink(join(config.dataDir, 'logs', 'workbench.log')), redactor });
  const secrets = rememberSecrets(deps.secrets ?? createKeytarSecretStore(), redactor);
  const workbench = await startWorkbench({
    dataDir: config.dataDir,
    ...(config.engineStateDir ? { engineStateDir: config.engineStateDir } : {}),
    migrationsDir: config.migrationsDir,
    mappingsDir: config.mappingsDir,
    clock: systemClock,
    random: systemRandom,
    ids: systemIds,
    log,
    secrets,
    redactor,
    actor: osPersonName(),
    appVersion: config.appVersion,
    ...(config.nativeBinding ? { nativeBinding: config.nativeBinding } : {}),
    ...(config.sandboxSpeed ? { sandbox: { speed: config.sandboxSpeed } } : {}),
    ...deps.workbench,
  });
  log.info('core process started', { mode: workbench.mode, pid: process.pid });

  return {
    workbench,
    get mode() {
      return workbench.mode;
    },
    dispatch: workbench.dispatch,
    onEvent: (listener) => workbench.events.onAny(listener),
    shutdown: (drainMs) => shutdownWorkbench(workbench, drainMs, log),
  };
}

/**
 * The core of a window that shows an evidence bundle (File › Open Evidence Bundle…): the bundle's snapshot served
 * read-only, exactly as `npm run web -- --bundle` serves it. No keychain, no network, no sync; every change refused.
 */
export function bootBundleViewer(config: CoreBootConfig & { bundleFile: string }, deps: { log?: Logger } = {}): HostedCore {
  mkdirSync(join(config.dataDir, 'logs'), { recursive: true });
  const log = deps.log ?? createLogger({ clock: systemClock, sink: fileSink(join(config.dataDir, 'logs', 'workbench.log')) });
  const viewer = openBundleViewer(config.bundleFile, {
    clock: systemClock,
    log,
    appVersion: config.appVersion,
    migrationsDir: config.migrationsDir,
    mappingsDir: config.mappingsDir,
    ...(config.nativeBinding ? { nativeBinding: config.nativeBinding } : {}),
  });
  log.info('core process showing an evidence bundle', { file: config.bundleFile, verified: viewer.opened.verified, pid: process.pid });
  return {
    mode: viewer.mode,
    dispatch: viewer.dispatch,
    onEvent: () => () => undefined,
    shutdown: async () => {
      viewer.close();
      return { isDrained: true, interrupted: 0 };
    },
  };
}

/** Boots what the config asks for: the app's own data, or an evidence bundle. */
export async function bootCore(config: CoreBootConfig): Promise<HostedCore> {
  const { bundleFile } = config;
  return bundleFile ? bootBundleViewer({ ...config, bundleFile }) : bootHostedCore(config);
}

const settlesWithin = (work: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });

export async function shutdownWorkbench(workbench: Workbench, drainMs: number, log: Logger): Promise<ShutdownReport> {
  const core = workbench.core;
  const isDrained = await settlesWithin(workbench.sync?.stop() ?? Promise.resolve(), drainMs);
  // After a drained stop nothing should be `sending`; the same recording runs anyway, so a bug cannot hide one.
  const interrupted = createIntents(core.store.db, core.clock).recoverOrphans(unsafeIntentKinds);
  if (interrupted > 0) {
    log.warn('quit while calls were in flight; recorded as interrupted, to be probed at the next start', { interrupted, drainMs });
  }
  if (isDrained) {
    // Stops the sandbox's servers and closes the databases.
    await settlesWithin(workbench.close(), 5_000);
  } else {
    // The cycle still runs: with its database closed, no further intent can be marked `sending`, so no further call
    // can go out (an intent must be committed as `sending` before its call). The process exits right after; the data
    // folder is freed now, so the next engine need not wait for its lock to go stale.
    try {
      await workbench.abandon();
    } catch (error) {
      log.warn('closing the database after an interrupted stop failed', { error: (error as Error).message });
    }
  }
  log.info('core process stopped', { isDrained, interrupted });
  return { isDrained, interrupted };
}

/** A damaged database or a bad mapping file needs a person: restarting the process would fail the same way. */
export function describeBootError(error: unknown): BootError {
  const message = error instanceof Error ? error.message : String(error);
  const isPermanent = error instanceof StoreOpenError || error instanceof MappingError || error instanceof MigrationError;
  return { message, isPermanent };
}
