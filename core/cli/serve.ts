import { hostname } from 'node:os';
import { resolve, sep } from 'node:path';
import { createFileSecretStore } from '../adapters/file-secrets';
import { pathToFileURL } from 'node:url';
import { createAuditLog } from '../audit/log';
import { startWebHost } from '../host/server';
import { CertificateError, serverCertificate } from '../team/certificate';
import { createTeam } from '../team/team';
import { serverLockDir, startBackups } from '../store/backups';
import { acquireFolderLock, describeBusy, FolderBusyError } from '../store/folder-lock';
import { systemClock } from '../adapters/system';
import { parseFlags, UsageError } from './args';
import { builtRendererDir, defaultDataDir } from './paths';
import { openWorkbench, reportFatal, sandboxFlags, stopOnSignal } from './web';

const usage = `Usage: npm run serve -- [--data-dir DIR] [--port N] [--listen ADDR] [--host NAMES] [--cert FILE --key FILE]
                        [--backup-hours H] [--json] [--seed N] [--speed X] [--warmup S] [--faults NAME]
  Runs Returns Workbench as a team server: the one sync engine of a Mirakl shop, served over HTTPS to the people who
  sign in to it from their browsers (or desktops). On its first start it makes an Integration admin account "admin"
  and prints its temporary password once.
  --data-dir DIR    the server's data folder (default: ${defaultDataDir()})
  --port N          HTTPS port (default 8443; 0: a free one)
  --listen ADDR     the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --host NAMES      comma-separated names people use to reach it (default: this machine's name, localhost, 127.0.0.1);
                    requests naming any other host are refused, and a generated certificate covers exactly these
  --cert, --key     the certificate and private key to serve (PEM); without them a self-signed one is made on the
                    first start, kept in DIR/tls, and its SHA-256 fingerprint printed at every start
  --credentials-file FILE
                    keep the Live secrets in FILE (JSON, mode 0600, outside DIR) instead of the OS keychain: for a
                    headless host with no keychain (also RW_CREDENTIALS_FILE)
  --backup-hours H  online backup of the database every H hours into DIR/backups, the last 14 kept (default 6; 0: off)
  --json            print one JSON line {url, port, fingerprint, dataDir, mode, firstAdmin} instead of the banner
  Sandbox mode (until live connections are set in Settings): --seed, --speed, --warmup, --faults as for npm run web.
  Restore a backup: npm run restore -- --data-dir DIR --from FILE (with the server stopped).`;

