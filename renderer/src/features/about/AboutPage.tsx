import { useAppStore } from '../../app/store';
import { transportKind } from '../../api/transport';

export function AboutPage() {
  const info = useAppStore((s) => s.info);
  const error = useAppStore((s) => s.infoError);
  return (
    <>
      <h1>About</h1>
      {error && <p className="error" role="alert">Could not read app information: {error.message}</p>}
      {!info && !error && <p>Loading…</p>}
      {info && (
        <table className="facts" aria-label="Application">
          <tbody>
            <tr><th scope="row">Application</th><td data-testid="info-name">{info.name}</td></tr>
            <tr><th scope="row">Version</th><td data-testid="info-version">{info.version}</td></tr>
            <tr><th scope="row">Mode</th><td data-testid="info-mode">{info.mode === 'sandbox' ? 'Sandbox' : 'Live'}</td></tr>
            <tr><th scope="row">Running as</th><td>{transportKind === 'electron' ? 'Desktop app' : 'Browser mode'}</td></tr>
            <tr><th scope="row">Data folder</th><td data-testid="info-data-dir">{info.dataDir}</td></tr>
            <tr><th scope="row">Database</th><td>{info.databaseFile}</td></tr>
            <tr><th scope="row">Schema version</th><td data-testid="info-schema">{info.schemaVersion}</td></tr>
            <tr><th scope="row">Started</th><td>{info.startedAt}</td></tr>
          </tbody>
        </table>
      )}
    </>
  );
}
