import type { ReturnOrderSnapshot } from '../ledger/units';

// What the engine needs from ReBound. core/rebound's client implements it; keeping the engine on this narrow
// interface keeps the modelled contract (specs NOTES §6) swappable when ReBound's real API is known.
export interface SalesOrderInput {
  clientOrderId: string;
  clientOrderCreatedDate: string;
  businessUnit: string;
  customerAddress: { name: string; line1: string; city: string; postcode: string; countryCode: string };
  salesItems: {
    clientItemId: string;
    sku: string;
    articleDescription: string;
    quantity: string;
    commercialValue: string;
    commercialValueCurrency: string;
  }[];
  clientMetadata: { key: string; value: string }[];
}

export interface ReturnOrderInput {
  clientOrderId: string;
  items: { clientItemId: string; sku: string; quantity: string; reasonCode: string; wish: 'REFUND' }[];
}

/** A return order that changed, as ReBound lists them for a window of time (ids, status, updatedAt: no items). */
export interface ReturnOrderChange {
  reboundOrderId: string;
  clientOrderId: string | null;
  status: string;
  updatedAt: string;
}

export interface ReboundApi {
  createSalesOrder(order: SalesOrderInput): Promise<{ created: boolean }>;
  createReturnOrder(request: ReturnOrderInput): Promise<ReturnOrderSnapshot>;
  listReturnOrders(clientOrderId: string): Promise<ReturnOrderSnapshot[]>;
  getReturnOrder(reboundOrderId: string): Promise<ReturnOrderSnapshot | null>;
  /**
   * One page of the return orders changed since `updatedFrom` (ReBound's clock), oldest change first (specs NOTES §6.2,
   * a modelled endpoint: for polling where no notification can reach this machine). `nextPage` is null on the last.
   */
  changedReturnOrders(updatedFrom: string, page?: number): Promise<{ changes: ReturnOrderChange[]; nextPage: number | null }>;
}
