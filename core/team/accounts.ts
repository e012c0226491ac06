import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { roles as allRoles, type Role } from '../contract';
import { AppError } from '../errors';
import type { Clock } from '../ports';
import type { SignedInPerson } from '../app/person';
import { createTeamAccountsRepo, type AccountRow } from '../store/team-accounts-repo';
import type { Store } from '../store/db';

// Accounts and sessions of a team server, in the data folder's main database (migration 0022). Passwords are hashed
// with bcrypt (bcryptjs: plain JavaScript, nothing to compile); a session is a random 256-bit token the browser keeps
// and the server knows only by its SHA-256, valid for one working day.

export const sessionHours = 12;
const bcryptCost = 11;
/** After this many wrong passwords for one username, sign-in for it waits a minute. */
const maxFailures = 5;
const lockoutMs = 60_000;

export interface Account {
  username: string;
  displayName: string;
  roles: Role[];
  createdAt: string;
  createdBy: string;
  disabled: boolean;
  mustChangePassword: boolean;
}

export interface Session {
  token: string;
  expiresAt: string;
  person: SignedInPerson;
  mustChangePassword: boolean;
}

function toAccount(row: AccountRow): Account {
  return {
    username: row.username,
    displayName: row.display_name,
    roles: parseRoles(row.roles),
    createdAt: row.created_at,
    createdBy: row.created_by,
    disabled: row.disabled_at !== null,
    mustChangePassword: row.must_change_password === 1,
  };
}

function parseRoles(text: string): Role[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? allRoles.filter((r) => parsed.includes(r)) : [];
}

function personOf(row: AccountRow): SignedInPerson {
  return { accountId: row.id, username: row.username, displayName: row.display_name, roles: parseRoles(row.roles) };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A password nobody chose: 20 characters from an alphabet without look-alikes, ~100 bits. */
export function temporaryPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function createAccounts(db: Store['db'], clock: Clock) {
  const repo = createTeamAccountsRepo(db);
  const iso = () => new Date(clock.now()).toISOString();
  const failures = new Map<string, { count: number; until: number }>();
  let dummyHash: string | undefined;
  const find = repo.byName;
  const byId = repo.byId;

  return {
    count: repo.count,

    list: (): Account[] => repo.all().map(toAccount),

    get(username: string): Account | null {
      const row = find(username);
      return row ? toAccount(row) : null;
    },

    nameOf(accountId: number): string {
      const row = byId(accountId);
      return row ? (row.display_name === row.username ? row.username : `${row.display_name} (${row.username})`) : `account ${accountId}`;
    },

    /** Creates an account with a temporary password (answered once) the person replaces at their first sign-in. */
    async create(input: { username: string; displayName: string; roles: Role[] }, createdBy: string): Promise<{ account: Account; temporaryPassword: string }> {
      if (find(input.username)) throw new AppError('CONFLICT', `There is already an account named "${input.username}".`);
      const password = temporaryPassword();
      const hash = await bcrypt.hash(password, bcryptCost);
      repo.insert({ username: input.username, display_name: input.displayName, password_hash: hash, roles: JSON.stringify(input.roles), created_at: iso(), created_by: createdBy });
      return { account: toAccount(find(input.username)!), temporaryPassword: password };
    },

    /** Changes an account's name, roles or standing; `resetPassword` gives it a new temporary password. */
    async update(
      username: string,
      change: { displayName?: string; roles?: Role[]; disabled?: boolean; resetPassword?: boolean },
    ): Promise<{ account: Account; temporaryPassword: string | null }> {
      const row = find(username);
      if (!row) throw new AppError('NOT_FOUND', `There is no account named "${username}".`);
      const password = change.resetPassword ? temporaryPassword() : null;
      const hash = password ? await bcrypt.hash(password, bcryptCost) : null;
      // A disabled account or a reset password ends its sessions: the next request signs in again. (Changed roles
      // apply from the next request: a session reads its account's roles at each one.)
      repo.update(
        row.id,
        {
          ...(change.displayName !== undefined ? { displayName: change.displayName } : {}),
          ...(change.roles !== undefined ? { roles: JSON.stringify(change.roles) } : {}),
          ...(change.disabled !== undefined ? { disabledAt: change.disabled ? iso() : null } : {}),
          ...(hash ? { passwordHash: hash, mustChange: true } : {}),
        },
        change.disabled || hash ? iso() : null,
      );
      return { account: toAccount(find(username)!), temporaryPassword: password };
    },

    /** A new session for a right username and password, or null (the same answer for an unknown name). */
    async signIn(username: string, password: string): Promise<Session | { refused: string }> {
      const key = username.toLowerCase();
      const failed = failures.get(key);
      const now = clock.now();
      if (failed && failed.count >= maxFailures && failed.until > now) {
        return { refused: `Too many wrong passwords for "${username}": try again in a minute.` };
      }
      const row = find(username);
      // An unknown name still costs a hash comparison, so the answer's timing does not tell which names exist.
      const ok = await bcrypt.compare(password, row?.password_hash ?? (dummyHash ??= await bcrypt.hash(temporaryPassword(), bcryptCost)));
      if (!row || !ok || row.disabled_at !== null) {
        const count = (failed && failed.until > now ? failed.count : 0) + 1;
        failures.set(key, { count, until: now + lockoutMs });
        return { refused: row?.disabled_at ? `The account "${username}" is disabled.` : 'Wrong username or password.' };
      }
      failures.delete(key);
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now + sessionHours * 3_600_000).toISOString();
      repo.insertSession(sha256(token), row.id, iso(), expiresAt);
      return { token, expiresAt, person: personOf(row), mustChangePassword: row.must_change_password === 1 };
    },

    /** The session a token opens, or null when it is unknown, ended, expired or its account disabled. */
    session(token: string): Omit<Session, 'token'> | null {
      if (!token) return null;
      const found = repo.session(sha256(token));
      if (!found || found.ended_at !== null || Date.parse(found.expires_at) <= clock.now()) return null;
      const row = byId(found.account_id);
      if (!row || row.disabled_at !== null) return null;
      return { expiresAt: found.expires_at, person: personOf(row), mustChangePassword: row.must_change_password === 1 };
    },

    signOut(token: string): void {
      repo.endSession(sha256(token), iso());
    },

    /** Replaces a person's password, given their current one. Their other sessions end. */
    async changePassword(accountId: number, current: string, next: string, keepToken: string): Promise<void> {
      const row = byId(accountId);
      if (!row) throw new AppError('NOT_FOUND', 'Your account no longer exists.');
      if (!(await bcrypt.compare(current, row.password_hash))) throw new AppError('VALIDATION', 'The current password is wrong.', [{ path: ['current'], message: 'wrong password' }]);
      if (current === next) throw new AppError('VALIDATION', 'Choose a password other than the current one.', [{ path: ['next'], message: 'same as the current password' }]);
      const hash = await bcrypt.hash(next, bcryptCost);
      repo.update(accountId, { passwordHash: hash, mustChange: false }, iso(), sha256(keepToken));
    },
  };
}
export type Accounts = ReturnType<typeof createAccounts>;
