import { z } from 'zod';

// The money figures every view shows — dashboard, returns grid, report, evidence bundle — each with one definition
// (core/store/money-figures.ts) and the one line that says how it is counted (issue 24). A refund moves
// requested (our call, not answered yet) → accepted by Mirakl, awaiting payment (WAITING_REFUND…) → paid (REFUNDED);
// from the moment Mirakl accepts it, it counts as refunded: the receipt is no longer "not refunded".

const amount = z.object({ count: z.number().int().nonnegative(), minor: z.number().int() });

export const moneyFiguresSchema = z.object({
  currency: z.string(),
  receiptsNotRefunded: amount,
  requested: amount,
  awaitingPayment: amount,
  paid: amount,
  refundsWithoutReceipt: amount,
});
export type MoneyFigures = z.infer<typeof moneyFiguresSchema>;
export type MoneyFigureName = Exclude<keyof MoneyFigures, 'currency'>;

export const moneyFigureLabels: Record<MoneyFigureName, string> = {
  receiptsNotRefunded: 'Receipts not refunded',
  requested: 'Refunds requested',
  awaitingPayment: 'Accepted by Mirakl, awaiting payment',
  paid: 'Paid',
  refundsWithoutReceipt: 'Refunds without receipt',
};

/** How each figure is counted: shown beside it wherever it appears. */
export const moneyFigureHowCounted: Record<MoneyFigureName, string> = {
  receiptsNotRefunded:
    "Units ReBound verified (the SKU sold, registered at the hub) × the line's unit price, less every refund Mirakl holds on that order line — awaiting payment or paid; per order line, never below zero.",
  requested: 'Refunds we asked Mirakl for that it has not answered yet (planned, being sent, or outcome unknown): not counted as refunded.',
  awaitingPayment: 'Refunds Mirakl accepted (WAITING_REFUND) and has not paid yet: counted as refunded, not at risk.',
  paid: 'Refunds Mirakl shows REFUNDED, dated in the period (the dashboard: this month so far).',
  refundsWithoutReceipt: 'Refunds Mirakl shows with no verified receipt behind them, while their exception is open.',
};

/** Which money figure the refund state Mirakl gives a refund falls under. */
export function refundStateStage(state: string | null | undefined): 'awaitingPayment' | 'paid' {
  return state === 'REFUNDED' ? 'paid' : 'awaitingPayment';
}
