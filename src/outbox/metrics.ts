/**
 * Prometheus metrics of the relays. Counters and the latency histogram count what this
 * process did; the backlog gauges (pending, parked, oldest age) are read from the store when
 * scraped, so every replica reports the same shared backlog.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SinkStatus } from '../transports/types.js';

export class OutboxMetrics {
  readonly delivered: Counter<'sink'>;
  readonly failed: Counter<'sink'>;
  readonly retries: Counter<'sink'>;
  readonly parked: Counter<'sink'>;
  readonly tableReads: Counter<'sink'>;
  readonly publishSeconds: Histogram<'sink'>;
  private cache: { at: number; value: Promise<SinkStatus[]> } | undefined;

  constructor(readonly registry: Registry, status: () => Promise<SinkStatus[]>) {
    // One store round trip serves all gauges of a scrape.
    const current = (): Promise<SinkStatus[]> => {
      const now = Date.now();
      if (this.cache === undefined || now - this.cache.at > 1000) {
        this.cache = { at: now, value: status().catch(() => []) };
      }
      return this.cache.value;
    };
    const gauge = (name: string, help: string, pick: (s: SinkStatus) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['sink'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          for (const s of await current()) {
            const v = pick(s);
            if (v !== null) this.set({ sink: s.name }, v);
          }
        },
      });
    gauge('herald_outbox_pending', 'Outbox entries waiting for delivery, per sink', (s) => s.pending);
    gauge('herald_outbox_parked', 'Outbox entries rejected permanently by the broker and kept with their error', (s) => s.parked);
    gauge('herald_outbox_oldest_pending_age_seconds', 'Age of the oldest undelivered outbox entry', (s) => s.oldestPendingAgeSeconds);
    gauge('herald_sink_connected', '1 when the sink\'s last connect or publish succeeded', (s) => (s.connected ? 1 : 0));
    gauge('herald_sink_enabled', '1 when the sink relays (streaming on and the sink enabled)', (s) => (s.enabled ? 1 : 0));
    this.delivered = new Counter({ name: 'herald_outbox_delivered_total', help: 'Outbox entries delivered (acknowledged by the broker)', labelNames: ['sink'], registers: [registry] });
    this.failed = new Counter({ name: 'herald_outbox_failed_total', help: 'Delivery attempts of outbox entries that failed', labelNames: ['sink'], registers: [registry] });
    this.retries = new Counter({ name: 'herald_outbox_retries_total', help: 'Outbox entries re-sent after a failed attempt', labelNames: ['sink'], registers: [registry] });
    this.parked = new Counter({ name: 'herald_outbox_parked_total', help: 'Outbox entries parked after a permanent rejection', labelNames: ['sink'], registers: [registry] });
    this.tableReads = new Counter({ name: 'herald_outbox_table_reads_total', help: 'Pages of entries a relay read back from the outbox table (start-up, recovery, entries written elsewhere); entries handed over in memory after their commit are not counted', labelNames: ['sink'], registers: [registry] });
    this.publishSeconds = new Histogram({
      name: 'herald_outbox_publish_duration_seconds',
      help: 'Time from publish to broker acknowledgement of one batch',
      labelNames: ['sink'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }
}
