/** The AMQP transport's implementation, loaded on first use (it brings amqplib). */
import type { TransportModule } from '../types.js';
import type { AmqpResolved, AmqpSourceSpec } from './options.js';
import { AmqpSink } from './sink.js';
import { AmqpSource } from './source.js';

export const amqpModule: TransportModule<AmqpResolved, AmqpSourceSpec> = {
  createSink: (base, resolved, deps) => new AmqpSink(base, resolved, deps),
  createSource: (spec, options) => new AmqpSource({ ...spec, ...options }),
};
