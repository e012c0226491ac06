import type { Mode } from '../contract';
import type { Logger, SecretStore } from '../ports';
import type { SettingsRepo } from '../store/settings-repo';

export const liveSettingKeys = {
  miraklBaseUrl: 'connections.mirakl.baseUrl',
  miraklShopId: 'connections.mirakl.shopId',
  reboundBaseUrl: 'connections.rebound.baseUrl',
  reboundClientId: 'connections.rebound.clientId',
  reboundFlowKey: 'connections.rebound.flowKey',
} as const;
export const secretAccounts = { miraklApiKey: 'mirakl.apiKey', reboundClientSecret: 'rebound.clientSecret' } as const;

export interface ConnectionSettings {
  mirakl: { baseUrl: string | null; shopId: number | null };
  rebound: { baseUrl: string | null; clientId: string | null; flowKey: string | null };
}

export function readConnectionSettings(settings: SettingsRepo): ConnectionSettings {
  const shopId = settings.get(liveSettingKeys.miraklShopId);
  return {
    mirakl: { baseUrl: settings.get(liveSettingKeys.miraklBaseUrl), shopId: shopId === null ? null : Number(shopId) },
    rebound: {
      baseUrl: settings.get(liveSettingKeys.reboundBaseUrl),
      clientId: settings.get(liveSettingKeys.reboundClientId),
      flowKey: settings.get(liveSettingKeys.reboundFlowKey),
    },
  };
}

// Sandbox mode is the default: live mode needs both connections configured and both secrets in the keychain.
export async function resolveMode(settings: SettingsRepo, secrets: SecretStore, log: Logger): Promise<Mode> {
  const connections = readConnectionSettings(settings);
  if (!connections.mirakl.baseUrl || !connections.rebound.baseUrl || !connections.rebound.clientId) return 'sandbox';
  try {
    const [key, secret] = await Promise.all([secrets.get(secretAccounts.miraklApiKey), secrets.get(secretAccounts.reboundClientSecret)]);
    return key && secret ? 'live' : 'sandbox';
  } catch (error) {
    log.warn('keychain unavailable; staying in sandbox mode', { error: (error as Error).message });
    return 'sandbox';
  }
}
