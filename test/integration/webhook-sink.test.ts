/**
 * The webhook sink against real HTTP(S) receivers on loopback (node:http / node:https in this
 * process), signatures checked with the `standardwebhooks` package as an independent
 * verifier:
 * - binary and structured CloudEvents, batched mode and another profile's body, each signed;
 *   several secrets give several signatures, each verifiable on its own;
 * - per-key order, parallel keys, a transient failure holding back the rest of its key only;
 * - 410 permanent with the status and the first bytes of the body; 500 transient;
 *   Retry-After holds every request back; a hanging endpoint times out;
 * - HTTPS with a custom CA, mutual TLS with a client certificate, an untrusted certificate
 *   named as such; redirects never followed;
 * - the secret never appears in errors or the endpoint status.
 * Every request any receiver got is validated against the schema Herald serves for its sink's
 * profile (binary: the ce- headers; structured: the event; batched: cloudevents/batch).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { generateTlsMaterial } from '../../scripts/kafka/secure.mjs';
import type { SinkConfig } from '../../src/config/sinks.js';
import { isHeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import type { OutgoingMessage, PublishOutcome, Sink } from '../../src/transports/types.js';
import { fromWebhookRequest } from '../../src/transports/webhook/mapping.js';
import { bindingFor } from '../helpers/sinks.js';
import { silentLogger } from '../../src/log.js';
import { assertPublishedValid } from '../helpers/schemas.js';
import { verifyStandardWebhook, WebhookReceiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwKq3h3UpHQVY=';
const OLD_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

const receivers: WebhookReceiver[] = [];
const sinks: Sink[] = [];
const dir = mkdtempSync(join(tmpdir(), 'herald-webhook-'));

after(async () => {
  for (const s of sinks) await s.close().catch(() => undefined);
  for (const r of receivers) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The profile of the sink posting to each URL, and how many of each receiver's requests were validated. */
const profileOfUrl = new Map<string, string>();
const validated = new Map<WebhookReceiver, number>();

// After each test: every request that arrived since, whatever the receiver answered, matches
// the served schema of the profile of the sink that sent it.
afterEach(() => {
  for (const r of receivers) {
    for (const q of r.requests.slice(validated.get(r) ?? 0)) {
      const profile = profileOfUrl.get(r.url(q.path));
      assert.ok(profile !== undefined, `a request to ${q.path} that no sink of this test posts to`);
      assertPublishedValid(profile, { transport: 'webhook', topic: q.path, value: q.body, headers: q.headers });
    }
    validated.set(r, r.requests.length);
  }
});

async function receiver(options: ConstructorParameters<typeof WebhookReceiver>[0] = {}): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver(options).start();
  receivers.push(r);
  return r;
}

/** A sink with its binding, so tests publish what the profile really encodes. */
async function webhook(config: Record<string, unknown>): Promise<{ sink: Sink; encode: (e: HeraldEvent) => OutgoingMessage[] }> {
  const binding = bindingFor({ name: 'hook', type: 'webhook', timeoutMs: 5000, ...config } as SinkConfig);
  profileOfUrl.set(String(config.url), binding.profile.name);
  const sink = await binding.createSink({ logger: silentLogger });
  sinks.push(sink);
  return { sink, encode: (e) => binding.encode(e) };
}

const event = (n: number, extra: Record<string, unknown> = {}) => createEvent({ source: 'https://example.test/billing', type: 'com.example.invoice.paid', entity: { kind: 'invoice', id: `inv-${n}` }, data: { n }, ...extra });
const oks = (outcomes: PublishOutcome[]) => outcomes.map((o) => (o.ok ? 'ok' : o.permanent ? 'permanent' : 'transient'));

