import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { localActor } from './system';

// Who the person at this machine is, by default, for the audit log and everything else that records who did
// something: the full name the operating system holds for the account ("Ada Lovelace"), not the account name
// ("root", "ada"). A person can set another in Settings (core/app/person.ts); this is only the default.
// Linux: the passwd entry's GECOS field (getent, so LDAP/SSSD accounts count too; /etc/passwd when getent is
// missing). macOS: `id -F`. Windows: the account name — its full name needs a directory query we do not make.

/** The full name in a passwd line's GECOS field (`name,room,phone,…`), or null when it holds none. */
export function fullNameFromPasswd(line: string): string | null {
  const gecos = line.split(':')[4];
  const name = gecos?.split(',')[0]?.trim();
  return name ? name : null;
}

/** The OS account's full name, falling back to the account name. Never throws: a missing tool means the fallback. */
export function osPersonName(): string {
  const account = localActor();
  try {
    if (process.platform === 'darwin') {
      const name = execFileSync('id', ['-F'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return name || account;
    }
    if (process.platform !== 'win32') return fullNameFromPasswd(passwdLine(userInfo().uid)) ?? account;
  } catch {
    // No passwd entry, no getent, a tool that failed: the account name is still the person's.
  }
  return account;
}

function passwdLine(uid: number): string {
  try {
    return execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid)) ?? '';
  }
}
