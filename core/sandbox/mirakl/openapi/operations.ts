// The Mirakl seller operations the workbench calls. derive.ts keeps exactly these from the vendor spec,
// and refuses to run if one of them has moved, so a renamed path is caught when the spec is refreshed.
export const MIRAKL_OPERATIONS = {
  A01: { method: 'get', path: '/api/account' },
  V01: { method: 'get', path: '/api/version' },
  RT11: { method: 'get', path: '/api/returns' },
  RT04: { method: 'put', path: '/api/returns' },
  RT21: { method: 'put', path: '/api/returns/accept' },
  RT25: { method: 'put', path: '/api/returns/receive' },
  RT26: { method: 'put', path: '/api/returns/compliance' },
  RT27: { method: 'put', path: '/api/returns/close' },
  RT29: { method: 'put', path: '/api/returns/cancel' },
  OR11: { method: 'get', path: '/api/orders' },
  OR28: { method: 'put', path: '/api/orders/refund' },
  RE01: { method: 'get', path: '/api/reasons' },
  OF21: { method: 'get', path: '/api/offers' },
  OF52: { method: 'post', path: '/api/offers/export/async' },
  OF53: { method: 'get', path: '/api/offers/export/async/status/{tracking_id}' },
  STO01: { method: 'post', path: '/api/offers/stock/imports' },
  STO02: { method: 'get', path: '/api/offers/stock/imports/{import_id}/status' },
  STO03: { method: 'get', path: '/api/offers/stock/imports/{import_id}/error_report' },
} as const satisfies Record<string, { method: 'get' | 'put' | 'post'; path: string }>;

export type MiraklOperationId = keyof typeof MIRAKL_OPERATIONS;

export const MIRAKL_OPERATION_IDS = Object.keys(MIRAKL_OPERATIONS) as MiraklOperationId[];

export const isMiraklOperationId = (value: string): value is MiraklOperationId => Object.hasOwn(MIRAKL_OPERATIONS, value);
