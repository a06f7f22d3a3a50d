/** The durable outbox: relays, the durable dispatcher for the library, retention. */
export { createOutbox, serviceOutbox, outboxFactory, type Outbox, type OutboxOptions, type OutboxConfig, type SinkFactory } from './outbox.js';
export type { ParkedEntry } from './sql.js';
export { createDurableDispatcher, openDurableDispatcher, type DurableDispatcher, type DurableOptions } from './dispatcher.js';
export { sinkAccepts, sinkNamesFor } from './filter.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { FailureLog, formatDuration } from './failure-log.js';
export { startHousekeeping, type Housekeeping, type HousekeepingOptions } from './housekeeping.js';
export { outboxMigrations, ensureOutboxSchema } from './migrations.js';
export { decideRound, encodeBatch, wholeBatchFailed, type OutboxEntry, type RoundResult, type EncodedBatch } from './plan.js';
export { OutboxMetrics } from './metrics.js';
