import { SecretStoreUnavailableError } from '../adapters/keytar-secrets';
import type { AuditLog } from '../audit/log';
import type { Mode, SettingsView } from '../contract';
import { AppError } from '../errors';
import type { HttpPort } from '../net/http';
import type { Clock, Logger, SecretStore } from '../ports';
import type { SettingsRepo } from '../store/settings-repo';
import { testMirakl, testRebound, type ConnectionTestResult } from './connection-test';
import { liveSettingKeys, readConnectionSettings, secretAccounts } from './mode';
import { personNameKey } from './person';

// Connections and credentials. Addresses and ids go to the settings table; secrets go only to the SecretStore (the
// OS keychain) and are never read back out through here: the view says only whether each is set. Without a
// keychain a secret is refused with KEYCHAIN_UNAVAILABLE and the message that says how to get one; there is no
// plaintext fallback.

export interface SaveConnections {
  mirakl: { baseUrl: string; shopId?: number | undefined };
  rebound: { baseUrl: string; clientId: string; flowKey?: string | undefined };
  secrets?: { miraklApiKey?: string | undefined; reboundClientSecret?: string | undefined } | undefined;
}

export interface TestConnection {
  system: 'mirakl' | 'rebound';
  baseUrl?: string | undefined;
  shopId?: number | undefined;
  apiKey?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
}

export interface Reconfigured {
  mode: Mode;
  restarted: boolean;
  message: string;
}

export interface SettingsServicePorts {
  settings: SettingsRepo;
  /** The audit log of the database the settings live in (the main one, also in Sandbox mode). */
  audit: AuditLog;
  /** Who acts (read at each action: the name set here can change between two). */
  actor: () => string;
  /** The operating system's name for the person: the actor until they set one. */
  osName: string;
  secrets: SecretStore;
  http: HttpPort;
  clock: Clock;
  log: Logger;
  mode: () => Mode;
  /** Puts saved connections into effect: restarts the sync service in the mode they give. */
  reconfigure: () => Promise<Reconfigured>;
}

const keychainError = (error: unknown) =>
  error instanceof SecretStoreUnavailableError ? new AppError('KEYCHAIN_UNAVAILABLE', error.message) : error;

/** Strips a trailing slash so the same address is stored once however it was typed. */
const normalise = (url: string) => url.trim().replace(/\/+$/, '');

