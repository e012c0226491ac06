import type { Mode } from '../contract';
import type { Logger, SecretStore } from '../ports';
import type { SettingsRepo } from '../store/settings-repo';

export const liveSettingKeys = { miraklBaseUrl: 'connections.mirakl.baseUrl', reboundBaseUrl: 'connections.rebound.baseUrl' } as const;
export const secretAccounts = { miraklApiKey: 'mirakl.apiKey', reboundClientSecret: 'rebound.clientSecret' } as const;

// Sandbox mode is the default: live mode needs both connections configured and both secrets in the keychain.
export async function resolveMode(settings: SettingsRepo, secrets: SecretStore, log: Logger): Promise<Mode> {
  if (!settings.get(liveSettingKeys.miraklBaseUrl) || !settings.get(liveSettingKeys.reboundBaseUrl)) return 'sandbox';
  try {
    const [key, secret] = await Promise.all([secrets.get(secretAccounts.miraklApiKey), secrets.get(secretAccounts.reboundClientSecret)]);
    return key && secret ? 'live' : 'sandbox';
  } catch (error) {
    log.warn('keychain unavailable; staying in sandbox mode', { error: (error as Error).message });
    return 'sandbox';
  }
}
