import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import type { FakeClock } from '../adapters/fake-clock';
import { commands, type roles, type Command } from '../contract';
import type { Core } from '../app/create-core';
import { createExceptionStore } from '../ledger/exceptions';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { commandRoles } from './roles';
import { createTeam, type Team } from './team';

// The team server's checks, in front of one real core: who is signed in, what their roles allow, and the changes a
// second person must approve (run once, as the approver's action, with both people in the audit log).

describe('team: sessions, roles and maker-checker in front of one core', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let clock: FakeClock;
  let team: Team;

  /** Signs `username` in with its temporary password and replaces it: a session ready to work. */
  async function person(username: string, displayName: string, personRoles: (typeof roles)[number][]) {
    const made = await team.accounts.create({ username, displayName, roles: personRoles }, 'test');
    const first = await team.signIn(username, made.temporaryPassword);
    if ('refused' in first) throw new Error(first.refused);
    const changed = await team.run(first.token, 'team.changePassword', { current: made.temporaryPassword, next: `${username}-own-password-1` });
    expect(changed).toMatchObject({ ok: true, data: { mustChangePassword: false } });
    return first.token;
  }
  const auditActions = async () => {
    const listed = (await core.dispatch('audit.list', { limit: 200 })) as { ok: true; data: { rows: { action: string; actor: string }[] } };
    return listed.data.rows.map((r) => `${r.action} by ${r.actor}`);
  };

  beforeEach(async () => {
    temp = makeTempDir();
    ({ core, clock } = await makeTestCore(temp.dir));
    team = createTeam({ db: core.store.db, clock, log: silentLogger, dispatch: core.dispatch, audit: (e) => createAuditLog(core.store.db, clock).append(e) });
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it('gives every command at least one role, and nothing but reading to a Viewer', () => {
    for (const command of Object.keys(commands) as Command[]) expect(commandRoles[command].length, command).toBeGreaterThan(0);
    const viewerMayChange = (Object.keys(commands) as Command[]).filter(
      (c) => commandRoles[c].includes('viewer') && !/\.(list|get|status|info|explain|explainGuard|help|actions|notes|suggestions|kpis|verify|reasons|me|file|changePassword|decide|setName|signOffs)$/.test(c),
    );
    expect(viewerMayChange).toEqual([]);
  });

  it('signs in with the right password only, locks a name out after five wrong ones, and ends sessions at expiry and sign-out', async () => {
    const made = await team.accounts.create({ username: 'ana', displayName: 'Ana Ruiz', roles: ['analyst'] }, 'test');
    expect(await team.signIn('ana', 'wrong password!')).toEqual({ refused: 'Wrong username or password.' });
    expect(await team.signIn('nobody', 'wrong password!')).toEqual({ refused: 'Wrong username or password.' });
    const session = await team.signIn('ANA', made.temporaryPassword);
    expect(session).toMatchObject({ mustChangePassword: true, person: { username: 'ana', displayName: 'Ana Ruiz', roles: ['analyst'] } });
    const token = (session as { token: string }).token;
    // A temporary password opens nothing but choosing one's own.
    expect(await team.run(token, 'returns.list', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/Choose your own password/) } });

    for (let i = 0; i < 5; i++) await team.signIn('ana', `wrong password ${i}`);
    expect(await team.signIn('ana', made.temporaryPassword)).toEqual({ refused: expect.stringMatching(/Too many wrong passwords/) });
    clock.advance(61_000);
    expect(await team.signIn('ana', made.temporaryPassword)).toHaveProperty('token');

    expect(team.session(token)).not.toBeNull();
    clock.advance(12 * 3_600_000);
    expect(team.session(token)).toBeNull();
    expect(await team.run(token, 'returns.list', {})).toMatchObject({ ok: false, error: { code: 'AUTH' } });
    expect(await team.run('made-up-token', 'returns.list', {})).toMatchObject({ ok: false, error: { code: 'AUTH' } });

    const again = (await team.signIn('ana', made.temporaryPassword)) as { token: string };
    team.signOut(again.token);
    expect(team.session(again.token)).toBeNull();
  });

  it("refuses what a person's roles do not allow (403) and applies a change of roles at the next request", async () => {
    const admin = await person('root', 'Root', ['admin']);
    const viewer = await person('vic', 'Vic Viewer', ['viewer']);
    expect(await team.run(viewer, 'returns.list', {})).toMatchObject({ ok: true });
    expect(await team.run(viewer, 'writes.freeze', { reason: 'test' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/Analyst/) } });
    expect(await team.run(viewer, 'accounts.list', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await team.run(admin, 'accounts.save', { username: 'vic', roles: ['viewer', 'analyst'] })).toMatchObject({ ok: true });
    expect(await team.run(viewer, 'writes.freeze', { reason: 'test' })).toMatchObject({ ok: true, data: { frozen: { by: 'Vic Viewer (vic)' } } });
    expect(await team.run(admin, 'accounts.save', { username: 'vic', disabled: true })).toMatchObject({ ok: true, data: { account: { disabled: true } } });
    expect(await team.run(viewer, 'returns.list', {})).toMatchObject({ ok: false, error: { code: 'AUTH' } });
    expect(await team.signIn('vic', 'vic-own-password-1')).toEqual({ refused: 'The account "vic" is disabled.' });
    // An admin cannot lock themselves out.
    expect(await team.run(admin, 'accounts.save', { username: 'root', disabled: true })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('records the signed-in person as the actor of what the core does for them', async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst']);
    expect(await team.run(ana, 'writes.freeze', { reason: 'month-end check' })).toMatchObject({ ok: true, data: { frozen: { by: 'Ana Ruiz (ana)' } } });
    expect(await auditActions()).toContain('writes.freeze by Ana Ruiz (ana)');
    expect(await team.run(ana, 'settings.setName', { name: 'Someone Else' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('keeps a change that needs approval as a proposal, refuses self-approval, and runs it once when another Approver approves', async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst', 'approver']);
    const bo = await person('bo', 'Bo Berg', ['approver']);
    const cy = await person('cy', 'Cy Chen', ['approver']);
    const viewer = await person('vic', 'Vic Viewer', ['viewer']);
    const policyBefore = (await core.dispatch('mappings.get', {})) as { ok: true; data: { files: { policy: { version: string } } } };

    const proposed = await team.run(ana, 'settings.setCadences', { stockFlushSeconds: 180, reason: 'fewer STO01 calls' });
    expect(proposed).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED', proposalId: expect.any(Number) } });
    const id = (proposed as { error: { proposalId: number } }).error.proposalId;
    // Nothing changed yet.
    expect(await core.dispatch('mappings.get', {})).toMatchObject({ ok: true, data: { files: { policy: { version: policyBefore.data.files.policy.version } } } });
    expect(await team.run(bo, 'proposals.list', {})).toMatchObject({ ok: true, data: { proposals: [{ id, status: 'pending', proposedBy: 'Ana Ruiz (ana)', summary: expect.stringMatching(/stockFlushSeconds = 180/) }] } });

    expect(await team.run(ana, 'proposals.decide', { id, decision: 'approve' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/no self-approval/) } });
    expect(await team.run(viewer, 'proposals.decide', { id, decision: 'approve' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/Approver role/) } });
    expect(await team.run(bo, 'proposals.decide', { id, decision: 'withdraw' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // Two approvers at the same moment: one runs it, the other is told it was decided.
    const [first, second] = await Promise.all([team.run(bo, 'proposals.decide', { id, decision: 'approve' }), team.run(cy, 'proposals.decide', { id, decision: 'approve' })]);
    const results = [first, second];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error.code === 'CONFLICT')).toHaveLength(1);
    const approved = results.find((r) => r.ok) as { data: { status: string; decidedBy: string } };
    expect(approved.data.status).toBe('executed');
    const approver = approved.data.decidedBy;

    const policy = (await core.dispatch('mappings.get', {})) as { ok: true; data: { files: { policy: { text: string; version: string } } } };
    expect(policy.data.files.policy.version).not.toBe(policyBefore.data.files.policy.version);
    expect(policy.data.files.policy.text).toMatch(/stockFlushSeconds: 180/);
    expect(await team.run(bo, 'proposals.decide', { id, decision: 'approve' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });

    const actions = await auditActions();
    expect(actions).toContain('proposal.created by Ana Ruiz (ana)');
    expect(actions).toContain(`proposal.approved by ${approver}`);
    expect(actions.filter((a) => a.startsWith('mappings.save '))).toEqual([expect.stringContaining(`by ${approver}`)]);
  });

  it('lets the maker withdraw and an Approver reject, and runs neither', async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst']);
    const bo = await person('bo', 'Bo Berg', ['approver']);
    const a = (await team.run(ana, 'settings.setCadences', { stockFlushSeconds: 240 })) as { error: { proposalId: number } };
    const b = (await team.run(ana, 'settings.setCadences', { stockFlushSeconds: 420 })) as { error: { proposalId: number } };
    expect(await team.run(ana, 'proposals.decide', { id: a.error.proposalId, decision: 'withdraw' })).toMatchObject({ ok: true, data: { status: 'withdrawn' } });
    expect(await team.run(bo, 'proposals.decide', { id: b.error.proposalId, decision: 'reject', reason: 'keep 60 s at month-end' })).toMatchObject({
      ok: true,
      data: { status: 'rejected', decidedBy: 'Bo Berg (bo)', decisionReason: 'keep 60 s at month-end' },
    });
    const policy = (await core.dispatch('mappings.get', {})) as { ok: true; data: { files: { policy: { text: string } } } };
    expect(policy.data.files.policy.text).not.toMatch(/stockFlushSeconds: (240|420)/);
  });

  it('says, at the next start, that a proposal approved while the server stopped may or may not have run: it never stays "approved"', async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst']);
    const bo = await person('bo', 'Bo Berg', ['approver']);
    const proposed = (await team.run(ana, 'settings.setCadences', { stockFlushSeconds: 240 })) as { error: { proposalId: number } };
    const id = proposed.error.proposalId;
    // The claim is made, then the server stops before the command's answer is recorded.
    const boId = team.session(bo)!.person.accountId;
    expect(team.proposals.decide(id, 'approved', boId, null)).toBe(true);
    const restarted = createTeam({ db: core.store.db, clock, log: silentLogger, dispatch: core.dispatch, audit: (e) => createAuditLog(core.store.db, clock).append(e) });
    expect(restarted.proposals.view(id)).toMatchObject({
      status: 'failed',
      decidedBy: 'Bo Berg (bo)',
      outcome: { code: 'INTERRUPTED', message: expect.stringMatching(/server stopped while it ran.*audit log/) },
    });
  });
  // A SKU → offer mapping edit is a proposal here (review of 369440f: an Analyst's "Map to another listing" saved it at
  // once, with no approver): the units move, and the person is told the override to propose.
  it("an Analyst's remap moves the units but leaves the SKU → offer mapping to a proposal", async () => {
    const ana = await person('ana', 'Ana Ruiz', ['analyst']);
    const skuOffers = async () => ((await core.dispatch('mappings.get', {})) as { ok: true; data: { files: { skuOffers: { version: string } } } }).data.files.skuOffers.version;
    const before = await skuOffers();
    createExceptionStore(core.store.db, clock).raise({ type: 'OFFER_NOT_FOUND', subjectKey: 'SKU', offerSku: 'SKU', cause: 'no such offer' });
    const id = (core.store.db.prepare(`SELECT id FROM exceptions WHERE type = 'OFFER_NOT_FOUND'`).get() as { id: number }).id;
    const acted = await team.run(ana, 'exceptions.act', { ids: [id], action: 'remap', offerSku: 'SKU-2027' });
    expect(acted).toMatchObject({ ok: true, data: { results: [{ ok: true, message: expect.stringMatching(/propose .*SKU → SKU-2027/) as string }] } });
    expect(await skuOffers()).toBe(before);
  });
});
