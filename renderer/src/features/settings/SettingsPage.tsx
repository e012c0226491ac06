import { EmptyState } from '../../app/EmptyState';

export function SettingsPage() {
  return (
    <>
      <h1>Settings</h1>
      <EmptyState title="Running in Sandbox mode">
        Connections to your Mirakl instance (URL and shop id) and to ReBound (base URL, client id, flow key) are set
        here; secrets go to the operating system's keychain and are never shown again. Until both are set, the app runs
        against its built-in sandbox. Sync cadences, refund policy and reason-code mappings will be edited here too.
      </EmptyState>
    </>
  );
}
