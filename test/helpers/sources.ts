/** Reading a test's messages back from any source, failing (not hanging) when they do not come. */
import { strict as assert } from 'node:assert';
import { createKafkaSource } from '../../src/transports/kafka/source.js';
import type { ReceivedMessage, Source } from '../../src/transports/types.js';
import { kafkaBrokers } from './env.js';

/** Reads up to n messages (fewer when the source ends or `limitMs` passes), acking each unless told not to. */
export async function take(source: Source, n: number, options: { limitMs?: number; ack?: boolean } = {}): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const it = source.messages()[Symbol.asyncIterator]();
  const timer = setTimeout(() => void source.close(), options.limitMs ?? 15_000);
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
      if (options.ack ?? true) await r.value.ack();
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Reads exactly n messages of a Kafka topic from the beginning (optionally in a group, acking them). */
export async function readTopicN(topic: string, n: number, options: { group?: string; ack?: boolean } = {}): Promise<ReceivedMessage[]> {
  const source = createKafkaSource({ brokers: kafkaBrokers().split(','), topics: [topic], from: 'beginning', ...(options.group !== undefined && { group: options.group }) });
  try {
    const out = await take(source, n, { limitMs: 60_000, ack: options.ack ?? false });
    assert.equal(out.length, n, `expected ${n} messages on ${topic}`);
    return out;
  } finally {
    await source.close();
  }
}