export function createSettingsService(ports: SettingsServicePorts) {
  const { settings, secrets } = ports;

  async function secretState(): Promise<{ miraklApiKey: boolean; reboundClientSecret: boolean; available: boolean; message: string | null }> {
    try {
      const [key, secret] = await Promise.all([secrets.get(secretAccounts.miraklApiKey), secrets.get(secretAccounts.reboundClientSecret)]);
      return { miraklApiKey: Boolean(key), reboundClientSecret: Boolean(secret), available: true, message: null };
    } catch (error) {
      if (!(error instanceof SecretStoreUnavailableError)) throw error;
      return { miraklApiKey: false, reboundClientSecret: false, available: false, message: error.message };
    }
  }

  async function view(): Promise<SettingsView> {
    const s = await secretState();
    const name = settings.get(personNameKey);
    return {
      mode: ports.mode(),
      person: { name: name ?? ports.osName, osName: ports.osName, isSet: name !== null },
      connections: readConnectionSettings(settings),
      secrets: { miraklApiKey: s.miraklApiKey, reboundClientSecret: s.reboundClientSecret },
      keychain: { available: s.available, message: s.message },
    };
  }

  /**
   * The secret to test with: the typed one, or the stored one only when the address is the stored address. A stored
   * secret never goes anywhere else: whoever typed another address must type the secret too.
   */
  async function secretFor(account: string, typed: string | undefined, baseUrl: string, storedBaseUrl: string | null): Promise<string | null> {
    if (typed) return typed;
    if (storedBaseUrl === null || !sameAddress(baseUrl, storedBaseUrl)) return null;
    try {
      return await secrets.get(account);
    } catch (error) {
      throw keychainError(error);
    }
  }

  return {
    view,

    async saveConnections(input: SaveConnections) {
      // Secrets first: if the keychain refuses one, nothing is saved and the person sees why.
      try {
        if (input.secrets?.miraklApiKey) await secrets.set(secretAccounts.miraklApiKey, input.secrets.miraklApiKey);
        if (input.secrets?.reboundClientSecret) await secrets.set(secretAccounts.reboundClientSecret, input.secrets.reboundClientSecret);
      } catch (error) {
        throw keychainError(error);
      }
      const before = readConnectionSettings(settings);
      settings.transaction(() => {
        settings.set(liveSettingKeys.miraklBaseUrl, normalise(input.mirakl.baseUrl));
        settings.setOrClear(liveSettingKeys.miraklShopId, input.mirakl.shopId === undefined ? null : String(input.mirakl.shopId));
        settings.set(liveSettingKeys.reboundBaseUrl, normalise(input.rebound.baseUrl));
        settings.set(liveSettingKeys.reboundClientId, input.rebound.clientId);
        settings.setOrClear(liveSettingKeys.reboundFlowKey, input.rebound.flowKey ? input.rebound.flowKey : null);
        // Who pointed the app where, and when; for a secret only that it was replaced, never its value.
        ports.audit.append({
          actor: ports.actor(),
          action: 'settings.saveConnections',
          subject: 'settings:connections',
          before,
          after: {
            ...readConnectionSettings(settings),
            secretsReplaced: Object.entries(input.secrets ?? {})
              .filter(([, value]) => Boolean(value))
              .map(([name]) => name),
          },
        });
      });
      ports.log.info('connections saved', { mirakl: normalise(input.mirakl.baseUrl), rebound: normalise(input.rebound.baseUrl) });
      const outcome = await ports.reconfigure();
      return { settings: await view(), ...outcome };
    },

    /**
     * Sets the name the person's actions are recorded under from now on (empty: the operating system's again).
     * Audited under the name before the change, so the log says who renamed whom.
     */
    async setName(input: { name: string }) {
      const before = settings.get(personNameKey);
      const next = input.name.trim() === '' || input.name.trim() === ports.osName ? null : input.name.trim();
      if (next === before) return view();
      settings.transaction(() => {
        ports.audit.append({
          actor: ports.actor(),
          action: 'settings.setName',
          subject: 'settings:person',
          before: { name: before ?? ports.osName, isSet: before !== null },
          after: { name: next ?? ports.osName, isSet: next !== null },
        });
        settings.setOrClear(personNameKey, next);
      });
      return view();
    },

    async testConnection(input: TestConnection): Promise<ConnectionTestResult> {
      const stored = readConnectionSettings(settings);
      if (input.system === 'mirakl') {
        const baseUrl = input.baseUrl ?? stored.mirakl.baseUrl;
        if (!baseUrl) return { ok: false, message: 'Enter the Mirakl address (such as https://yourmarketplace.mirakl.net) first.' };
        const apiKey = await secretFor(secretAccounts.miraklApiKey, input.apiKey, baseUrl, stored.mirakl.baseUrl);
        if (!apiKey) return { ok: false, message: missingSecret('API key', baseUrl, stored.mirakl.baseUrl) };
        return testMirakl({ baseUrl: normalise(baseUrl), apiKey, shopId: input.shopId ?? stored.mirakl.shopId, http: ports.http, clock: ports.clock });
      }
      const baseUrl = input.baseUrl ?? stored.rebound.baseUrl;
      const clientId = input.clientId ?? stored.rebound.clientId;
      if (!baseUrl) return { ok: false, message: 'Enter the ReBound address first.' };
      if (!clientId) return { ok: false, message: 'Enter the ReBound client id first.' };
      const clientSecret = await secretFor(secretAccounts.reboundClientSecret, input.clientSecret, baseUrl, stored.rebound.baseUrl);
      if (!clientSecret) return { ok: false, message: missingSecret('client secret', baseUrl, stored.rebound.baseUrl) };
      return testRebound({ baseUrl: normalise(baseUrl), clientId, clientSecret, http: ports.http, clock: ports.clock });
    },
  };
}

/** The same address once normalised: scheme, host, port and path all equal. */
function sameAddress(a: string, b: string): boolean {
  try {
    const x = new URL(normalise(a));
    const y = new URL(normalise(b));
    return x.protocol === y.protocol && x.host === y.host && normalise(x.pathname) === normalise(y.pathname);
  } catch {
    return false;
  }
}

function missingSecret(what: string, baseUrl: string, storedBaseUrl: string | null): string {
  if (storedBaseUrl && !sameAddress(baseUrl, storedBaseUrl)) {
    return `Type the ${what} to test ${normalise(baseUrl)}: the stored one is sent only to the saved address (${storedBaseUrl}).`;
  }
  return `Type the ${what}: none is stored in the keychain.`;
}

export type SettingsService = ReturnType<typeof createSettingsService>;
