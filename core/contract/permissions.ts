import type { Command } from './commands';
import { roleLabels, roles, type Role } from './team';

// Who may run what on a team server, command by command. The server checks it for every request (core/team/team.ts:
// a command not in a person's roles is refused, 403, before its input is even parsed); the renderer reads the same
// table only to hide or disable what a person cannot use. Roles add up: a person may hold several.
//
// - Viewer: reads everything (grids, exceptions, reports, audit), changes nothing.
// - Analyst: works the queue: exceptions, matches, refunds the guards allow, month-end reports and locks; proposes
//   the changes a second person must approve (a refund overriding a guard, mapping, policy and tolerance edits,
//   reopening a locked month).
// - Approver: what an analyst does, and approves or rejects other people's proposals (never their own).
// - Integration admin: connections and their secrets, the sync's pause, lifting a write freeze, accounts; proposes
//   mapping and policy changes like an analyst.

const everyone: readonly Role[] = roles;
const workers: readonly Role[] = ['analyst', 'approver'];
const configurers: readonly Role[] = ['analyst', 'approver', 'admin'];
const admins: readonly Role[] = ['admin'];

export const commandRoles: Record<Command, readonly Role[]> = {
  'app.info': everyone,
  'sync.status': everyone,
  'sync.pause': admins,
  'sync.resume': admins,
  'sync.runNow': configurers,
  'settings.get': everyone,
  'settings.saveConnections': admins,
  'settings.testConnection': admins,
  'settings.setName': everyone,
  'settings.setCadences': configurers,
  'mappings.get': everyone,
  'mappings.preview': configurers,
  'mappings.save': configurers,
  'mappings.reasons': everyone,
  'audit.list': everyone,
  'audit.verify': everyone,
  'returns.list': everyone,
  'returns.explain': everyone,
  'refunds.explainGuard': everyone,
  'refunds.refundNow': workers,
  'exceptions.list': everyone,
  'exceptions.get': everyone,
  'exceptions.help': everyone,
  'exceptions.actions': everyone,
  'exceptions.act': workers,
  'exceptions.resolve': workers,
  'exceptions.assign': workers,
  'exceptions.comment': workers,
  'exceptions.notes': everyone,
  'exceptions.snooze': workers,
  'exceptions.reopen': workers,
  'matches.decide': workers,
  'matches.suggestions': everyone,
  'outgoing.list': everyone,
  'writes.status': everyone,
  // Stopping every write is an emergency brake anyone who works the queue may pull; lifting it is the admin's.
  'writes.freeze': configurers,
  'writes.unfreeze': admins,
  'dashboard.kpis': everyone,
  'guide.get': everyone,
  'reports.list': everyone,
  'reports.get': everyone,
  'reports.generate': workers,
  'reports.file': everyone,
  'reports.lock': workers,
  // Proposing a reopening; on a team server it runs once another Approver approves it (core/team/roles.ts).
  'reports.unlock': workers,
  'reports.signOffs': everyone,
  // Preparing: an analyst or approver; reviewing needs the Approver role (checked by the team for kind 'reviewed').
  'reports.signOff': workers,
  'team.me': everyone,
  'team.changePassword': everyone,
  'proposals.list': everyone,
  'proposals.decide': everyone, // approve/reject need 'approver', withdraw only the proposer: checked by the decision
  'accounts.list': admins,
  'accounts.save': admins,
  // The desktop probes a server before connecting to it; on a server it would let people make the server reach any
  // address on its own network and say what answers there, so only an admin may, and nobody needs to.
  'team.probe': admins,
  'team.connect': admins, // the core refuses it anyway: only the desktop's main process connects
};

export function mayRun(personRoles: readonly Role[], command: Command): boolean {
  return commandRoles[command].some((role) => personRoles.includes(role));
}

/** The roles that may run `command`, in words: "Analyst or Approver". */
export function rolesAllowed(command: Command): string {
  const labels = commandRoles[command].map((r) => roleLabels[r]);
  return labels.length > 1 ? `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}` : (labels[0] ?? 'nobody');
}
