/**
 * Reading what a broker holds with clients independent of Herald, down to the metadata the
 * upstream systems do or do not send (not a test file): kcat for Kafka record keys (null vs
 * empty) and headers, amqplib for RabbitMQ message properties, which the schema check reads
 * too (amqpPublished).
 */
import type { ConsumeMessage, MessageProperties } from 'amqplib';
import { kafkaBrokers } from '../helpers/env.js';
import { kcatFields } from '../helpers/kcat.js';
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
export async function kcatMeta(topic: string): Promise<KcatMeta[]> {
  return (await kcatFields(kafkaBrokers(), topic, ['%p', '%o', '%K', '%k', '%h'])).map(([p = '', o = '', kl = '', k = '', h = '']) => ({ partition: Number(p), offset: o, keyLength: Number(kl), key: k, headers: h }));
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
