import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/log';
import { silentLogger } from '../adapters/logger';
import type { FakeClock } from '../adapters/fake-clock';
import type { Core } from '../app/create-core';
import { createExceptionStore } from '../ledger/exceptions';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { createTeam, type Team } from './team';

// README "Maker-checker": a SKU → offer mapping edit on a team server is a proposal another Approver approves (review of
// 369440f: the remap saved it at once, an Analyst's change with no approver).
describe('team: "Map to another listing" and the SKU → offer mapping', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let core: Core;
  let clock: FakeClock;
  let team: Team;
  beforeEach(async () => {
    temp = makeTempDir();
    ({ core, clock } = await makeTestCore(temp.dir));
    team = createTeam({ db: core.store.db, clock, log: silentLogger, dispatch: core.dispatch, audit: (e) => createAuditLog(core.store.db, clock).append(e) });
  });
  afterEach(() => {
    core.close();
    temp.remove();
  });

  it("an Analyst's remap does not change the SKU → offer mapping without a second person's approval", async () => {
    const made = await team.accounts.create({ username: 'ana', displayName: 'Ana Ruiz', roles: ['analyst'] }, 'test');
    const first = (await team.signIn('ana', made.temporaryPassword)) as { token: string };
    await team.run(first.token, 'team.changePassword', { current: made.temporaryPassword, next: 'ana-own-password-1' });
    const skuOffers = async () => ((await core.dispatch('mappings.get', {})) as { ok: true; data: { files: { skuOffers: { version: string } } } }).data.files.skuOffers.version;
    const before = await skuOffers();
    createExceptionStore(core.store.db, clock).raise({ type: 'OFFER_NOT_FOUND', subjectKey: 'SKU', offerSku: 'SKU', cause: 'no such offer' });
    const id = (core.store.db.prepare(`SELECT id FROM exceptions WHERE type = 'OFFER_NOT_FOUND'`).get() as { id: number }).id;
    const acted = await team.run(first.token, 'exceptions.act', { ids: [id], action: 'remap', offerSku: 'SKU-2027' });
    // The units move at once; the override is for the person to propose, as any mapping change here.
    expect(acted).toMatchObject({ ok: true, data: { results: [{ ok: true, message: expect.stringMatching(/propose .*SKU → SKU-2027/) as string }] } });
    expect(await skuOffers()).toBe(before);
  });
});
