import type { SecretStore } from '../ports';
import type { SecretRedactor } from './logger';

// Secrets live only in the OS keychain. When no keychain is reachable we fail with a message that says how to
// fix it; there is deliberately no plaintext fallback.

export const keychainService = 'Returns Workbench';

export class SecretStoreUnavailableError extends Error {
  override name = 'SecretStoreUnavailableError';
}

type Keytar = {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
};

export function unavailableMessage(cause: string): string {
  return (
    `The OS keychain is not available, so credentials cannot be stored (${cause}). ` +
    'On Linux, install and unlock a Secret Service keyring (for example gnome-keyring, then log in again or run ' +
    '"gnome-keyring-daemon --unlock"); on macOS and Windows the system keychain must be unlocked. ' +
    'Sandbox mode works without credentials.'
  );
}

export function createKeytarSecretStore(service = keychainService, load: () => Promise<Keytar> = loadKeytar): SecretStore {
  const call = async <T>(fn: (k: Keytar) => Promise<T>): Promise<T> => {
    let keytar: Keytar;
    try {
      keytar = await load();
    } catch (error) {
      throw new SecretStoreUnavailableError(unavailableMessage(`keytar could not load: ${(error as Error).message}`));
    }
    try {
      return await fn(keytar);
    } catch (error) {
      throw new SecretStoreUnavailableError(unavailableMessage((error as Error).message));
    }
  };
  return {
    get: (account) => call((k) => k.getPassword(service, account)),
    set: (account, secret) => call((k) => k.setPassword(service, account, secret)),
    delete: (account) => call((k) => k.deletePassword(service, account)),
  };
}

async function loadKeytar(): Promise<Keytar> {
  const mod = (await import('keytar')) as unknown as { default?: Keytar } & Keytar;
  return mod.default ?? mod;
}

/**
 * The same store, with every value read from or written to it remembered by `redactor`, so a logger sharing that
 * redactor masks the value wherever it appears (an error text quoting a header, a URL with the key in it).
 */
export function rememberSecrets(store: SecretStore, redactor: SecretRedactor): SecretStore {
  return {
    get: async (account) => {
      const secret = await store.get(account);
      if (secret) redactor.remember(secret);
      return secret;
    },
    set: async (account, secret) => {
      redactor.remember(secret);
      await store.set(account, secret);
    },
    delete: (account) => store.delete(account),
  };
}

export function createMemorySecretStore(): SecretStore {
  const map = new Map<string, string>();
  return {
    get: async (a) => map.get(a) ?? null,
    set: async (a, s) => {
      map.set(a, s);
    },
    delete: async (a) => map.delete(a),
  };
}
