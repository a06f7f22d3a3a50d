/**
 * RabbitMQ over TLS (amqps://), against a RabbitMQ node of the test's own with a TLS listener
 * only (needs rabbitmq-server installed; the shared node on 5672 has no TLS): certificates from
 * the same generator as the secured Kafka broker.
 * - the sink publishes and a source reads the messages back, both with the CA in `tls.ca`;
 * - an untrusted CA fails fast with a TLS error naming the server and the setting to change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
// @ts-expect-error plain ESM script without types
import { generateTlsMaterial } from '../../scripts/kafka/secure.mjs';
import { isHeraldError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { sinkFor } from '../helpers/sinks.js';
import { createAmqpSource } from '../../src/transports/amqp/source.js';
import type { SinkConfig } from '../../src/config/schema.js';
import type { Sink } from '../../src/transports/types.js';
import { uniqueName } from '../helpers/env.js';
import { OwnRabbitTlsServer } from '../helpers/rabbitmq-server.js';
import { take } from '../helpers/sources.js';

interface TlsFiles { caFile: string; untrustedCaFile: string }

const dir = mkdtempSync(join(tmpdir(), 'herald-amqp-tls-'));
// mkdtemp makes it 0700; a node started as root runs as the rabbitmq user and must reach inside.
chmodSync(dir, 0o755);
let files: TlsFiles;
let server: OwnRabbitTlsServer;
const sinks: Sink[] = [];

before(async () => {
  const tlsDir = join(dir, 'tls');
  files = generateTlsMaterial(tlsDir) as TlsFiles;
  server = new OwnRabbitTlsServer(join(dir, 'rabbit'), { caFile: files.caFile, certFile: join(tlsDir, 'broker.pem'), keyFile: join(tlsDir, 'broker.key') });
  await server.start();
});

after(async () => {
  for (const s of sinks) await s.close().catch(() => undefined);
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function sink(exchange: string, ca: string): Promise<Sink> {
  const s = await sinkFor({ name: uniqueName('amqps'), type: 'amqp', url: server.url, exchange, tls: { ca }, timeoutMs: 5000 } as SinkConfig, { logger: silentLogger });
  sinks.push(s);
  return s;
}

test('amqps: the sink publishes with the CA from tls.ca, and a source with the same CA reads the messages back', async () => {
  const exchange = uniqueName('herald-tls');
  const queue = uniqueName('herald-tls-q');
  // A durable queue bound before publishing (a publish nothing routes is refused as unroutable).
  const admin = await connect(server.url, { ca: [readFileSync(files.caFile)] });
  const ch = await admin.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  await ch.assertQueue(queue, { durable: true });
  await ch.bindQueue(queue, exchange, 'tls.#');
  await admin.close();

  const ids = Array.from({ length: 3 }, (_, i) => `${queue}-${i}`);
  const outcomes = await (await sink(exchange, files.caFile)).publish(ids.map((id) => ({ eventId: id, topic: 'tls.events', value: Buffer.from(JSON.stringify({ id })) })));
  assert.deepEqual(outcomes.map((o) => o.ok), [true, true, true]);

  const source = createAmqpSource({ url: server.url, exchange, binding: 'tls.#', queue, tls: { ca: files.caFile } });
  try {
    const got = await take(source, 3);
    assert.deepEqual(got.map((m) => (JSON.parse(m.value!.toString('utf8')) as { id: string }).id), ids);
  } finally {
    await source.close();
  }
});

test('amqps: a server certificate from an untrusted CA fails fast with a TLS error naming the server', async () => {
  const s = await sink(uniqueName('herald-tls-bad'), files.untrustedCaFile);
  const t0 = Date.now();
  const err = await s.connect().then(() => undefined, (e: unknown) => e);
  const ms = Date.now() - t0;
  assert.ok(isHeraldError(err), `a HeraldError, not ${String(err)}`);
  assert.equal(err.code, 'BROKER_AUTH', err.message);
  assert.equal(err.message, `TLS with RabbitMQ at amqps://guest:[REDACTED]@127.0.0.1:${server.port} failed: the server's certificate is not trusted (self-signed certificate in chain); set tls.ca to the PEM file of the CA that signed it`);
  assert.ok(ms < 5000, `failed after ${ms} ms, before the 5 s connect timeout`);
});
