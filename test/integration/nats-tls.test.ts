/**
 * NATS over TLS, against nats-server processes of the test's own (the shared server on 4222
 * has no TLS): certificates from the same generator as the secured Kafka broker.
 * - a TLS server: the sink publishes to JetStream and a source reads the messages back, with
 *   the CA given in the sink's `tls` settings; the CLI does the same with NATS_CA;
 * - an untrusted CA fails fast with a TLS error naming the server and the setting to change;
 * - a server that requires client certificates refuses a client without one (the NATS client
 *   only times out: the message names tls.cert / tls.key as the likely fix) and accepts one
 *   with `tls.cert` / `tls.key`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { generateTlsMaterial } from '../../scripts/kafka/secure.mjs';
import { isHeraldError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { sinkFor } from '../helpers/sinks.js';
import { createNatsSource } from '../../src/transports/nats/source.js';
import type { SinkConfig } from '../../src/config/schema.js';
import type { Sink } from '../../src/transports/types.js';
import { runCli, uniqueName } from '../helpers/env.js';
import { freePort, OwnNatsServer } from '../helpers/nats-server.js';
import { take } from '../helpers/sources.js';

interface TlsFiles { caFile: string; untrustedCaFile: string; clientCertFile: string; clientKeyFile: string }

const dir = mkdtempSync(join(tmpdir(), 'herald-nats-tls-'));
let files: TlsFiles;
let tlsServer: OwnNatsServer;
let mtlsServer: OwnNatsServer;
const sinks: Sink[] = [];

before(async () => {
  const tlsDir = join(dir, 'tls');
  files = generateTlsMaterial(tlsDir) as TlsFiles;
  const serverCert = ['--tlscert', join(tlsDir, 'broker.pem'), '--tlskey', join(tlsDir, 'broker.key')];
  tlsServer = new OwnNatsServer(await freePort(), join(dir, 'js-tls'), ['--tls', ...serverCert]);
  mtlsServer = new OwnNatsServer(await freePort(), join(dir, 'js-mtls'), ['--tlsverify', ...serverCert, '--tlscacert', files.caFile]);
  await tlsServer.start();
  await mtlsServer.start();
});

after(async () => {
  for (const s of sinks) await s.close().catch(() => undefined);
  await tlsServer?.stop();
  await mtlsServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tlsUrl = (s: OwnNatsServer) => `tls://127.0.0.1:${s.port}`;

async function sink(config: Partial<SinkConfig> & { url: string }): Promise<Sink> {
  const s = await sinkFor({ name: uniqueName('tls'), type: 'nats', timeoutMs: 5000, ...config } as SinkConfig, { logger: silentLogger });
  sinks.push(s);
  return s;
}

/** Connects and returns the HeraldError it failed with (fails the test if it connected). */
async function connectError(s: Sink): Promise<{ code: string; message: string; ms: number }> {
  const t0 = Date.now();
  try {
    await s.connect();
  } catch (err) {
    assert.ok(isHeraldError(err), `a HeraldError, not ${String(err)}`);
    return { code: err.code, message: err.message, ms: Date.now() - t0 };
  }
  assert.fail('connected although it should not have');
}

test('TLS: the sink publishes to JetStream with the CA from tls.ca, and a source reads the messages back', async () => {
  const base = uniqueName('tlsjs').replace(/-/g, '_');
  const stream = base.toUpperCase();
  const s = await sink({ url: tlsUrl(tlsServer), tls: { ca: files.caFile }, createStream: true, stream, subjects: [`${base}.>`, 'choria.>'] } as never);
  const ids = Array.from({ length: 5 }, (_, i) => `${base}-${i}`);
  const outcomes = await s.publish(ids.map((id) => ({ eventId: id, topic: `${base}.events`, value: Buffer.from(JSON.stringify({ id })) })));
  assert.deepEqual(outcomes.map((o) => o.ok), [true, true, true, true, true]);
  assert.equal(s.connected, true);

  const source = createNatsSource({ url: tlsUrl(tlsServer), tls: { ca: files.caFile }, subjects: [`${base}.>`], stream, from: 'beginning' });
  try {
    const got = await take(source, 5);
    assert.deepEqual(got.map((m) => (JSON.parse(m.value!.toString('utf8')) as { id: string }).id), ids);
  } finally {
    await source.close();
  }

  // The CLI takes the CA from NATS_CA (emit --nats publishes core NATS unless --jetstream).
  const r = await runCli(['emit', '--nats', tlsUrl(tlsServer), '--profile', 'choria', '--type', 'startup', '--identity', 'i1', '--component', 'server', '--version', '1.0.0'],
    { env: { NATS_CA: files.caFile }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /topic=choria\.lifecycle\.event\.startup\.server$/m);
});

test('TLS: a server certificate from an untrusted CA fails fast with a TLS error naming the server', async () => {
  const e = await connectError(await sink({ url: tlsUrl(tlsServer), tls: { ca: files.untrustedCaFile } } as never));
  assert.equal(e.code, 'BROKER_AUTH', e.message);
  assert.equal(e.message, `TLS with NATS at tls://127.0.0.1:${tlsServer.port} failed: the server's certificate is not trusted (unable to verify the first certificate); set tls.ca to the PEM file of the CA that signed it`);
  assert.ok(e.ms < 5000, `failed after ${e.ms} ms, before the 5 s connect timeout`);
});

test('mutual TLS: no client certificate is refused; tls.cert and tls.key are accepted', async () => {
  const refused = await connectError(await sink({ url: tlsUrl(mtlsServer), tls: { ca: files.caFile } } as never));
  // The server drops the client after the handshake and the NATS client only times out: the
  // message says what usually causes it.
  assert.equal(refused.code, 'BROKER_UNAVAILABLE', refused.message);
  assert.equal(refused.message, `could not connect to NATS at tls://127.0.0.1:${mtlsServer.port} within 5000 ms; if the server requires client certificates (tls verify), set tls.cert and tls.key`);

  const base = uniqueName('mtls').replace(/-/g, '_');
  const s = await sink({ url: tlsUrl(mtlsServer), tls: { ca: files.caFile, cert: files.clientCertFile, key: files.clientKeyFile }, createStream: true, stream: base.toUpperCase(), subjects: [`${base}.>`] } as never);
  const outcomes = await s.publish([{ eventId: `${base}-1`, topic: `${base}.one`, value: Buffer.from('{}') }]);
  assert.deepEqual(outcomes.map((o) => o.ok), [true]);
});
