export { createReboundSim, type ReboundSim, type ReboundSimOptions } from './sim';
export { startReboundServer, defaultReboundBudgets, REBOUND_CLIENT_BUDGET, type ReboundServerOptions } from './server';
export { signReboundPayload, verifyReboundSignature } from './signature';
export { httpWebhookTransport, type WebhookRequest, type WebhookTransport } from './transport';
export { defaultPhysicalTuning, type PhysicalTuning } from './physical';
export { retryDelaysMs } from './outbox';
export * from './model';
