import { commandRoles, roleLabels, type Command } from '../contract';
import { parsePeriod } from '../report/period';

// Who may run what is the contract's table (core/contract/permissions.ts), so the renderer hides exactly what the
// server refuses; here, how a refusal is worded and which changes need a second person.

export { commandRoles, mayRun } from '../contract';

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
    case 'reports.unlock':
      return `Reopen ${parsePeriod(String(value.period)).label} (a locked month): ${String(value.reason)}`;
    default:
      return null;
  }
}
