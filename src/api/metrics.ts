/**
 * The service's own Prometheus metrics, on a registry per app (never prom-client's global
 * one, so several apps in one process, e.g. tests, do not collide). Labels are bounded:
 * method, the route pattern (not the URL) and the status code.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly eventsAccepted: Counter;
  readonly stateChanges: Counter;
}

/** Creates the API metrics on `registry` (a new one with default process metrics when omitted). */
export function createApiMetrics(registry?: Registry): ApiMetrics {
  const reg = registry ?? new Registry();
  if (registry === undefined) collectDefaultMetrics({ register: reg });
  return {
    registry: reg,
    httpRequests: new Counter({ name: 'herald_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [reg] }),
    httpDuration: new Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [reg],
    }),
    eventsAccepted: new Counter({ name: 'herald_events_accepted_total', help: 'Events accepted by POST /v2/events (durably stored)', registers: [reg] }),
    stateChanges: new Counter({ name: 'herald_entity_state_changes_total', help: 'Entity state updates by PUT /v2/entities/{kind}/{id}/state', registers: [reg] }),
  };
}
