/**
 * `createPublisher`: the library entry point for services that publish events.
 *
 * ```ts
 * const publisher = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: ['127.0.0.1:9092'] }] });
 * const event = await publisher.emit({ source: 'my-service', type: 'com.example.cluster.ready', entity: { kind: 'cluster', id: 'c1' } });
 * await publisher.close();
 * ```
 */
import { HeraldError, ValidationError } from '../errors.js';
import { createEvent, normalize } from '../events/event.js';
import type { EventInput, HeraldEvent } from '../events/schema.js';
import { batchProblems } from '../events/validate.js';
import { silentLogger } from '../log.js';
import { createSink } from '../sinks/index.js';
import { DirectDispatcher } from './direct.js';
import type { Dispatcher, DispatcherContext, DurableDispatcherFactory, Publisher, PublisherOptions } from './types.js';

export * from './types.js';
export { DirectDispatcher } from './direct.js';
export { encodeForSink, encodeContext, DEFAULT_TOPIC } from './encode.js';

const OUTBOX_DISPATCHER_MODULE = '../outbox/dispatcher.js';

async function durableDispatcher(ctx: DispatcherContext, durable: NonNullable<PublisherOptions['durable']>): Promise<Dispatcher> {
  let factory: DurableDispatcherFactory | undefined;
  try {
    // A variable specifier: durable mode lives in the outbox module, loaded only when asked for.
    const mod = (await import(OUTBOX_DISPATCHER_MODULE)) as { createDurableDispatcher?: DurableDispatcherFactory };
    factory = mod.createDurableDispatcher;
  } catch (err) {
    throw new HeraldError('CONFIG', `durable mode is not available in this build: ${(err as Error).message}`, { cause: err });
  }
  if (typeof factory !== 'function') throw new HeraldError('CONFIG', 'durable mode is not available in this build (no createDurableDispatcher)');
  return factory({ ...ctx, durable });
}


/** Creates a publisher. Nothing connects until the first emit(). */
export function createPublisher(options: PublisherOptions): Publisher {
  if (!Array.isArray(options.sinks) || options.sinks.length === 0) {
    throw new HeraldError('CONFIG', 'createPublisher needs at least one sink (options.sinks)', { details: [{ path: 'sinks', message: 'must hold at least one sink' }] });
  }
  const logger = options.logger ?? silentLogger;
  const ctx: DispatcherContext = { sinks: options.sinks, logger, createSink: (config) => createSink(config, { logger }) };
  let dispatcher: Promise<Dispatcher> | undefined;
  const getDispatcher = (): Promise<Dispatcher> => {
    dispatcher ??= options.dispatcher !== undefined
      ? Promise.resolve(options.dispatcher)
      : options.durable !== undefined
        ? durableDispatcher(ctx, options.durable)
        : Promise.resolve(new DirectDispatcher(ctx));
    return dispatcher;
  };
  let closed = false;

  const emitMany = async (inputs: readonly (EventInput | HeraldEvent)[]): Promise<HeraldEvent[]> => {
    if (closed) throw new HeraldError('CLOSED', 'the publisher is closed');
    if (inputs.length === 0) return [];
    const problems = batchProblems([...inputs], Number.MAX_SAFE_INTEGER);
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new ValidationError(`invalid event${inputs.length > 1 ? 's' : ''}: ${first.path} ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, problems);
    }
    // batchProblems validated every input; normalize only fills in id, time and severity once.
    const events = inputs.map((input) => normalize(input));
    await (await getDispatcher()).dispatch(events);
    return events;
  };

  return {
    async emit(input) {
      if (closed) throw new HeraldError('CLOSED', 'the publisher is closed');
      const event = createEvent(input);
      await (await getDispatcher()).dispatch([event]);
      return event;
    },
    emitMany,
    async close() {
      if (closed) return;
      closed = true;
      if (dispatcher !== undefined) await (await dispatcher.catch(() => undefined))?.close();
    },
  };
}
