/** The stdout transport's implementation. */
import { HeraldError } from '../../errors.js';
import type { TransportModule } from '../types.js';
import { StdoutSink } from './sink.js';

export const stdoutModule: TransportModule<Record<never, never>, never> = {
  createSink: (base, _resolved, deps) => new StdoutSink({ name: base.name, ...(deps.stream !== undefined && { stream: deps.stream }) }),
  createSource() {
    throw new HeraldError('USAGE', 'the stdout transport has no source: read with --brokers, --nats or --amqp');
  },
};
