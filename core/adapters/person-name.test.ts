import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fullNameFromPasswd, osPersonName } from './person-name';

// The default actor is the person's full name as the operating system holds it, not the account name.

describe('the OS full name', () => {
  it("reads the GECOS field's first part of a passwd line", () => {
    expect(fullNameFromPasswd('ada:x:1000:1000:Ada Lovelace,Room 12,555-0100,,:/home/ada:/bin/bash')).toBe('Ada Lovelace');
    expect(fullNameFromPasswd('jo:x:1001:1001:Jo Ümlaut:/home/jo:/bin/zsh')).toBe('Jo Ümlaut');
    expect(fullNameFromPasswd('svc:x:998:998::/var/lib/svc:/usr/sbin/nologin')).toBeNull();
    expect(fullNameFromPasswd('svc:x:998:998: , ,:/var/lib/svc:/usr/sbin/nologin')).toBeNull();
    expect(fullNameFromPasswd('')).toBeNull();
  });

  it.runIf(process.platform === 'linux')("on Linux, is this account's GECOS name from getent, or its account name when there is none", () => {
    const line = execFileSync('getent', ['passwd', String(userInfo().uid)], { encoding: 'utf8' }).trim();
    const gecos = line.split(':')[4]?.split(',')[0]?.trim();
    expect(osPersonName()).toBe(gecos || userInfo().username);
  });
});
