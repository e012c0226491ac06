import { useEffect, useState } from 'react';
import { roleLabels, roles, type Account, type Role } from '../../../../core/contract';
import { Dialog } from '../../app/Dialog';
import { LoadError, Loading } from '../../app/EmptyState';
import { formatDateTime } from '../../app/format';
import { useTeamStore } from '../team/store';
import { useAccountsStore } from './store';

const roleHelp: Record<Role, string> = {
  viewer: 'reads everything, changes nothing',
  analyst: 'works exceptions, refunds, reports; proposes overrides and mapping edits',
  approver: 'what an analyst does, and approves other people’s proposals',
  admin: 'connections, the sync’s pause, lifting a write freeze, accounts',
};

const rolesText = (list: Role[]) => list.map((r) => roleLabels[r]).join(', ');

/** Integration admins: who may sign in to this team server, and with which roles. */
export function AccountsPage() {
  const { accounts, error, load, save, temporary } = useAccountsStore();
  const me = useTeamStore((s) => s.me);
  const [editing, setEditing] = useState<Account | null>(null);
  const [isAdding, setAdding] = useState(false);
  useEffect(() => {
    void load();
  }, [load]);

  const isMe = (a: Account) => a.username.toLowerCase() === me?.username?.toLowerCase();
  return (
    <>
      <h1>Accounts</h1>
      <p className="muted">
        Who may sign in to this team server. A new account, or a reset, gets a temporary password shown here once; the person chooses their own at their next
        sign-in. Disabling an account or resetting its password ends its sessions at once.
      </p>
      {temporary && <TemporaryPasswordPanel />}
      <div className="row-actions">
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add account…
        </button>
      </div>
      {error && <LoadError what="the accounts" message={error.message} onRetry={() => void load()} />}
      {!accounts && !error && <Loading what="the accounts" />}
      {accounts && (
        <div className="table-wrap">
          <table className="queue" aria-label="Accounts">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Roles</th>
                <th scope="col">Standing</th>
                <th scope="col">Created</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => {
                const self = isMe(a) ? 'Your own account: another Integration admin changes it.' : null;
                return (
                  <tr key={a.username} data-account={a.username}>
                    <td>{a.username}</td>
                    <td>{a.displayName}</td>
                    <td data-testid="account-roles">{rolesText(a.roles)}</td>
                    <td data-testid="account-standing">{a.disabled ? 'Disabled' : a.mustChangePassword ? 'Active, temporary password' : 'Active'}</td>
                    <td>
                      {formatDateTime(a.createdAt)}
                      <div className="muted small-text">by {a.createdBy}</div>
                    </td>
                    <td>
                      <div className="row-actions">
                        <button type="button" className="small" onClick={() => setEditing(a)}>
                          Change roles…
                        </button>
                        <button
                          type="button"
                          className="small"
                          disabled={self !== null && !a.disabled}
                          title={self ?? undefined}
                          onClick={() => void save({ username: a.username, disabled: !a.disabled }, `${a.username} ${a.disabled ? 'enabled' : 'disabled'}.`)}
                        >
                          {a.disabled ? 'Enable' : 'Disable'}
                        </button>
                        <button
                          type="button"
                          className="small"
                          disabled={self !== null}
                          title={self ?? 'A new temporary password; their sessions end now'}
                          onClick={() => void save({ username: a.username, resetPassword: true }, `Password of ${a.username} reset.`)}
                        >
                          Reset password
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {isAdding && <AccountDialog onClose={() => setAdding(false)} />}
      {editing && <AccountDialog account={editing} isSelf={isMe(editing)} onClose={() => setEditing(null)} />}
    </>
  );
}

/** Shown once: the server keeps only its hash. */
function TemporaryPasswordPanel() {
  const temporary = useAccountsStore((s) => s.temporary);
  const dismiss = useAccountsStore((s) => s.dismissTemporary);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  if (!temporary) return null;
  return (
    <section className="card" aria-label="Temporary password">
      <h2>
        Temporary password for {temporary.username}
        {temporary.isNew ? '' : ' (reset)'}
      </h2>
      <p>
        <code data-testid="temporary-password">{temporary.password}</code>
      </p>
      <p className="muted small-text">
        Copy it now and give it to {temporary.username} by a way only they can read: it is shown only this once. They choose their own password when they
        first sign in with it.
      </p>
      <div className="row-actions">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(temporary.password).then(
              () => setCopied('copied'),
              () => setCopied('failed'),
            )
          }
        >
          Copy password
        </button>
        <button type="button" onClick={dismiss}>
          Done, hide it
        </button>
        <span role="status" className="muted small-text">
          {copied === 'copied' ? 'Copied.' : copied === 'failed' ? 'Could not copy: select the password and copy it.' : ''}
        </span>
      </div>
    </section>
  );
}

/** A new account (username, name, roles), or another's roles and name. */
function AccountDialog({ account, isSelf = false, onClose }: { account?: Account; isSelf?: boolean; onClose(): void }) {
  const save = useAccountsStore((s) => s.save);
  const [username, setUsername] = useState(account?.username ?? '');
  const [displayName, setDisplayName] = useState(account?.displayName ?? '');
  const [chosen, setChosen] = useState<Role[]>(account?.roles ?? ['viewer']);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [isBusy, setBusy] = useState(false);
  return (
    <Dialog title={account ? `Change ${account.username}` : 'Add account'} onClose={onClose}>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen.length === 0) return setErrors({ roles: 'choose at least one role' });
          setBusy(true);
          const input = { username: username.trim(), displayName: displayName.trim(), roles: roles.filter((r) => chosen.includes(r)) };
          void save(input, account ? `${input.username} now has ${rolesText(input.roles)}.` : `Account ${input.username} added.`).then((refused) => {
            setBusy(false);
            if (refused) setErrors(refused);
            else onClose();
          });
        }}
      >
        <label>
          Username (letters, digits and . _ @ -)
          <input value={username} onChange={(e) => setUsername(e.target.value)} disabled={Boolean(account)} aria-invalid={Boolean(errors.username)} autoFocus={!account} />
          {errors.username && <span className="field-error">{errors.username}</span>}
        </label>
        <label>
          Display name (the audit log shows it)
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} aria-invalid={Boolean(errors.displayName)} />
          {errors.displayName && <span className="field-error">{errors.displayName}</span>}
        </label>
        <fieldset className="stack" aria-label="Roles">
          <legend>Roles</legend>
          {roles.map((r) => (
            <label key={r} className="check">
              <input
                type="checkbox"
                checked={chosen.includes(r)}
                disabled={isSelf && r === 'admin'}
                title={isSelf && r === 'admin' ? 'You cannot take away your own Integration admin role.' : undefined}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, r] : chosen.filter((x) => x !== r))}
              />
              {roleLabels[r]} <span className="muted small-text">— {roleHelp[r]}</span>
            </label>
          ))}
          {errors.roles && <span className="field-error">{errors.roles}</span>}
        </fieldset>
        {errors[''] && <p className="error">{errors['']}</p>}
        <div className="row-actions">
          <button type="submit" className="primary" disabled={isBusy || !username.trim() || !displayName.trim()}>
            {account ? 'Save' : 'Add account'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
