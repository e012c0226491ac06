import { useState } from 'react';
import { useTeamStore } from './store';

/** A team server's door: username and password, and the server's own words when it refuses. */
export function SignInPage() {
  const signIn = useTeamStore((s) => s.signIn);
  const signOutWarning = useTeamStore((s) => s.signOutWarning);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  return (
    <main className="sign-in" aria-label="Sign in">
      <form
        className="stack card"
        aria-label="Sign in to the team server"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          void signIn(username.trim(), password).then((refused) => {
            setBusy(false);
            setError(refused);
            if (refused) setPassword('');
          });
        }}
      >
        <h1>Returns Workbench</h1>
        <p className="muted">Sign in to your team’s server with the account an Integration admin made for you.</p>
        {signOutWarning && (
          <p className="badge-warn" role="status" data-testid="sign-out-warning">
            {signOutWarning}
          </p>
        )}
        <label className="field">
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" autoFocus required />
        </label>
        <label className="field">
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className="primary" disabled={isBusy || !username.trim() || !password}>
            {isBusy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
    </main>
  );
}
