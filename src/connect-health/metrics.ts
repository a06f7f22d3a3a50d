/**
 * Prometheus metrics of the sidecar, on a registry of its own (so two sidecars in one process,
 * as in tests, never share series). Label values are bounded: connector names are what the
 * worker runs, states and error kinds are closed lists.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectErrorKind } from './client.js';
import { CONNECTOR_STATES, TASK_STATES, type ConnectorStatus } from './types.js';

/** The sidecar's metrics. */
export class ConnectHealthMetrics {
  readonly registry = new Registry();
  private readonly connectorState: Gauge<'connector' | 'state'>;
  private readonly taskState: Gauge<'connector' | 'task' | 'state'>;
  private readonly pollErrors: Counter<'kind'>;
  private readonly pollDuration: Histogram;
  private readonly lastSuccess: Gauge;
  private readonly restarts: Counter<'connector'>;

  /** `healthy` is asked at every scrape, so the gauge agrees with what /health answers then. */
  constructor(healthy: () => boolean, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.connectorState = new Gauge({
      name: 'herald_connect_connector_state',
      help: 'Kafka Connect connector state: 1 for the current state, 0 for the others',
      labelNames: ['connector', 'state'],
      registers,
    });
    this.taskState = new Gauge({
      name: 'herald_connect_task_state',
      help: 'Kafka Connect task state: 1 for the current state, 0 for the others',
      labelNames: ['connector', 'task', 'state'],
      registers,
    });
    this.pollErrors = new Counter({
      name: 'herald_connect_poll_errors_total',
      help: 'Polls of the Kafka Connect REST API that failed, by kind (unreachable, timeout, http, invalid_response)',
      labelNames: ['kind'],
      registers,
    });
    // Zero series from the start, so rate() and alerts work before the first error.
    for (const kind of ['unreachable', 'timeout', 'http', 'invalid_response'] satisfies ConnectErrorKind[]) this.pollErrors.inc({ kind }, 0);
    this.pollDuration = new Histogram({
      name: 'herald_connect_poll_duration_seconds',
      help: 'Time taken by one poll of the Kafka Connect REST API',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'herald_connect_last_success_timestamp_seconds',
      help: 'Unix time of the last successful poll of the Kafka Connect REST API',
      registers,
    });
    this.restarts = new Counter({
      name: 'herald_connect_restarts_total',
      help: 'Restarts of failed connectors and tasks requested by --restart-failed',
      labelNames: ['connector'],
      registers,
    });
    new Gauge({
      name: 'herald_connect_healthy',
      help: '1 when /health answers 200, else 0',
      registers,
      collect() {
        this.set(healthy() ? 1 : 0);
      },
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Replaces the state series with the ones of this poll (deleted connectors disappear). */
  setStatuses(statuses: Iterable<ConnectorStatus>, at: number): void {
    this.connectorState.reset();
    this.taskState.reset();
    for (const s of statuses) {
      for (const state of CONNECTOR_STATES) this.connectorState.set({ connector: s.name, state }, s.connector.state === state ? 1 : 0);
      for (const t of s.tasks) {
        for (const state of TASK_STATES) this.taskState.set({ connector: s.name, task: String(t.id), state }, t.state === state ? 1 : 0);
      }
    }
    this.lastSuccess.set(at / 1000);
  }

  /** Records one poll's duration, and its error kind when it failed. */
  observePoll(seconds: number, error?: ConnectErrorKind): void {
    this.pollDuration.observe(seconds);
    if (error !== undefined) this.pollErrors.inc({ kind: error });
  }

  /** Counts one restart requested for `connector`. */
  countRestart(connector: string): void {
    this.restarts.inc({ connector });
  }
}
