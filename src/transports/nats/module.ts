/** The NATS transport's implementation, loaded on first use (it brings the client library). */
import type { TransportModule } from '../types.js';
import type { NatsResolved, NatsSourceSpec } from './options.js';
import { NatsSink } from './sink.js';
import { NatsSource } from './source.js';

export const natsModule: TransportModule<NatsResolved, NatsSourceSpec> = {
  createSink: (base, resolved, deps) => new NatsSink(base, { ...resolved, settings: { ...resolved.settings, name: `herald-sink-${base.name}` } }, deps),
  createSource: (spec, options) => new NatsSource({ ...spec, ...options }),
};
