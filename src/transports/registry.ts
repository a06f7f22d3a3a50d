/**
 * The transport registry: the one list of transports. Config validation, sink and source
 * creation, `subscribe()` and the CLI read it; adding a transport is its folder plus one line
 * here. Entries are light definitions: each loads its client library only when used.
 */
import { UsageError } from '../errors.js';
import { amqpTransport } from './amqp/index.js';
import { kafkaTransport } from './kafka/index.js';
import { natsTransport } from './nats/index.js';
import { stdoutTransport } from './stdout/index.js';
import { webhookTransport } from './webhook/index.js';
import type { TransportDefinition } from './types.js';

export const TRANSPORTS = Object.freeze({
  kafka: kafkaTransport,
  nats: natsTransport,
  amqp: amqpTransport,
  stdout: stdoutTransport,
  webhook: webhookTransport,
});

export type TransportName = keyof typeof TRANSPORTS;

/** Every transport name, in registry order. */
export const TRANSPORT_NAMES = Object.keys(TRANSPORTS) as TransportName[];

export function isTransportName(name: unknown): name is TransportName {
  return typeof name === 'string' && Object.hasOwn(TRANSPORTS, name);
}

/** The transport named `name` (loosely typed, for code that handles every transport alike). */
export function getTransport(name: string, key = 'type'): TransportDefinition<any, any, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!isTransportName(name)) throw new UsageError(`${key} must be one of ${TRANSPORT_NAMES.join(', ')}, got "${name}"`, [{ path: key, message: `must be one of ${TRANSPORT_NAMES.join(', ')}` }]);
  return TRANSPORTS[name] as TransportDefinition<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Transports that can be read (every one but the sink-only stdout and webhook). */
export const SOURCE_TRANSPORTS = TRANSPORT_NAMES.filter((t) => t !== 'stdout' && t !== 'webhook');
