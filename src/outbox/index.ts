/** The durable outbox: its tables, the relays, retention. */
export { createOutbox, type Outbox, type OutboxOptions } from './outbox.js';
export { outboxSchema, type OutboxTables, type OutboxDatabase, type OutboxDb } from './schema.js';
export type { ParkedEntry } from './sql.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { FailureLog, formatDuration } from './failure-log.js';
export { startHousekeeping, type Housekeeping, type HousekeepingOptions } from './housekeeping.js';
export { decideRound, encodeBatch, wholeBatchFailed, type OutboxEntry, type RoundResult, type EncodedBatch } from './plan.js';
export { OutboxMetrics } from './metrics.js';
