import type { ExceptionRow, Input, ReturnRow, ReturnsGridTable } from '../../../core/contract';

// The contract's closed lists that the filters offer. They are written out here, not imported, because importing
// a value from core/contract brings zod and every schema into the renderer's bundle; the checks below fail the
// type check the moment a list here and the contract's type disagree.

type Same<T, U> = [T] extends [U] ? ([U] extends [T] ? true : false) : false;
type Holds<T extends true> = T;

export const ownerTeams = ['finance', 'cs', 'warehouse', 'ops'] as const;
export const severities = ['critical', 'high', 'medium', 'low'] as const;
export const ageBuckets = ['under_1d', '1_3d', '3_7d', 'over_7d'] as const;
export const exceptionSortFields = ['detectedAt', 'severity', 'type', 'owner', 'slaDueAt', 'updatedAt'] as const;
export const refundStatuses = ['none', 'pending', 'partial', 'refunded', 'over'] as const;
const gridTables = [
  'mirakl_returns',
  'mirakl_return_lines',
  'mirakl_orders',
  'rebound_return_orders',
  'units',
  'stock_increments',
  'recon_verdicts',
  'exceptions',
] as const;
/** The tables the returns grid's rows are read from: a data.changed naming one of them refreshes the grid. */
export const returnsGridTables: readonly string[] = gridTables;

export type ListsMatchContract = [
  Holds<Same<(typeof ownerTeams)[number], ExceptionRow['owner']>>,
  Holds<Same<(typeof severities)[number], ExceptionRow['severity']>>,
  Holds<Same<(typeof ageBuckets)[number], ExceptionRow['ageBucket']>>,
  Holds<Same<(typeof exceptionSortFields)[number], NonNullable<Input<'exceptions.list'>['sort']>['field']>>,
  Holds<Same<(typeof refundStatuses)[number], ReturnRow['refundStatus']>>,
  Holds<Same<(typeof gridTables)[number], ReturnsGridTable>>,
];
