/** What every route group receives from buildApp(). */
import type { HeraldConfig } from '../config/schema.js';
import type { HeraldEvent } from '../events/schema.js';
import type { Logger } from '../log.js';
import type { SinkStatus } from '../sinks/types.js';
import type { EventStore } from '../store/types.js';
import type { ApiMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';

/** The outbox's face towards the API: which sinks an event goes to, and their status. */
export interface SinkRouting {
  /** Status of every configured sink (GET /v2/sinks). */
  status(): Promise<SinkStatus[]>;
  /** The sinks that must deliver this event (outbox rows are written for them). */
  sinkNames(event: HeraldEvent): readonly string[];
}

export interface ApiContext {
  readonly store: EventStore;
  readonly config: HeraldConfig;
  readonly logger: Logger;
  readonly sinks: SinkRouting | undefined;
  readonly metrics: ApiMetrics;
  /** Redacts an event before it is stored. */
  readonly redactEvent: (event: HeraldEvent) => HeraldEvent;
  /** Redacts a JSON value (entity attributes). */
  readonly redactValue: (value: unknown) => unknown;
  /** Wakes live streams after this process stored events. */
  readonly notifier: Notifier;
}
