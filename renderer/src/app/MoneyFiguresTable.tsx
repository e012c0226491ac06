import { moneyFigureHowCounted, moneyFigureLabels, type MoneyFigureName, type MoneyFigures } from '../../../core/contract';
import { formatMoney } from './format';

const order: MoneyFigureName[] = ['receiptsNotRefunded', 'requested', 'awaitingPayment', 'paid', 'refundsWithoutReceipt'];

/**
 * The money figures (one definition each, core/contract/money.ts) per currency, each with how it is counted: the
 * dashboard, the Reports page and an evidence bundle all show this same table.
 */
export function MoneyFiguresTable({ figures, label, paidNote }: { figures: MoneyFigures[]; label: string; paidNote?: string }) {
  if (figures.length === 0) return <p className="muted">No money to show: no verified receipt, refund or refund request.</p>;
  return (
    <table className="facts compact money-figures" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Figure</th>
          {figures.map((m) => (
            <th scope="col" key={m.currency}>
              {m.currency}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {order.map((name) => (
          <tr key={name}>
            <th scope="row">
              {moneyFigureLabels[name]}
              <div className="muted small-text how-counted">{name === 'paid' && paidNote ? `${moneyFigureHowCounted[name]} ${paidNote}` : moneyFigureHowCounted[name]}</div>
            </th>
            {figures.map((m) => (
              <td key={m.currency} className={name === 'refundsWithoutReceipt' && m[name].minor > 0 ? 'error' : undefined}>
                {formatMoney(m[name].minor, m.currency)}
                <div className="muted small-text">{m[name].count} {name === 'receiptsNotRefunded' ? 'order line(s)' : 'refund(s)'}</div>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
