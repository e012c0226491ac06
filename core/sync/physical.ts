// Moved to core/ledger/units.ts (the ledger is the only writer of units); kept while the chaos harness, changed
// beside this, still imports it here.
export * from '../ledger/units';
