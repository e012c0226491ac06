import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { SecretStore } from '../ports';
import { SecretStoreUnavailableError } from './keytar-secrets';

// For a team server on a headless host, where no OS keychain runs: the Live credentials in one file the server's
// own account alone may read (mode 0600), named by --credentials-file or RW_CREDENTIALS_FILE, and kept outside the
// data folder so backups never carry them. A JSON object of secrets by account name:
//   { "mirakl.apiKey": "...", "rebound.clientSecret": "..." }
// An admin may write the file by hand, or save the secrets in Settings (they are written back to it, 0600).
// It is refused, with the reason, when anyone else could read it or it is not such an object.

export function createFileSecretStore(file: string): SecretStore {
  const read = (): Record<string, string> => {
    if (!existsSync(file)) return {};
    const mode = statSync(file).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new SecretStoreUnavailableError(
        `The credentials file ${file} can be read by other accounts (mode ${mode.toString(8).padStart(3, '0')}): run "chmod 600 ${file}" and try again.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new SecretStoreUnavailableError(`The credentials file ${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SecretStoreUnavailableError(`The credentials file ${file} must hold one JSON object of secrets by name, e.g. {"mirakl.apiKey": "…"}.`);
    }
    const entries = Object.entries(parsed as Record<string, unknown>);
    const wrong = entries.find(([, value]) => typeof value !== 'string');
    if (wrong) throw new SecretStoreUnavailableError(`The credentials file ${file}: "${wrong[0]}" must be a string.`);
    return Object.fromEntries(entries) as Record<string, string>;
  };
  const write = (secrets: Record<string, string>): void => {
    const staging = `${file}.saving`;
    writeFileSync(staging, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
    chmodSync(staging, 0o600);
    renameSync(staging, file);
  };
  return {
    get: async (account) => read()[account] ?? null,
    set: async (account, secret) => write({ ...read(), [account]: secret }),
    delete: async (account) => {
      const secrets = read();
      if (!(account in secrets)) return false;
      delete secrets[account];
      write(secrets);
      return true;
    },
  };
}
