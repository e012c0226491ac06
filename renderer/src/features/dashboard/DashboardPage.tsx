import { useEffect } from 'react';
import { EmptyState } from '../../app/EmptyState';
import { useDashboardStore } from './store';

const stateLabel = { idle: 'Idle', running: 'Running', paused: 'Paused', stopped: 'Not running' } as const;

export function DashboardPage() {
  const { status, error, isLoading, load } = useDashboardStore();
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <h1>Dashboard</h1>
      {error && <p className="error" role="alert">Could not read sync status: {error.message}</p>}
      {isLoading && !status && <p>Loading sync status…</p>}
      {status && (
        <table className="facts" aria-label="Sync">
          <tbody>
            <tr>
              <th scope="row">Sync</th>
              <td data-testid="sync-state">{stateLabel[status.state]}</td>
            </tr>
            {status.feeds.map((f) => (
              <tr key={f.feed}>
                <th scope="row">{f.label}</th>
                <td>
                  {f.lastSuccessAt ? `last success ${f.lastSuccessAt}` : 'never succeeded'}
                  {f.lastError ? ` — last error: ${f.lastError}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {status && status.feeds.length === 0 && (
        <EmptyState title="No sync has run yet">
          Once sync runs, this page shows open exceptions by owner and age, refunds pending versus confirmed, money at
          risk, and the health of each feed (Mirakl returns, orders and refunds, ReBound events, stock) with its last
          successful poll.
        </EmptyState>
      )}
    </>
  );
}
