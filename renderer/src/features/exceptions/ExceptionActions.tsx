import type { ExceptionRow } from '../../../../core/contract';
import type { PendingAction } from './ActionDialog';
import { useExceptionsStore, type Help } from './store';

/** The type's own resolutions as buttons: one click runs it, or asks first for what it needs (a reason, an offer). */
export function ExceptionActions({ row, help, onPending, compact = false }: { row: ExceptionRow; help: Help | undefined; onPending(p: PendingAction): void; compact?: boolean }) {
  const act = useExceptionsStore((s) => s.act);
  if (row.state === 'resolved') return null;
  if (!help) return <span className="muted">…</span>;
  return (
    <div className="row-actions" role="group" aria-label={`Actions for exception ${row.id}`}>
      {help.actions.map((a, i) => {
        const asks = a.needsReason || a.id === 'remap';
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
              if (asks) onPending({ ids: [row.id], action: a.id, label: a.label, help: a.help, needsReason: a.needsReason });
              else void act([row.id], a.id, a.label);
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
