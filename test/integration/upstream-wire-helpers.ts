/**
 * Reading what a broker holds with clients independent of Herald, down to the metadata the
 * upstream systems do or do not send (not a test file): kcat for Kafka record keys (null vs
 * empty) and headers, amqplib for RabbitMQ message properties, which the schema check reads
 * too (amqpPublished).
 */
import { spawn } from 'node:child_process';
import type { ConsumeMessage, MessageProperties } from 'amqplib';
import { kafkaBrokers } from '../helpers/env.js';
import { assertPublishedValid, type PublishedMessage } from '../helpers/schemas.js';

/** One record's metadata as kcat prints it. */
export interface KcatMeta {
  partition: number;
  offset: string;
  /** The key's length; -1 for a null key, 0 for an empty one. */
  keyLength: number;
  key: string;
  /** kcat's `%h`: `name=value,...`, empty when the record has no headers. */
  headers: string;
}

/** Every record's partition, offset, key and headers in `topic` (from the beginning to the end), read with kcat. */
export function kcatMeta(topic: string): Promise<KcatMeta[]> {
  return new Promise((resolve, reject) => {
    // Fields and records separated by control characters that keys and header text never hold.
    const child = spawn('kcat', ['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\x1f%o\x1f%K\x1f%k\x1f%h\x1e'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${err}`));
      resolve(out.split('\x1e').filter((r) => r !== '').map((r) => {
        const [p = '', o = '', kl = '', k = '', h = ''] = r.split('\x1f');
        return { partition: Number(p), offset: o, keyLength: Number(kl), key: k, headers: h };
      }));
    });
  });
}

/** The properties a consumer sees on a delivered AMQP message: only those that are set. */
export function setProperties(m: Pick<ConsumeMessage, 'properties'>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m.properties).filter(([, v]) => v !== undefined));
}

/** What a consumer (`consume`) or a `get` delivers, as far as the schema check reads it. */
export interface DeliveredAmqp {
  fields: { routingKey: string };
  properties: MessageProperties;
  content: Buffer;
}

/**
 * A delivered AMQP message as the schema check reads it (test/helpers/schemas.ts): the routing
 * key as its topic, the application headers (CloudEvents binary mode: `cloudEvents_*`) and the
 * content-type property, which carries the value's media type on AMQP.
 */
export function amqpPublished(m: DeliveredAmqp): PublishedMessage {
  const headers: Record<string, unknown> = { ...(m.properties.headers ?? {}) };
  if (m.properties.contentType !== undefined) headers['content-type'] = m.properties.contentType;
  return { transport: 'amqp', topic: m.fields.routingKey, value: m.content, headers };
}

/** Asserts that every delivered AMQP message validates against the schema Herald serves for `profile`. */
export function assertAmqpValid(profile: string, messages: readonly DeliveredAmqp[]): void {
  for (const m of messages) assertPublishedValid(profile, amqpPublished(m));
}
