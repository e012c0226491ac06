import type { AuditLog } from '../audit/log';
import type { WritesStatus } from '../contract';
import { AppError } from '../errors';
import type { Clock } from '../ports';
import type { WriteFreezeRepo } from '../store/write-freeze-repo';

// The write freeze (DESIGN row 27) as a person sets and lifts it: one switch for month-end close or an incident.
// While set, the engine sends no call that changes Mirakl or ReBound (core/sync/execute.ts keeps that); it goes on
// reading, and what it plans meanwhile waits, planned. Setting and lifting are audited (who, when, why) in the log the
// Audit page shows, and also in the installation's own log when that is another one (Sandbox mode), where the freeze
// itself is kept. Run on the command queue: a cycle's call already out finishes first, and none starts after.

export interface WriteFreezeServicePorts {
  repo: WriteFreezeRepo;
  audit: AuditLog;
  /** The audit log of the database the freeze is kept in, when it is not `audit`'s. */
  settingsAudit?: AuditLog;
  clock: Clock;
  /** Who acts (read at each action: the name set in Settings can change between two). */
  actor: () => string;
  /** Calls waiting to be sent. */
  waiting: () => number;
  /** What holds refunds and stock updates back by itself (WritesStatus.paused); none when not given. */
  paused?: () => WritesStatus['paused'];
  /** After a change: the sync service is woken (lifted, the waiting calls go out now). */
  changed: () => void;
}

export function createWriteFreezeService(ports: WriteFreezeServicePorts) {
  const { repo, clock, actor } = ports;
  const logs = ports.settingsAudit && ports.settingsAudit !== ports.audit ? [ports.audit, ports.settingsAudit] : [ports.audit];
  const status = (): WritesStatus => ({ frozen: repo.current(), waiting: ports.waiting(), paused: ports.paused?.() ?? [] });
  const record = (action: 'writes.freeze' | 'writes.unfreeze', before: unknown, after: unknown, reason: string) => {
    for (const log of logs) log.append({ actor: actor(), action, subject: 'writes', before, after, reason });
  };
  return {
    status,
    freeze(reason: string): WritesStatus {
      const current = repo.current();
      if (current) throw new AppError('CONFLICT', `Writes are already frozen (by ${current.by} since ${current.at}: ${current.reason}).`);
      const freeze = { at: new Date(clock.now()).toISOString(), by: actor(), reason };
      repo.set(freeze);
      record('writes.freeze', { frozen: null }, { frozen: freeze }, reason);
      ports.changed();
      return status();
    },
    unfreeze(reason: string): WritesStatus {
      const current = repo.current();
      if (!current) throw new AppError('CONFLICT', 'Writes are not frozen.');
      repo.set(null);
      record('writes.unfreeze', { frozen: current }, { frozen: null }, reason);
      ports.changed();
      return status();
    },
  };
}
export type WriteFreezeService = ReturnType<typeof createWriteFreezeService>;
