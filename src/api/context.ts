/** What every route group receives from buildApp(). */
import type { HeraldConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Ingest } from '../pipeline/ingest.js';
import type { EventStore } from '../store/types.js';
import type { SinkStatus } from '../transports/types.js';
import type { ApiMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';

/** The sinks' status as the outbox reports it (GET /v2/sinks, the console). */
export interface SinkStatusSource {
  status(): Promise<SinkStatus[]>;
}

export interface ApiContext {
  readonly store: EventStore;
  /** Where every write goes: validation, redaction, limits, store and outbox. */
  readonly ingest: Ingest;
  readonly config: HeraldConfig;
  readonly logger: Logger;
  readonly sinks: SinkStatusSource | undefined;
  readonly metrics: ApiMetrics;
  /** Wakes live streams after this process stored events. */
  readonly notifier: Notifier;
}
