import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import type { Core } from '../app/create-core';
import type { Role } from '../contract';
import { makeTestCore } from '../../test/support/core';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createTeam, type Team } from './team';

// Month-end sign-off on a team server: a preparer signs October's figures, another person reviews them, and only then
// may the month be locked. A refund that lands in October after the signatures changes its figures: both signatures
// are withdrawn (and audited) for the month to be signed again.

describe('month-end sign-off by a preparer and a reviewer', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let team: Team;

  async function person(username: string, displayName: string, roles: Role[]) {
    const made = await team.accounts.create({ username, displayName, roles }, 'test');
    const first = (await team.signIn(username, made.temporaryPassword)) as { token: string };
    await team.run(first.token, 'team.changePassword', { current: made.temporaryPassword, next: `${username}-own-password-1` });
    return first.token;
  }

  beforeEach(async () => {
    temp = makeTempDir();
    const made = await makeTestCore(temp.dir);
    core = made.core;
    seedOctober(core.store.db);
    team = createTeam({ db: core.store.db, clock: made.clock, log: silentLogger, dispatch: core.dispatch, audit: (e) => createAuditLog(core.store.db, made.clock).append(e) });
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('needs both signatures, by two people, before the lock, and withdraws them when the figures change', async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst', 'approver']);
    const al = await person('al', 'Al Analyst', ['analyst']);
    const bo = await person('bo', 'Bo Berg', ['approver']);
    const period = '2026-10';

    expect(await team.run(ana, 'reports.lock', { period })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(/preparer's and then a reviewer's sign-off/) } });
    expect(await team.run(ana, 'reports.signOff', { period, kind: 'reviewed' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(/prepared \(signed\) first/) } });
    expect(await team.run(ana, 'reports.signOff', { period, kind: 'prepared', note: 'tied out to the bank' })).toMatchObject({
      ok: true,
      data: { complete: false, signOffs: [{ kind: 'prepared', signedBy: 'Ana Ruiz (ana)', standing: true, note: 'tied out to the bank' }] },
    });
    expect(await team.run(ana, 'reports.signOff', { period, kind: 'prepared' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(/already prepared/) } });
    expect(await team.run(ana, 'reports.signOff', { period, kind: 'reviewed' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(/another person must review/) } });
    expect(await team.run(al, 'reports.signOff', { period, kind: 'reviewed' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const reviewed = await team.run(bo, 'reports.signOff', { period, kind: 'reviewed' });
    expect(reviewed).toMatchObject({ ok: true, data: { complete: true } });
    const signedFacts = (reviewed as { data: { factsSha256: string } }).data.factsSha256;

    // A refund dated in October read after the signatures: October's figures are no longer the ones signed.
    core.store.db
      .prepare(
        `INSERT INTO mirakl_refunds (id, order_line_id, order_refund_id, amount_minor, shipping_minor, quantity, reason_code, refund_state, date_created, first_seen_at, synced_at)
         VALUES ('LATE-1', 'L-1', 'OR-LATE-1', 700, 0, 1, '11', 'REFUNDED', '2026-10-30T10:00:00Z', '2026-10-30T10:00:00Z', '2026-10-30T10:00:00Z')`,
      )
      .run();
    const after = await team.run(al, 'reports.signOffs', { period });
    expect(after).toMatchObject({ ok: true, data: { complete: false, signOffs: [{ kind: 'prepared', standing: false }, { kind: 'reviewed', standing: false }] } });
    const data = (after as { data: { factsSha256: string; signOffs: { withdrawnReason: string | null }[] } }).data;
    expect(data.factsSha256).not.toBe(signedFacts);
    expect(data.signOffs[0]?.withdrawnReason).toMatch(/figures changed after it was signed/);
    expect(await team.run(ana, 'reports.lock', { period })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });

    // Signed again on the new figures, the month locks, and the audit log tells the story.
    await team.run(al, 'reports.signOff', { period, kind: 'prepared' });
    await team.run(ana, 'reports.signOff', { period, kind: 'reviewed' });
    expect(await team.run(bo, 'reports.lock', { period, reason: 'October close' })).toMatchObject({ ok: true, data: { lockedBy: 'Bo Berg (bo)' } });
    // A locked month's figures are frozen: there is nothing left to sign.
    expect(await team.run(al, 'reports.signOff', { period, kind: 'prepared' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(/is locked/) } });
    const audit = (await core.dispatch('audit.list', { limit: 50, subject: `period:${period}` })) as { ok: true; data: { rows: { action: string; actor: string }[] } };
    expect(audit.data.rows.map((r) => `${r.action} by ${r.actor}`).reverse()).toEqual([
      'period.signoff by Ana Ruiz (ana)',
      'period.signoff by Bo Berg (bo)',
      'period.signoff.withdrawn by Returns Workbench',
      'period.signoff.withdrawn by Returns Workbench',
      'period.signoff by Al Analyst (al)',
      'period.signoff by Ana Ruiz (ana)',
      'period.lock by Bo Berg (bo)',
    ]);
  });
});

describe('month-end sign-off where one person uses the app (the desktop app, browser mode)', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;

  beforeEach(async () => {
    temp = makeTempDir();
    core = (await makeTestCore(temp.dir)).core;
    seedOctober(core.store.db);
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('refuses a review, also under another name: nobody else uses this app, so nobody else can have reviewed it', async () => {
    const period = '2026-10';
    await core.dispatch('settings.setName', { name: 'Ana Ruiz' });
    expect(await core.dispatch('reports.signOff', { period, kind: 'prepared' })).toMatchObject({ ok: true, data: { complete: false } });
    // "Your name" changes who the app says is acting, not how many people use it.
    await core.dispatch('settings.setName', { name: 'Bo Berg' });
    expect(await core.dispatch('reports.signOff', { period, kind: 'reviewed' })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: expect.stringMatching(/one person uses the app.*team server/) },
    });
    const signOffs = await core.dispatch('reports.signOffs', { period });
    expect(signOffs).toMatchObject({ ok: true, data: { complete: false, signOffs: [{ kind: 'prepared', signedBy: 'Ana Ruiz', standing: true }] } });
    const audit = (await core.dispatch('audit.list', { subject: `period:${period}`, action: 'period.signoff' })) as { ok: true; data: { rows: { actor: string }[] } };
    expect(audit.data.rows.map((r) => r.actor)).toEqual(['Ana Ruiz']);
  });
});
