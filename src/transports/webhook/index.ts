/**
 * The webhook transport's definition: HTTP POSTs to one endpoint per sink, signed as Standard
 * Webhooks, in the CloudEvents HTTP binding (binary or structured, batched on request) or
 * any profile's bytes. A sink only: nothing reads from it. The HTTP client is loaded only by
 * load().
 */
import { UsageError } from '../../errors.js';
import { flag } from '../shared/flags.js';
import type { TransportDefinition } from '../types.js';
import { resolveWebhook, WEBHOOK_SINK_OPTIONS, webhookProblems, type WebhookOptions, type WebhookResolved } from './options.js';

export { SECRET_ENV, type WebhookOptions, type WebhookResolved } from './options.js';
export { fromWebhookRequest } from './mapping.js';

export const webhookTransport: TransportDefinition<WebhookOptions, WebhookResolved, never> = {
  name: 'webhook',
  summary: 'HTTP POST to an endpoint, signed as Standard Webhooks (CloudEvents HTTP binding, or any profile\'s body)',
  sinkOptions: WEBHOOK_SINK_OPTIONS,
  check: (o, at) => webhookProblems(o, at),
  resolve: (o, at, env) => resolveWebhook(o, at, env),
  // No limit is known before a request: an endpoint that refuses a large body answers 413 (parked).
  maxMessageBytes: () => undefined,
  cli: {
    flag: '--webhook',
    keys: { url: '--webhook' },
    // The signing secret comes from HERALD_WEBHOOK_SECRET: a secret on the command line would show in `ps`.
    sink: (values) => ({ url: flag(values, 'webhook') }),
    source() {
      throw new UsageError('--webhook is a sink only (herald emit, serve, bridge and replay deliver to it); read with --brokers, --nats or --amqp', [{ path: '--webhook', message: 'is a sink only' }]);
    },
  },
  loadSink: () => import('./sink.js').then((m) => m.sinkFactory),
};
