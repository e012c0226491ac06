import { useAppStore } from './store';

// One place where the outcome of every action is said: confirmations politely, refusals as alerts.
export function Notices() {
  const notices = useAppStore((s) => s.notices);
  const dismiss = useAppStore((s) => s.dismiss);
  return (
    <div className="notices" aria-label="Messages">
      <div role="status" aria-live="polite" className="notices-list">
        {notices
          .filter((n) => n.kind !== 'error')
          .map((n) => (
            <p key={n.id} className={`notice notice-${n.kind}`} data-testid={`notice-${n.kind}`}>
              <span>{n.text}</span>
              <button type="button" className="link" aria-label="Dismiss message" onClick={() => dismiss(n.id)}>
                ×
              </button>
            </p>
          ))}
      </div>
      <div role="alert" className="notices-list">
        {notices
          .filter((n) => n.kind === 'error')
          .map((n) => (
            <p key={n.id} className="notice notice-error" data-testid="notice-error">
              <span>{n.text}</span>
              <button type="button" className="link" aria-label="Dismiss message" onClick={() => dismiss(n.id)}>
                ×
              </button>
            </p>
          ))}
      </div>
    </div>
  );
}
