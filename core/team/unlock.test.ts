import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import type { Core } from '../app/create-core';
import type { Role } from '../contract';
import { makeTestCore } from '../../test/support/core';
import { seedOctober } from '../../test/support/report-fixture';
import { makeTempDir } from '../../test/support/temp-dir';
import { createTeam, type Team } from './team';

// Reopening a locked month on a team server is maker-checker: one person proposes it with a reason, another Approver
// approves it, and only then does it run — once, as the approver's action, with the proposer named beside them.

describe('reopening a locked month under maker-checker', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let team: Team;
  const period = '2026-10';

  async function person(username: string, displayName: string, roles: Role[]) {
    const made = await team.accounts.create({ username, displayName, roles }, 'test');
    const first = (await team.signIn(username, made.temporaryPassword)) as { token: string };
    await team.run(first.token, 'team.changePassword', { current: made.temporaryPassword, next: `${username}-own-password-1` });
    return first.token;
  }
  const isLocked = async () => {
    const listed = (await core.dispatch('reports.list', {})) as { ok: true; data: { periods: { period: string; lock: unknown }[] } };
    return listed.data.periods.find((p) => p.period === period)?.lock !== null;
  };
  const periodAudit = async () => {
    const listed = (await core.dispatch('audit.list', { limit: 100 })) as { ok: true; data: { rows: { action: string; actor: string; subject: string; after: unknown }[] } };
    return listed.data.rows.reverse();
  };

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

  it('proposes the reopening, refuses self-approval, and runs it once when another Approver approves, naming both', async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst', 'approver']);
    const bo = await person('bo', 'Bo Berg', ['approver']);
    const vic = await person('vic', 'Vic Viewer', ['viewer']);
    await team.run(ana, 'reports.signOff', { period, kind: 'prepared' });
    await team.run(bo, 'reports.signOff', { period, kind: 'reviewed' });
    expect(await team.run(ana, 'reports.lock', { period, reason: 'October close' })).toMatchObject({ ok: true });

    // Who may ask, what must be said, and what cannot be reopened are answered before anything is proposed.
    expect(await team.run(vic, 'reports.unlock', { period, reason: 'typo' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await team.run(ana, 'reports.unlock', { period, reason: '  ' })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await team.run(ana, 'reports.unlock', { period: '2026-09', reason: 'typo' })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: 'September 2026 is not locked: there is nothing to reopen.' },
    });
    expect(await team.run(bo, 'proposals.list', {})).toMatchObject({ ok: true, data: { proposals: [] } });

    const proposed = await team.run(ana, 'reports.unlock', { period, reason: 'Carrier credit note belongs to October' });
    expect(proposed).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED', proposalId: expect.any(Number) } });
    const id = (proposed as { error: { proposalId: number } }).error.proposalId;
    expect(await isLocked()).toBe(true);
    expect(await team.run(bo, 'proposals.list', {})).toMatchObject({
      ok: true,
      data: { proposals: [{ id, command: 'reports.unlock', proposedBy: 'Ana Ruiz (ana)', summary: 'Reopen October 2026 (a locked month): Carrier credit note belongs to October' }] },
    });
    // A second proposal for the same month, to show that only one reopening can run.
    const twice = (await team.run(ana, 'reports.unlock', { period, reason: 'same again' })) as { error: { proposalId: number } };

    expect(await team.run(ana, 'proposals.decide', { id, decision: 'approve' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/no self-approval/) } });
    expect(await isLocked()).toBe(true);

    const approved = await team.run(bo, 'proposals.decide', { id, decision: 'approve' });
    expect(approved).toMatchObject({
      ok: true,
      data: {
        status: 'executed',
        decidedBy: 'Bo Berg (bo)',
        outcome: { period, signOffsWithdrawn: 2, ended: { lockedBy: 'Ana Ruiz (ana)', unlockedBy: 'Bo Berg (bo)', proposedBy: 'Ana Ruiz (ana)', reason: 'Carrier credit note belongs to October' } },
      },
    });
    expect(await isLocked()).toBe(false);
    expect(await team.run(bo, 'proposals.decide', { id, decision: 'approve' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await team.run(bo, 'proposals.decide', { id: twice.error.proposalId, decision: 'approve' })).toMatchObject({
      ok: true,
      data: { status: 'failed', outcome: { code: 'CONFLICT', message: 'October 2026 is not locked: there is nothing to reopen.' } },
    });
    expect(core.store.db.prepare('SELECT unlocked_by, proposed_by FROM period_unlocks').all()).toEqual([{ unlocked_by: 'Bo Berg (bo)', proposed_by: 'Ana Ruiz (ana)' }]);

    const audit = await periodAudit();
    const story = audit.filter((r) => r.subject === `period:${period}` || r.subject === `proposal:${id}`).map((r) => `${r.action} by ${r.actor}`);
    expect(story).toEqual([
      'period.signoff by Ana Ruiz (ana)',
      'period.signoff by Bo Berg (bo)',
      'period.lock by Ana Ruiz (ana)',
      'proposal.created by Ana Ruiz (ana)',
      'proposal.approved by Bo Berg (bo)',
      'period.unlock by Bo Berg (bo)',
      'period.signoff.withdrawn by Bo Berg (bo)',
      'period.signoff.withdrawn by Bo Berg (bo)',
    ]);
    expect(audit.find((r) => r.action === 'period.unlock')?.after).toMatchObject({ proposedBy: 'Ana Ruiz (ana)' });
    expect(audit.find((r) => r.action === 'proposal.approved' && r.subject === `proposal:${id}`)?.after).toMatchObject({ command: 'reports.unlock', proposedBy: 'Ana Ruiz (ana)' });

    // Live again: signed and locked again by the same path as the first time.
    expect(await team.run(ana, 'reports.signOffs', { period })).toMatchObject({ ok: true, data: { complete: false } });
    await team.run(bo, 'reports.signOff', { period, kind: 'prepared' });
    await team.run(ana, 'reports.signOff', { period, kind: 'reviewed' });
    expect(await team.run(bo, 'reports.lock', { period, reason: 'October close, corrected' })).toMatchObject({ ok: true, data: { lockedBy: 'Bo Berg (bo)' } });
  });
});
