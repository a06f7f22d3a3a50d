/**
 * The commands of `herald`, each loaded only when it runs (a dynamic import per command, so
 * one command never pays for another's dependencies).
 */

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  serve: { summary: 'REST API, event store and durable outbox relay to the configured sinks', load: () => import('./serve.js') },
  emit: { summary: 'publish events to a broker (flags, --input NDJSON), or through a running herald serve (--server)', load: () => import('./emit.js') },
  view: { summary: 'read events from Kafka topics, NATS subjects or an AMQP exchange (like kcat -C)', load: () => import('./view.js') },
  tally: { summary: 'observe lifecycle events and serve Prometheus metrics', load: () => import('./tally.js') },
  'connect-health': { summary: 'health sidecar for Kafka Connect connectors (Kubernetes probes)', load: () => import('./connect-health.js') },
  topics: { summary: 'list topics of a Kafka cluster with their settings', load: () => import('./topics.js') },
  replay: { summary: 're-publish stored events to a sink through the outbox', load: () => import('./replay.js') },
  bridge: { summary: 'consume from one transport and publish to a sink through the outbox', load: () => import('./bridge.js') },
  describe: { summary: 'print the AsyncAPI document of what a configuration publishes (--config FILE, --format json|yaml)', load: () => import('./describe.js') },
};
