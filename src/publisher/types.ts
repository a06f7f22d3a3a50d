/**
 * The library publisher's contracts. A Publisher validates events once (id and time assigned
 * exactly once) and hands them to a Dispatcher, which decides how they reach the sinks:
 * directly (this module) or durably through an SQL outbox (the outbox module), so both modes
 * share validation, encoding and the public API.
 */
import type { SinkConfig } from '../config/schema.js';
import type { EventInput, HeraldEvent } from '../events/schema.js';
import type { Logger } from '../log.js';
import type { Sink } from '../sinks/types.js';

/** Delivers validated events. Resolves once every event is delivered (direct) or durably stored (outbox). */
export interface Dispatcher {
  dispatch(events: readonly HeraldEvent[]): Promise<void>;
  /** Flushes and releases everything (sinks, store). Idempotent. */
  close(): Promise<void>;
}

/** Everything a dispatcher factory gets. */
export interface DispatcherContext {
  sinks: readonly SinkConfig[];
  logger: Logger;
  /** Builds a sink from its config (tests may pass their own). */
  createSink: (config: SinkConfig) => Sink;
}

export interface PublisherOptions {
  /** The sinks, in the config file's form (`type`, `brokers`, `profile`, `topic`, ...). */
  sinks: SinkConfig[];
  logger?: Logger;
  /**
   * Durable mode: events are first written to this store's outbox, and a relay publishes them
   * (`{ store: 'sqlite:./herald.db' }` or a postgres:// URL). Without it, emit() resolves after
   * the brokers acknowledged.
   */
  durable?: { store: string; [option: string]: unknown };
  /** A dispatcher of your own (overrides `durable`); the publisher closes it on close(). */
  dispatcher?: Dispatcher;
}

export interface Publisher {
  /** Validates, delivers and returns the canonical event (with its id and time). */
  emit(input: EventInput | HeraldEvent): Promise<HeraldEvent>;
  /** Validates all first (nothing is sent when one is invalid), then delivers them in order. */
  emitMany(inputs: readonly (EventInput | HeraldEvent)[]): Promise<HeraldEvent[]>;
  /** Flushes and disconnects. Idempotent; emit() after close() rejects with CLOSED. */
  close(): Promise<void>;
}

/**
 * The factory the outbox module provides for durable mode (module `src/outbox/dispatcher.ts`,
 * export `createDurableDispatcher`).
 */
export type DurableDispatcherFactory = (ctx: DispatcherContext & { durable: NonNullable<PublisherOptions['durable']> }) => Promise<Dispatcher>;
