import { useState } from 'react';
import type { ActionId } from '../../../../core/contract';
import { Dialog } from '../../app/Dialog';

export interface PendingAction {
  ids: number[];
  /** A catalogue action, or the manual resolve, assign and snooze every exception offers. */
  action: ActionId | 'resolve' | 'assign' | 'snooze';
  label: string;
  help?: string;
  needsReason: boolean;
}

export interface ActionAnswer {
  reason: string;
  offerSku: string;
  assignee: string;
  until: string;
}

const inOneDay = (serverNow: string | null) => {
  const base = serverNow ? Date.parse(serverNow) : Date.now();
  const d = new Date(base + 86_400_000);
  // <input type="datetime-local"> wants local time without a zone.
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** Asks for what an action needs (a reason kept in the audit log, an offer SKU, an assignee, a date) before it runs. */
export function ActionDialog({
  pending,
  serverNow,
  onCancel,
  onConfirm,
}: {
  pending: PendingAction;
  serverNow: string | null;
  onCancel(): void;
  onConfirm(answer: ActionAnswer): Promise<boolean>;
}) {
  const [answer, setAnswer] = useState<ActionAnswer>({ reason: '', offerSku: '', assignee: '', until: inOneDay(serverNow) });
  const [problem, setProblem] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const count = pending.ids.length;
  const target = count === 1 ? `exception ${pending.ids[0]}` : `${count} exceptions`;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (pending.needsReason && answer.reason.trim().length < 3) return setProblem('Give a reason of at least 3 characters: it is kept in the audit log.');
    if (pending.action === 'remap' && !answer.offerSku.trim()) return setProblem('Give the Mirakl offer SKU the returned units should restock.');
    if (pending.action === 'assign' && !answer.assignee.trim()) return setProblem('Give the name of the person to assign to.');
    if (pending.action === 'snooze' && !answer.until) return setProblem('Choose until when to snooze.');
    setProblem(null);
    setBusy(true);
    // Done or refused, the server has answered: the dialog closes, and the answer (a refusal with its reason) is shown
    // where the action was started, not left open for a retry that would be refused again.
    await onConfirm(answer);
    setBusy(false);
    onCancel();
  };
  const field = (key: keyof ActionAnswer) => ({
    value: answer[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setAnswer({ ...answer, [key]: e.target.value }),
  });

  return (
    <Dialog title={`${pending.label} — ${target}`} onClose={onCancel}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {pending.help && <p className="muted">{pending.help}</p>}
        {pending.action === 'remap' && (
          <label>
            Mirakl offer SKU to restock
            <input {...field('offerSku')} autoFocus required />
          </label>
        )}
        {pending.action === 'assign' && (
          <label>
            Assign to
            <input {...field('assignee')} autoFocus required placeholder="name or email" />
          </label>
        )}
        {pending.action === 'snooze' && (
          <label>
            Snooze until
            <input type="datetime-local" {...field('until')} required />
          </label>
        )}
        {(pending.needsReason || pending.action === 'snooze' || pending.action === 'remap') && (
          <label>
            Reason{pending.needsReason ? ' (kept in the audit log)' : ' (optional)'}
            <textarea {...field('reason')} rows={3} autoFocus={pending.action !== 'remap' && pending.action !== 'snooze'} required={pending.needsReason} />
          </label>
        )}
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        <div className="row-actions">
          <button type="submit" className="primary" disabled={isBusy}>
            {isBusy ? 'Working…' : `${pending.label}${count > 1 ? ` (${count})` : ''}`}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Runs a pending action through the store with what the dialog collected. */
export function runPending(
  pending: PendingAction,
  answer: ActionAnswer,
  store: {
    act(ids: number[], action: ActionId, label: string, o: { reason?: string; offerSku?: string }): Promise<boolean>;
    resolve(ids: number[], reason: string): Promise<boolean>;
    assign(ids: number[], assignee: string | null): Promise<boolean>;
    snooze(ids: number[], until: string, reason?: string): Promise<boolean>;
  },
): Promise<boolean> {
  switch (pending.action) {
    case 'resolve':
      return store.resolve(pending.ids, answer.reason);
    case 'assign':
      return store.assign(pending.ids, answer.assignee.trim());
    case 'snooze':
      return store.snooze(pending.ids, new Date(answer.until).toISOString(), answer.reason);
    default:
      return store.act(pending.ids, pending.action, pending.label, { reason: answer.reason, offerSku: answer.offerSku });
  }
}
