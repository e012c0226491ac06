// Moved to core/ledger/intents.ts (the ledger is the only writer of intents); kept while the stock feed is rewritten.
export * from '../ledger/intents';
