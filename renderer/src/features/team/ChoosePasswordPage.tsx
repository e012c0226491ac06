import { useState } from 'react';
import { useTeamStore } from './store';

const minLength = 12;

/** After a first sign-in or a reset: the temporary password is replaced before anything else can be done. */
export function ChoosePasswordPage() {
  const me = useTeamStore((s) => s.me);
  const changePassword = useTeamStore((s) => s.changePassword);
  const signOut = useTeamStore((s) => s.signOut);
  const isSigningOut = useTeamStore((s) => s.isSigningOut);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [isBusy, setBusy] = useState(false);
  const mismatch = again.length > 0 && again !== next;
  return (
    <main className="sign-in" aria-label="Choose your password">
      <form
        className="stack card"
        aria-label="Choose your password"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (next.length < minLength) return setErrors({ next: `at least ${minLength} characters` });
          if (next !== again) return setErrors({ again: 'the two new passwords differ' });
          setBusy(true);
          void changePassword(current, next).then((refused) => {
            setBusy(false);
            setErrors(refused ?? {});
          });
        }}
      >
        <h1>Choose your password</h1>
        <p className="muted">
          {me ? `${me.displayName}, the` : 'The'} password you signed in with was temporary. Choose your own ({minLength} characters or more) to go on; nobody else
          will know it.
        </p>
        <label className="field">
          Temporary password
          <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" aria-invalid={Boolean(errors.current)} autoFocus />
          {errors.current && <span className="field-error">{errors.current}</span>}
        </label>
        <label className="field">
          New password
          <input type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" aria-invalid={Boolean(errors.next)} />
          {errors.next && <span className="field-error">{errors.next}</span>}
        </label>
        <label className="field">
          New password again
          <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" aria-invalid={Boolean(errors.again) || mismatch} />
          {(errors.again ?? (mismatch ? 'the two new passwords differ' : null)) && <span className="field-error">{errors.again ?? 'the two new passwords differ'}</span>}
        </label>
        {errors[''] && (
          <p className="error" role="alert">
            {errors['']}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className="primary" disabled={isBusy || !current || !next || !again}>
            Save my password
          </button>
          <button type="button" disabled={isSigningOut} onClick={() => void signOut()}>
            {isSigningOut ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </form>
    </main>
  );
}
