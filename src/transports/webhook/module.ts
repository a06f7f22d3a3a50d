/** The webhook transport's implementation, loaded on first use (it brings the HTTP client). */
import { UsageError } from '../../errors.js';
import type { TransportModule } from '../types.js';
import type { WebhookResolved } from './options.js';
import { WebhookSink } from './sink.js';

export const webhookModule: TransportModule<WebhookResolved, never> = {
  createSink: (base, resolved, deps) => new WebhookSink(base, resolved, deps),
  createSource() {
    throw new UsageError('a webhook is a sink only: read with --brokers, --nats or --amqp', [{ path: '--webhook', message: 'is a sink only' }]);
  },
};
