import type { ActionId, ExceptionAction, ExceptionRow } from '../../../../core/contract';
import type { PendingAction } from './ActionDialog';
import { useExceptionsStore } from './store';
import { useCan } from '../team/store';

/** The resolutions the server offers now for this exception (what it would refuse is not shown). */
export function offeredResolutions(offers: ExceptionAction[] | undefined): ExceptionAction[] {
  return (offers ?? []).filter((a) => a.kind === 'resolution' && a.isAllowed);
}

/** Whether the action asks something first (a reason for the audit log, an offer SKU) before it runs. */
export const asksFirst = (a: ExceptionAction) => a.needsReason || a.needsOfferSku;

export function pendingOf(ids: number[], a: ExceptionAction): PendingAction {
  return { ids, action: a.id as ActionId, label: a.label, help: a.help, needsReason: a.needsReason };
}

/**
 * Whether the person's roles allow an exception action, by the command that runs it (resolve, assign and snooze have
 * their own; the type's resolutions run through exceptions.act), and if not, why.
 */
export function useMayRun(): (actionId: string) => { isAllowed: boolean; whyNot: string | null } {
  const byCommand = {
    resolve: useCan('exceptions.resolve'),
    assign: useCan('exceptions.assign'),
    snooze: useCan('exceptions.snooze'),
    act: useCan('exceptions.act'),
  };
  return (actionId) => (actionId === 'resolve' || actionId === 'assign' || actionId === 'snooze' ? byCommand[actionId] : byCommand.act);
}

/** The type's resolutions that can run now, as buttons: one click runs it, or asks first for what it needs. */
export function ExceptionActions({ row, offers, onPending, compact = false }: { row: ExceptionRow; offers: ExceptionAction[] | undefined; onPending(p: PendingAction): void; compact?: boolean }) {
  const act = useExceptionsStore((s) => s.act);
  const mayAct = useCan('exceptions.act');
  if (row.state === 'resolved') return null;
  if (!offers) return <span className="muted">…</span>;
  const offered = offeredResolutions(offers);
  if (offered.length === 0) return compact ? <span className="muted">—</span> : null;
  if (!mayAct.isAllowed) return <span className="muted small-text" title={mayAct.whyNot ?? undefined}>{compact ? '—' : `Acting on it: ${mayAct.whyNot}`}</span>;
  return (
    <div className="row-actions" role="group" aria-label={`Actions for exception ${row.id}`}>
      {offered.map((a, i) => {
        const asks = asksFirst(a);
        return (
          <button
            key={a.id}
            type="button"
            className={compact ? 'small' : undefined}
            title={`${a.help}${compact ? ` (key ${i + 1})` : ''}`}
            aria-label={`${a.label}${asks ? '…' : ''} (exception ${row.id})`}
            data-action={a.id}
            onClick={(e) => {
              e.stopPropagation();
              if (asks) onPending(pendingOf([row.id], a));
              else void act([row.id], a.id as ActionId, a.label);
            }}
          >
            {a.label}
            {asks ? '…' : ''}
          </button>
        );
      })}
    </div>
  );
}

/** What the exception does not offer now, and why: so nobody wonders where a button went. */
export function WithheldActions({ offers }: { offers: ExceptionAction[] | undefined }) {
  const withheld = (offers ?? []).filter((a) => a.kind === 'resolution' && !a.isAllowed);
  if (withheld.length === 0) return null;
  return (
    <ul className="withheld muted small-text" aria-label="Not available now">
      {withheld.map((a) => (
        <li key={a.id} data-withheld={a.id}>
          <strong>{a.label}</strong> is not available now: {a.whyNot}
        </li>
      ))}
    </ul>
  );
}
