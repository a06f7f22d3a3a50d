/** The stdout transport: one JSON line per message, for debugging a profile's output and piping into other tools. */
import type { TransportDefinition } from '../types.js';

export const stdoutTransport: TransportDefinition<Record<never, never>, Record<never, never>, never> = {
  name: 'stdout',
  summary: 'one JSON line per message on standard output (debugging, pipes)',
  sinkOptions: {},
  resolve: () => ({}),
  maxMessageBytes: () => undefined,
  loadSink: () => import('./sink.js').then((m) => m.sinkFactory),
};
