import { useState } from 'react';
import type { ContractError, SettingsView, TeamProbe } from '../../../../core/contract';
import { formatDateTime } from '../../app/format';
import { useSettingsStore } from './store';

type Check = { state: 'idle' } | { state: 'checking' } | { state: 'checked'; probe: TeamProbe } | { state: 'failed'; error: ContractError };

/**
 * Settings › Connect to a team server (desktop only). The person checks the address, compares the certificate's
 * fingerprint with the one the server printed, and connects: the desktop restarts as the server's client, trusting
 * exactly that certificate. The comparison is the person's, so the fingerprint is shown in full, never shortened.
 */
export function TeamServerForm({ settings }: { settings: SettingsView }) {
  const { probeTeamServer, connectTeamServer } = useSettingsStore();
  const [url, setUrl] = useState('');
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [isCompared, setCompared] = useState(false);
  const [connecting, setConnecting] = useState<'no' | 'yes' | 'done'>('no');
  const [connectError, setConnectError] = useState<ContractError | null>(null);

  const runCheck = async (e: React.FormEvent) => {
    e.preventDefault();
    setCheck({ state: 'checking' });
    setCompared(false);
    setConnectError(null);
    const result = await probeTeamServer(url);
    setCheck(result.ok ? { state: 'checked', probe: result.data } : { state: 'failed', error: result.error });
  };

  const connect = async () => {
    if (check.state !== 'checked') return;
    setConnecting('yes');
    setConnectError(null);
    const result = await connectTeamServer(url, check.probe.fingerprint);
    if (result.ok) return setConnecting('done');
    setConnecting('no');
    setConnectError(result.error);
  };

  const probe = check.state === 'checked' ? check.probe : null;
  return (
    <form className="stack" aria-label="Connect to a team server" onSubmit={(e) => void runCheck(e)} noValidate>
      <h2>Connect to a team server</h2>
      <p className="muted">
        A team server (<code>npm run serve</code>) runs the one sync engine of your shop for everyone. Connected to it, this computer runs no sync and keeps
        no data of its own: it shows the server’s pages, you sign in there, and the shop’s credentials stay on the server. File › Disconnect returns to
        working alone.
      </p>
      {settings.mode === 'live' && (
        <p className="error" role="alert" data-testid="team-live-warning">
          This computer syncs Live with its own credentials: connecting is refused while they are here, so that the shop never has two engines.
        </p>
      )}
      <div className="field">
        <label htmlFor="team-url">Team server address</label>
        <input
          id="team-url"
          type="url"
          value={url}
          placeholder="https://workbench.example:8443"
          autoComplete="off"
          aria-invalid={check.state === 'failed' && check.error.code === 'VALIDATION'}
          aria-describedby="team-url-hint"
          onChange={(e) => {
            setUrl(e.target.value);
            setCheck({ state: 'idle' });
            setCompared(false);
          }}
        />
        <div id="team-url-hint" className="muted small-text">
          The address the server printed when it started: https://, the host and the port, nothing after.
        </div>
      </div>
      <div>
        <button type="submit" disabled={check.state === 'checking' || connecting !== 'no'}>
          {check.state === 'checking' ? 'Checking…' : 'Check'}
        </button>
      </div>
      {check.state === 'failed' && (
        <p className="error" role="alert" data-testid="team-check-error">
          {check.error.message}
        </p>
      )}
      {probe && (
        <div className="stack" data-testid="team-probe">
          <dl className="report-meta">
            <dt>Address</dt>
            <dd>
              <code>{probe.origin}</code>
            </dd>
            <dt>Certificate fingerprint (SHA-256)</dt>
            <dd>
              <code data-testid="team-fingerprint">{probe.fingerprint}</code>
            </dd>
            <dt>Issued to</dt>
            <dd>{probe.subject}</dd>
            <dt>Valid until</dt>
            <dd>{formatDateTime(probe.validTo)}</dd>
          </dl>
          {probe.isTeamServer ? (
            <>
              <p className="muted">
                Compare every pair with the fingerprint the team server printed at its start (your admin can read it to you). The same means you reach that
                server; a different one means you reach something else: do not connect.
              </p>
              <label className="check">
                <input type="checkbox" checked={isCompared} onChange={(e) => setCompared(e.target.checked)} /> It is the fingerprint the server printed
              </label>
              <div>
                <button type="button" disabled={!isCompared || connecting !== 'no'} onClick={() => void connect()}>
                  {connecting === 'no' ? 'Connect' : 'Connecting…'}
                </button>
              </div>
            </>
          ) : (
            <p className="error" role="alert">
              {probe.origin} answers over HTTPS, but it is not a Returns Workbench team server.
            </p>
          )}
        </div>
      )}
      {connectError && (
        <p className="error" role="alert" data-testid="team-connect-error">
          {connectError.message}
        </p>
      )}
      {connecting === 'done' && (
        <p className="ok" role="status">
          Connected. Returns Workbench restarts as the team server’s client…
        </p>
      )}
    </form>
  );
}
