import { EmptyState } from '../../app/EmptyState';

export function ReportsPage() {
  return (
    <>
      <h1>Reports</h1>
      <EmptyState title="No reports yet">
        Month-end reconciliation reports appear here: refunds matched to verified receipts, receipts awaiting refund,
        stock restored per offer and open exceptions, exportable as CSV, XLSX and PDF, with an evidence bundle for
        offline review and a lock to close the period.
      </EmptyState>
    </>
  );
}
