import { EmptyState } from '../../app/EmptyState';

export function ExceptionsPage() {
  return (
    <>
      <h1>Exceptions</h1>
      <EmptyState title="No exceptions">
        When Mirakl and ReBound disagree — a refund without a verified receipt, a return that never reached ReBound, a
        stalled parcel or refund, stock Mirakl rejected — each divergence appears here with its owner team, age, cause
        and the one-click actions that resolve it.
      </EmptyState>
    </>
  );
}