export async function startTeamServer(options: {
  dataDir?: string;
  port?: number;
  listen?: string;
  hostNames?: string[];
  certFile?: string;
  keyFile?: string;
  backupHours?: number;
  credentialsFile?: string;
  sandbox?: Parameters<typeof openWorkbench>[0]['sandbox'];
}) {
  const hostNames = options.hostNames ?? [...new Set([hostname().toLowerCase(), 'localhost', '127.0.0.1'])];
  // The certificate first: a wrong --cert or --key is said at once, before the engine starts.
  const certificate = await serverCertificate({
    dataDir: options.dataDir ?? defaultDataDir(),
    hostNames,
    ...(options.certFile ? { certFile: options.certFile } : {}),
    ...(options.keyFile ? { keyFile: options.keyFile } : {}),
  });
  // One team server per data folder, held for its whole run (the engine's own lock comes and goes with Live mode).
  let serverLock;
  try {
    serverLock = await acquireFolderLock(serverLockDir(options.dataDir ?? defaultDataDir()), { command: 'npm run serve' });
  } catch (error) {
    if (error instanceof FolderBusyError) throw new UsageError(`Another team server runs on this data folder: ${describeBusy(error.busy)}`);
    throw error;
  }
  const { workbench, log, dataDir } = await openWorkbench({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    ...(options.credentialsFile ? { secrets: createFileSecretStore(options.credentialsFile) } : {}),
  });
  try {
    const team = createTeam({
      db: workbench.mainDb,
      clock: systemClock,
      log,
      dispatch: workbench.dispatch,
      audit: (entry) => {
        // On the Audit page's log, dated by the core's clock (the sandbox's in Sandbox mode, like every entry beside it);
        // in Sandbox mode that database is fresh at each start, so the folder's own log keeps accounts and proposals too.
        const core = workbench.core;
        createAuditLog(core.store.db, core.clock).append(entry);
        if (core.store.db !== workbench.mainDb) createAuditLog(workbench.mainDb, systemClock).append(entry);
      },
      changed: () => workbench.events.emit('data.changed', { tables: ['team_proposals', 'audit_log'] }),
    });
    const firstAdmin = await team.ensureFirstAdmin();
    const host = await startWebHost({
      dispatch: workbench.dispatch,
      events: workbench.events,
      team,
      tls: { cert: certificate.cert, key: certificate.key },
      listen: options.listen ?? '127.0.0.1',
      hostNames,
      log,
      staticDir: builtRendererDir,
      port: options.port ?? 8443,
    });
    const backups = startBackups({ db: workbench.mainDb, dataDir, everyHours: options.backupHours ?? 6, log, clock: systemClock });
    log.info('team server started', { port: host.port, dataDir, mode: workbench.mode, fingerprint: certificate.fingerprint });
    return {
      ...host,
      dataDir,
      certificate,
      firstAdmin,
      team,
      workbench,
      backups,
      get mode() {
        return workbench.mode;
      },
      stop: async () => {
        backups.stop();
        await host.close();
        await workbench.close();
        await serverLock.release();
      },
    };
  } catch (error) {
    await workbench.close();
    await serverLock.release();
    throw error;
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    {
      port: 'string',
      'data-dir': 'string',
      listen: 'string',
      host: 'string',
      cert: 'string',
      key: 'string',
      'backup-hours': 'string',
      'credentials-file': 'string',
      json: 'boolean',
      seed: 'string',
      speed: 'string',
      warmup: 'string',
      faults: 'string',
    },
    usage,
  );
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`--port must be a whole number from 0 to 65535, not "${flags.port}".`);
  const backupHours = flags['backup-hours'] === undefined ? undefined : Number(flags['backup-hours']);
  if (backupHours !== undefined && !(backupHours >= 0 && backupHours <= 24 * 7)) throw new UsageError(`--backup-hours must be a number of hours from 0 to 168, not "${flags['backup-hours']}".`);
  const hostNames = flags.host?.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (hostNames && (hostNames.length === 0 || hostNames.some((h) => !/^[a-z0-9.:-]+$/.test(h)))) throw new UsageError(`--host must be comma-separated host names or addresses, not "${flags.host}".`);
  const credentialsFile = flags['credentials-file'] ?? process.env.RW_CREDENTIALS_FILE;
  if (credentialsFile && resolve(credentialsFile).startsWith(resolve(flags['data-dir'] ?? defaultDataDir()) + sep)) {
    throw new UsageError(`--credentials-file must be outside the data folder, so backups of it never carry the secrets: ${credentialsFile}`);
  }
  let running;
  try {
    running = await startTeamServer({
      ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(flags.listen ? { listen: flags.listen } : {}),
      ...(hostNames ? { hostNames } : {}),
      ...(flags.cert ? { certFile: flags.cert } : {}),
      ...(flags.key ? { keyFile: flags.key } : {}),
      ...(backupHours !== undefined ? { backupHours } : {}),
      ...(credentialsFile ? { credentialsFile } : {}),
      sandbox: sandboxFlags(flags),
    });
  } catch (error) {
    if (error instanceof CertificateError) throw new UsageError(error.message);
    throw error;
  }
  if (flags.json) {
    const sandbox = running.workbench.sandbox;
    process.stdout.write(
      JSON.stringify({
        url: running.url,
        port: running.port,
        fingerprint: running.certificate.fingerprint,
        dataDir: running.dataDir,
        mode: running.mode,
        firstAdmin: running.firstAdmin,
        sandbox: sandbox ? { mirakl: sandbox.mirakl.baseUrl, rebound: sandbox.rebound.baseUrl } : null,
      }) + '\n',
    );
  } else {
    const admin = running.firstAdmin
      ? `\n  First start: sign in as "${running.firstAdmin.username}" with the temporary password\n\n      ${running.firstAdmin.password}\n\n  (shown this once; you choose your own at the first sign-in), then add your colleagues under Accounts.\n`
      : '';
    process.stdout.write(
      `\nReturns Workbench team server is running.\n\n  Open:         ${running.url}\n  Certificate:  ${running.certificate.source === 'given' ? running.certificate.file : `self-signed, ${running.certificate.file}`}\n` +
        `  SHA-256:      ${running.certificate.fingerprint}\n  Data:         ${running.dataDir}\n  Sync:         ${running.mode === 'sandbox' ? 'Sandbox mode (set live connections in Settings, as an Integration admin)' : 'Live mode'}\n${admin}\n` +
        'People check the SHA-256 fingerprint above against the one their browser shows before signing in. Press Ctrl+C to stop.\n',
    );
  }
  stopOnSignal(running);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(reportFatal);
}
