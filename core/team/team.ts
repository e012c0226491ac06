import { commands, isCommand, roles as allRoles, type Command, type ContractError, type Result } from '../contract';
import { AppError } from '../errors';
import type { AuditEntry } from '../audit/log';
import type { Dispatch } from '../app/dispatch';
import { asApproved, asPerson, personLabel, type SignedInPerson } from '../app/person';
import type { Clock, Logger } from '../ports';
import type { Store } from '../store/db';
import { createAccounts, type Session } from './accounts';
import { createProposals } from '../store/proposals-repo';
import { mayRun, needsApproval, refusal } from './roles';
import { reopenRefusal } from '../report/locks';
import { parsePeriod } from '../report/period';

// The team server's way into the core. Every request comes with a session; what it may do is decided here, before
// the core sees it: the person's roles (403), a new password first (403), and the changes that need a second person
// (proposed, answered APPROVAL_REQUIRED; run once, as the approver's action, when another person approves). What is
// allowed runs through the one core, with the person as the actor of everything it records.

export interface TeamOptions {
  /** The data folder's main database (accounts, sessions, proposals). */
  db: Store['db'];
  clock: Clock;
  log: Logger;
  /** The core's dispatch (the workbench's: it follows a switch of mode). */
  dispatch: Dispatch;
  /** Appends to the audit log the Audit page shows (the running core's). */
  audit: (entry: AuditEntry) => void;
  /** Tells every open page that the proposals changed (their count in the navigation, the Approvals page). */
  changed?: () => void;
}

const firstAdmin = 'admin';