describe('signed deliveries', () => {
  test('binary mode: ce- headers and the data as body, signed with each secret (rotation), verified by standardwebhooks', async () => {
    const r = await receiver();
    const { sink, encode } = await webhook({ url: r.url(), secrets: [SECRET, OLD_SECRET], headers: { Authorization: 'Bearer integration-token-1234' } });
    const e = event(1, { subject: 'invoice ü 42', message: 'paid in full' });
    const outcomes = await sink.publish(encode(e));
    assert.deepEqual(oks(outcomes), ['ok']);
    const got = r.requests[0]!;
    assert.equal(got.method, 'POST');
    assert.equal(got.path, '/hooks');
    assert.equal(got.headers['webhook-id'], e.id, 'the event id');
    assert.ok(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000) < 300, 'the attempt timestamp, in seconds');
    assert.equal(got.headers['webhook-signature']!.split(' ').length, 2, 'one signature per secret');
    // The specification's own library accepts it with either secret.
    assert.deepEqual(verifyStandardWebhook(SECRET, got), { n: 1 });
    assert.deepEqual(verifyStandardWebhook(OLD_SECRET, got), { n: 1 });
    assert.throws(() => verifyStandardWebhook('whsec_' + Buffer.alloc(32, 1).toString('base64'), got), /No matching signature/);
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['ce-specversion'], '1.0');
    assert.equal(got.headers['ce-type'], 'com.example.invoice.paid');
    assert.equal(got.headers['ce-subject'], 'invoice%20%C3%BC%2042');
    assert.equal(got.headers.authorization, 'Bearer integration-token-1234');
    const decoded = decodeMessage(fromWebhookRequest(got.headers, got.body));
    assert.equal(decoded.format, 'binary');
    assert.equal(decoded.event.subject, 'invoice ü 42');
    assert.deepEqual(decoded.event.data, { n: 1 });
    const status = sink.endpoint!();
    assert.equal(status.lastStatus, 204);
    assert.equal(status.requests, 1);
    assert.equal(typeof status.latencyMs.p99, 'number');
    assert.equal(status.url, r.url());
    assert.ok(!JSON.stringify(status).includes('integration-token'), 'no header value in the status');
  });

  test('structured mode and batched mode: application/cloudevents+json, and -batch+json arrays', async () => {
    const r = await receiver();
    const structured = await webhook({ url: r.url('/one'), secret: SECRET, mode: 'structured' });
    const e = event(2);
    assert.deepEqual(oks(await structured.sink.publish(structured.encode(e))), ['ok']);
    const one = r.requests[0]!;
    assert.match(one.headers['content-type']!, /^application\/cloudevents\+json/);
    assert.equal(one.headers['ce-id'], undefined, 'no ce- headers in structured mode');
    const doc = verifyStandardWebhook(SECRET, one) as { id: string; data: unknown };
    assert.equal(doc.id, e.id);
    assert.equal(decodeMessage(fromWebhookRequest(one.headers, one.body)).format, 'structured');

    const batched = await webhook({ url: r.url('/many'), secret: SECRET, mode: 'structured', batch: 3 });
    const events = [3, 4, 5, 6, 7].map((n) => event(n));
    assert.deepEqual(oks(await batched.sink.publish(events.flatMap(batched.encode))), ['ok', 'ok', 'ok', 'ok', 'ok']);
    const batches = r.requests.filter((q) => q.path === '/many');
    assert.equal(batches.length, 2, 'five events in batches of at most three');
    assert.match(batches[0]!.headers['content-type']!, /^application\/cloudevents-batch\+json/);
    const ids = batches.flatMap((b) => (verifyStandardWebhook(SECRET, b) as Array<{ id: string }>).map((x) => x.id));
    assert.deepEqual(ids, events.map((x) => x.id), 'every event once, in order');
  });

  test("another profile's JSON body: CloudStack's flat event, signed", async () => {
    const r = await receiver();
    const { sink, encode } = await webhook({ url: r.url(), secret: SECRET, profile: 'cloudstack' });
    const uuid = '3b2f6a4e-0000-4000-8000-00000000aa01';
    const e = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: uuid },
      data: { event: 'ACCOUNT.CREATE', status: 'Completed', entity: 'com.cloud.user.Account', entityuuid: uuid, description: 'created' } });
    assert.deepEqual(oks(await sink.publish(encode(e))), ['ok']);
    const body = verifyStandardWebhook(SECRET, r.requests[0]!) as Record<string, unknown>;
    assert.equal(body.event, 'ACCOUNT.CREATE');
    assert.equal(body.entityuuid, uuid);
    assert.equal(r.requests[0]!.headers['ce-id'], undefined);
  });
});

