/** A sink as Herald builds it: through a binding of a validated sink config. */
import { createBindings, type SinkBinding } from '../../src/delivery/binding.js';
import type { SinkConfig } from '../../src/config/sinks.js';
import { validateSinks } from '../../src/config/sinks.js';
import { silentLogger } from '../../src/log.js';
import type { Sink, SinkDeps } from '../../src/transports/types.js';

/** The binding of one sink config (validated like a configured sink). */
export function bindingFor(config: SinkConfig, env?: NodeJS.ProcessEnv): SinkBinding {
  return createBindings(validateSinks([config]), env !== undefined ? { env } : {})[0]!;
}

/** The sink of one sink config, not connected yet. */
export async function sinkFor(config: SinkConfig, deps: Partial<SinkDeps> = {}): Promise<Sink> {
  return bindingFor(config, deps.env).createSink({ logger: silentLogger, ...deps });
}