export function createTeam(options: TeamOptions) {
  const { db, clock, log, dispatch } = options;
  const accounts = createAccounts(db, clock);
  const proposals = createProposals(db, clock, accounts.nameOf);
  const interrupted = proposals.failInterrupted({
    code: 'INTERRUPTED',
    message:
      'The server stopped while it ran, before its answer was recorded: look in the audit log and the Outgoing page for what it did. It is not run again; propose it again if it is still needed.',
  });
  if (interrupted.length > 0) log.warn('proposals interrupted by a stop', { ids: interrupted });

  const refuse = (code: ContractError['code'], message: string): Result<never> => ({ ok: false, error: { code, message } });
  const failure = (error: unknown): Result<never> => {
    if (error instanceof AppError) return { ok: false, error: error.toContract() };
    log.error('team command failed', { error: (error as Error).message, stack: (error as Error).stack });
    return refuse('INTERNAL', 'The command failed unexpectedly; the details are in the server log.');
  };

  function me(session: Omit<Session, 'token'>) {
    const { person } = session;
    return {
      team: true,
      username: person.username,
      displayName: person.displayName,
      roles: person.roles,
      mustChangePassword: session.mustChangePassword,
      sessionExpiresAt: session.expiresAt,
    };
  }

  async function decide(person: SignedInPerson, input: { id: number; decision: 'approve' | 'reject' | 'withdraw'; reason?: string | undefined }) {
    const proposal = proposals.get(input.id);
    if (!proposal) throw new AppError('NOT_FOUND', `There is no proposal ${input.id}.`);
    if (proposal.status !== 'pending') throw new AppError('CONFLICT', `Proposal ${input.id} was already decided (${proposal.status}).`);
    const mine = proposal.proposedBy === person.accountId;
    if (input.decision === 'withdraw' && !mine) throw new AppError('FORBIDDEN', `Only ${accounts.nameOf(proposal.proposedBy)}, who proposed it, may withdraw proposal ${input.id}.`);
    if (input.decision !== 'withdraw') {
      if (!person.roles.includes('approver')) throw new AppError('FORBIDDEN', `Approving or rejecting a proposal needs the Approver role.`);
      if (mine) throw new AppError('FORBIDDEN', `You proposed ${input.id} yourself: another Approver must decide it (no self-approval).`);
    }
    const status = input.decision === 'approve' ? 'approved' : input.decision === 'reject' ? 'rejected' : 'withdrawn';
    if (!proposals.decide(proposal.id, status, person.accountId, input.reason ?? null)) {
      throw new AppError('CONFLICT', `Proposal ${input.id} was decided by someone else a moment ago.`);
    }
    options.changed?.();
    const actor = personLabel(person);
    options.audit({
      actor,
      action: `proposal.${status}`,
      subject: `proposal:${proposal.id}`,
      after: { command: proposal.command, summary: proposal.summary, proposedBy: accounts.nameOf(proposal.proposedBy) },
      reason: input.reason ?? null,
    });
    if (status === 'approved') {
      // The approver's action: its audit entries name the approver; the one above names the maker too.
      const approval = { proposalId: proposal.id, proposedBy: accounts.nameOf(proposal.proposedBy) };
      const result = await asPerson(person, () => asApproved(approval, () => dispatch(proposal.command, proposal.input)));
      proposals.finish(proposal.id, result.ok, result.ok ? result.data : result.error);
      options.changed?.();
    }
    return proposals.view(proposal.id)!;
  }

  async function teamCommand(session: Omit<Session, 'token'> & { token: string }, command: Command, input: unknown): Promise<unknown> {
    const { person } = session;
    switch (command) {
      case 'team.me':
        return me(session);
      case 'team.changePassword': {
        const { current, next } = input as { current: string; next: string };
        await accounts.changePassword(person.accountId, current, next, session.token);
        options.audit({ actor: personLabel(person), action: 'account.password_changed', subject: `account:${person.username}` });
        return me(accounts.session(session.token)!);
      }
      case 'proposals.list':
        return { proposals: proposals.list((input as { status: 'pending' | 'decided' | 'all' }).status) };
      case 'proposals.decide':
        return decide(person, input as { id: number; decision: 'approve' | 'reject' | 'withdraw'; reason?: string });
      case 'accounts.list':
        return { accounts: accounts.list() };
      case 'accounts.save': {
        const change = input as { username: string; displayName?: string; roles?: (typeof allRoles)[number][]; disabled?: boolean; resetPassword?: boolean };
        const existing = accounts.get(change.username);
        if (existing && change.username.toLowerCase() === person.username.toLowerCase() && (change.disabled || (change.roles && !change.roles.includes('admin')))) {
          throw new AppError('CONFLICT', 'You cannot disable your own account or take away your own Integration admin role: ask another admin.');
        }
        const saved = existing
          ? await accounts.update(change.username, change)
          : await (async () => {
              if (!change.displayName || !change.roles) throw new AppError('VALIDATION', 'A new account needs a display name and at least one role.', [{ path: [change.displayName ? 'roles' : 'displayName'], message: 'required for a new account' }]);
              return accounts.create({ username: change.username, displayName: change.displayName, roles: change.roles }, personLabel(person));
            })();
        options.audit({
          actor: personLabel(person),
          action: existing ? 'account.changed' : 'account.created',
          subject: `account:${saved.account.username}`,
          ...(existing ? { before: { ...existing } } : {}),
          after: { ...saved.account, passwordReset: saved.temporaryPassword !== null },
        });
        return saved;
      }
      default:
        return undefined;
    }
  }

  const teamOnly: ReadonlySet<Command> = new Set(['team.me', 'team.changePassword', 'proposals.list', 'proposals.decide', 'accounts.list', 'accounts.save']);

  return {
    accounts,
    proposals,

    /** On a server with no account yet: an Integration admin (with every role) and its temporary password, once. */
    async ensureFirstAdmin(): Promise<{ username: string; password: string } | null> {
      if (accounts.count() > 0) return null;
      const made = await accounts.create({ username: firstAdmin, displayName: 'Administrator', roles: [...allRoles] }, 'the server, at its first start');
      return { username: firstAdmin, password: made.temporaryPassword };
    },

    signIn: (username: string, password: string) => accounts.signIn(username, password),
    session: (token: string) => accounts.session(token),
    signOut: (token: string) => accounts.signOut(token),

    /** Runs one command for the session's person: roles, maker-checker, then the core. */
    async run(token: string, command: string, rawInput: unknown): Promise<Result<unknown>> {
      const session = accounts.session(token);
      if (!session) return refuse('AUTH', 'Your session has ended or is not valid: sign in again.');
      if (!isCommand(command)) return refuse('NOT_FOUND', `There is no command named "${command}".`);
      const { person } = session;
      if (!mayRun(person.roles, command)) return refuse('FORBIDDEN', refusal(command));
      if (session.mustChangePassword && command !== 'team.me' && command !== 'team.changePassword') {
        return refuse('FORBIDDEN', 'Choose your own password first: the one you signed in with was temporary.');
      }
      if (command === 'settings.setName') return refuse('CONFLICT', "On a team server your name is your account's: an Integration admin changes it under Accounts.");
      const spec = commands[command];
      const parsed = spec.input.safeParse(rawInput ?? {});
      if (teamOnly.has(command) || !parsed.success) {
        // Invalid input is answered by the core's dispatch, the one place that words those errors.
        if (!parsed.success) return asPerson(person, () => dispatch(command, rawInput));
        try {
          return { ok: true, data: spec.output.parse(await teamCommand({ ...session, token }, command, parsed.data)) };
        } catch (error) {
          return failure(error);
        }
      }
      if (command === 'reports.signOff' && (parsed.data as { kind: string }).kind === 'reviewed' && !person.roles.includes('approver')) {
        return refuse('FORBIDDEN', "Reviewing a month's report needs the Approver role.");
      }
      if (command === 'reports.lock') {
        // On a team server a month is locked once a preparer and a reviewer have signed its figures as they stand.
        const period = (parsed.data as { period: string }).period;
        const signed = await asPerson(person, () => dispatch('reports.signOffs', { period }));
        if (!signed.ok) return signed;
        if (!(signed.data as { complete: boolean }).complete) {
          return refuse('CONFLICT', `${period} cannot be locked yet: it needs a preparer's and then a reviewer's sign-off on its figures as they stand.`);
        }
      }
      if (command === 'reports.unlock') {
        // A reopening that could not run is refused now, in the core's words, rather than proposed to fail later.
        const period = (parsed.data as { period: string }).period;
        const listed = await asPerson(person, () => dispatch('reports.list', {}));
        if (!listed.ok) return listed;
        const locked = (listed.data as { periods: { period: string; lock: unknown }[] }).periods.filter((p) => p.lock !== null).map((p) => p.period);
        const problem = reopenRefusal(parsePeriod(period), locked);
        if (problem) return refuse('CONFLICT', problem);
      }
      const summary = needsApproval(command, parsed.data);
      if (summary !== null) {
        const proposal = proposals.propose(command, rawInput ?? {}, summary, person.accountId);
        options.audit({ actor: personLabel(person), action: 'proposal.created', subject: `proposal:${proposal.id}`, after: { command, summary } });
        options.changed?.();
        return {
          ok: false,
          error: { code: 'APPROVAL_REQUIRED', message: `Sent for approval as proposal ${proposal.id}: it runs once another Approver approves it. ${summary}.`, proposalId: proposal.id },
        };
      }
      return asPerson(person, () => dispatch(command, rawInput));
    },
  };
}
export type Team = ReturnType<typeof createTeam>;
