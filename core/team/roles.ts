import { roleLabels, roles, type Command, type Role } from '../contract';

// Who may run what on a team server, command by command. Checked on the server for every request: a command not in
// a person's roles is refused (403) before its input is even parsed. Roles add up: a person may hold several.
//
// - Viewer: reads everything (grids, exceptions, reports, audit), changes nothing.
// - Analyst: works the queue: exceptions, matches, refunds the guards allow, month-end reports and locks; proposes
//   the changes a second person must approve (a refund overriding a guard, mapping, policy and tolerance edits).
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

/** Why `command` is refused to these roles, naming the roles that may run it. */
export function refusal(command: Command): string {
  const allowed = commandRoles[command].map((r) => roleLabels[r]).join(', ');
  return `Your role does not allow ${command}. It needs one of: ${allowed}. An Integration admin can change your roles.`;
}

/**
 * The changes finance expects a second person to approve (maker-checker), with one line saying what each would do;
 * null for a command that runs at once. The input has been validated by the contract.
 */
export function needsApproval(command: Command, input: unknown): string | null {
  const value = input as Record<string, unknown>;
  switch (command) {
    case 'refunds.refundNow': {
      const override = value.override as { reason?: string } | undefined;
      return override ? `Refund line ${String(value.orderLineId)} of return ${String(value.returnId)} now, overriding its guard: ${override.reason ?? ''}` : null;
    }
    case 'mappings.save':
      return `Save the ${String(value.file)} mapping file${value.reason ? `: ${String(value.reason)}` : ''}`;
    case 'settings.setCadences': {
      const { reason, ...cadences } = value;
      const changes = Object.entries(cadences)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} = ${String(v)}`)
        .join(', ');
      return `Change the sync cadences (${changes})${reason ? `: ${String(reason)}` : ''}`;
    }
    default:
      return null;
  }
}