describe('delivery semantics', () => {
  test('one key in order, one request at a time; other keys in parallel', async () => {
    const r = await receiver();
    let inFlight = 0;
    let maxInFlight = 0;
    const perKey = new Map<string, number>();
    let overlapSameKey = false;
    r.answer = async (q) => {
      const key = String(q.headers['ce-partitionkey']);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      if (perKey.get(key)! > 1) overlapSameKey = true;
      await new Promise((res) => setTimeout(res, 5));
      perKey.set(key, perKey.get(key)! - 1);
      inFlight--;
      return { status: 200 };
    };
    const { sink, encode } = await webhook({ url: r.url(), secret: SECRET, concurrency: 8 });
    const events = Array.from({ length: 40 }, (_, i) => event(i, { partitionkey: `k${i % 4}` }));
    assert.deepEqual(new Set(oks(await sink.publish(events.flatMap(encode)))), new Set(['ok']));
    assert.equal(overlapSameKey, false, 'never two requests of one key at once');
    assert.ok(maxInFlight > 1, 'different keys went in parallel');
    for (let k = 0; k < 4; k++) {
      const arrived = r.requests.filter((q) => q.headers['ce-partitionkey'] === `k${k}`).map((q) => q.headers['ce-id']);
      assert.deepEqual(arrived, events.filter((e) => e.partitionkey === `k${k}`).map((e) => e.id), `key k${k} in order`);
    }
  });

  test('a 500 fails its message and holds back the rest of its key only; a 410 is permanent with the first bytes of the body', async () => {
    const r = await receiver();
    const events = Array.from({ length: 6 }, (_, i) => event(100 + i, { partitionkey: i < 3 ? 'a' : 'b' }));
    r.answer = (q) => {
      if (q.headers['ce-id'] === events[0]!.id) return { status: 500, body: 'database is down' };
      if (q.headers['ce-id'] === events[4]!.id) return { status: 410, body: 'this endpoint was removed; do not send again' };
      return { status: 200 };
    };
    const { sink, encode } = await webhook({ url: r.url(), secret: SECRET, concurrency: 1 });
    const outcomes = await sink.publish(events.flatMap(encode));
    assert.deepEqual(oks(outcomes), ['transient', 'transient', 'transient', 'ok', 'permanent', 'ok']);
    assert.deepEqual(r.requests.map((q) => q.headers['ce-id']), [events[0]!.id, events[3]!.id, events[4]!.id, events[5]!.id], 'key a stopped at its failure');
    const gone = outcomes[4] as Extract<PublishOutcome, { ok: false }>;
    assert.match(gone.error.message, /answered 410: this endpoint was removed; do not send again/);
    assert.match((outcomes[1] as Extract<PublishOutcome, { ok: false }>).error.message, /earlier event of key a/);
  });

  test('429 with Retry-After: the batch stops, and no request is sent before the time it names', async () => {
    const r = await receiver();
    let limited = true;
    r.answer = () => (limited ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
    const { sink, encode } = await webhook({ url: r.url(), secret: SECRET, concurrency: 1 });
    const events = [event(201, { partitionkey: 'x' }), event(202, { partitionkey: 'y' })];
    const first = await sink.publish(events.flatMap(encode));
    assert.deepEqual(oks(first), ['transient', 'transient']);
    assert.equal(r.requests.length, 1, 'the rate limit stopped the batch');
    limited = false;
    await assert.rejects(sink.publish(events.flatMap(encode)), (err: Error) => isHeraldError(err) && /Retry-After/.test(err.message));
    assert.equal(r.requests.length, 1, 'held back, nothing sent');
    assert.notEqual(sink.endpoint!().retryAfterUntil, null);
    // Retry until it goes through: the first request after the 429 comes no earlier than it asked.
    for (let i = 0; i < 100; i++) {
      const out = await sink.publish(events.flatMap(encode)).catch(() => undefined);
      if (out !== undefined) {
        assert.deepEqual(oks(out), ['ok', 'ok']);
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.requests.length, 3);
    // The 429 was answered after its request arrived, so the gate ends no earlier than 2 s after that.
    assert.ok(r.requests[1]!.at >= r.requests[0]!.at + 2000, 'Retry-After honoured');
    assert.equal(r.requests[1]!.headers['webhook-id'], r.requests[0]!.headers['webhook-id'], 'the same webhook-id on the retry');
  });

  test('a hanging endpoint times out (transient); a stopped one is refused (transient), and connect() says so', async () => {
    const r = await receiver();
    r.answer = () => ({ hang: true });
    const { sink, encode } = await webhook({ url: r.url(), secret: SECRET, timeoutMs: 300 });
    const out = await sink.publish(encode(event(300)));
    assert.deepEqual(oks(out), ['transient']);
    assert.match((out[0] as Extract<PublishOutcome, { ok: false }>).error.message, /no answer within 300 ms/);
    await r.stop();
    const refused = await sink.publish(encode(event(301)));
    assert.deepEqual(oks(refused), ['transient']);
    assert.match((refused[0] as Extract<PublishOutcome, { ok: false }>).error.message, /connection refused/);
    assert.equal(sink.connected, false);
    await assert.rejects(sink.connect(), (err: Error) => isHeraldError(err) && err.code === 'BROKER_UNAVAILABLE' && /connection refused/.test(err.message));
    await r.start();
    await sink.connect();
    assert.equal(sink.connected, true);
  });

  test('redirects are not followed: a 301 is a transient failure naming the new location', async () => {
    const target = await receiver();
    const r = await receiver();
    r.answer = () => ({ status: 301, headers: { location: target.url('/moved') } });
    const { sink, encode } = await webhook({ url: r.url(), secret: SECRET });
    const out = await sink.publish(encode(event(400)));
    assert.deepEqual(oks(out), ['transient']);
    assert.match((out[0] as Extract<PublishOutcome, { ok: false }>).error.message, /301.*\/moved.*not followed/);
    assert.equal(target.requests.length, 0, 'nothing reached the new location');
  });
});

describe('HTTPS', () => {
  let files: { caFile: string; untrustedCaFile: string; clientCertFile: string; clientKeyFile: string };
  let tlsDir: string;
  before(() => {
    tlsDir = join(dir, 'tls');
    files = generateTlsMaterial(tlsDir);
  });
  const server = () => ({ key: readFileSync(join(tlsDir, 'broker.key')), cert: readFileSync(join(tlsDir, 'broker.pem')) });

  test('a custom CA: delivered; without it, the untrusted certificate is named with the key to set', async () => {
    const r = await receiver({ tls: server() });
    const ok = await webhook({ url: r.url(), secret: SECRET, tls: { ca: files.caFile } });
    assert.deepEqual(oks(await ok.sink.publish(ok.encode(event(500)))), ['ok']);
    verifyStandardWebhook(SECRET, r.requests[0]!);
    const untrusted = await webhook({ url: r.url(), secret: SECRET, tls: { ca: files.untrustedCaFile } });
    await assert.rejects(untrusted.sink.connect(), (err: Error) => isHeraldError(err) && err.code === 'BROKER_AUTH' && /not trusted.*tls\.ca/.test(err.message));
    const out = await untrusted.sink.publish(untrusted.encode(event(501)));
    assert.deepEqual(oks(out), ['transient']);
    assert.match((out[0] as Extract<PublishOutcome, { ok: false }>).error.message, /not trusted/);
  });

  test('mutual TLS: the client certificate from tls.cert / tls.key is presented; without one the endpoint refuses', async () => {
    const r = await receiver({ tls: { ...server(), ca: readFileSync(files.caFile), requestCert: true } });
    const withCert = await webhook({ url: r.url(), secret: SECRET, tls: { ca: files.caFile, cert: files.clientCertFile, key: files.clientKeyFile } });
    assert.deepEqual(oks(await withCert.sink.publish(withCert.encode(event(600)))), ['ok']);
    assert.equal(r.requests[0]!.clientCert, 'herald-client');
    const without = await webhook({ url: r.url(), secret: SECRET, tls: { ca: files.caFile } });
    const out = await without.sink.publish(without.encode(event(601)));
    assert.deepEqual(oks(out), ['transient']);
    assert.equal(r.requests.length, 1);
  });
});

test('the secret appears in no error, status or request other than as its signature', async () => {
  const r = await receiver();
  r.answer = (q: ReceivedRequest) => ({ status: 400, body: `bad: ${SECRET} key-abcdef123456 ${JSON.stringify(q.headers)}` });
  const { sink, encode } = await webhook({ url: r.url(), secret: SECRET, headers: { 'x-api-key': 'key-abcdef123456' } });
  const out = await sink.publish(encode(event(700)));
  const text = JSON.stringify(out.map((o) => (o.ok ? '' : o.error.message))) + JSON.stringify(sink.endpoint!());
  assert.match(text, /answered 400/);
  assert.ok(!text.includes(SECRET.slice(6)), 'the secret is redacted from a body that echoes it');
  assert.ok(!text.includes('key-abcdef123456'), 'a configured header value is redacted');
  assert.ok(!JSON.stringify(r.requests[0]!.headers).includes(SECRET.slice(6)), 'the secret itself never travels');
});
