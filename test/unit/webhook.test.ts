/**
 * The webhook transport without a network: config checks (problems named by key, secrets
 * never echoed), Standard Webhooks signatures against the specification's own library, the
 * CloudEvents HTTP binding's header encoding against the specification's example, webhook
 * ids, and how answers are classified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { validateSinks, type SinkConfig } from '../../src/config/sinks.js';
import { ConfigError } from '../../src/errors.js';
import type { OutgoingMessage } from '../../src/profiles/types.js';
import { bindingFor } from '../helpers/sinks.js';
import { classifyRequestError, classifyStatus, parseRetryAfter } from '../../src/transports/webhook/errors.js';
import { decodeHeaderValue, encodeHeaderValue, fromWebhookRequest, toBatchRequest, toWebhookRequest, webhookIds } from '../../src/transports/webhook/mapping.js';
import { displayUrl, resolveWebhook } from '../../src/transports/webhook/options.js';
import { safeWebhookId, signatureHeader } from '../../src/transports/webhook/signature.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import { createEvent } from '../../src/events/event.js';

/** 32 random-looking bytes, base64: a valid Standard Webhooks secret. */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwKq3h3UpHQVY=';
const SECRET2 = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const sink = (extra: Record<string, unknown>): SinkConfig => ({ name: 'hook', type: 'webhook', url: 'https://example.test/hooks', ...extra }) as SinkConfig;

/** The problems of one sink config, as path → message. */
function problems(extra: Record<string, unknown>): Record<string, string> {
  try {
    validateSinks([sink(extra)]);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return Object.fromEntries(err.details.map((d) => [d.path, d.message]));
  }
  return {};
}

test('config: a valid webhook sink, and every bad key named by its path', () => {
  assert.deepEqual(problems({ secret: SECRET, headers: { Authorization: 'Bearer abc' }, mode: 'structured', batch: 10, concurrency: 4 }), {});
  assert.match(problems({ url: 'ftp://example.test/x' })['sinks[0].url']!, /http:\/\/ or https:\/\//);
  assert.match(problems({ url: 'not a url' })['sinks[0].url']!, /not a valid URL/);
  assert.match(problems({ secret: SECRET, secrets: [SECRET2] })['sinks[0].secrets']!, /not both/);
  assert.match(problems({ headers: { 'webhook-id': 'x' } })['sinks[0].headers.webhook-id']!, /set by Herald/);
  assert.match(problems({ headers: { 'ce-type': 'x' } })['sinks[0].headers.ce-type']!, /set by Herald/);
  assert.match(problems({ headers: { 'x-a': 'line\r\nbreak' } })['sinks[0].headers.x-a']!, /line breaks/);
  assert.match(problems({ batch: 10 })['sinks[0].batch']!, /mode: structured/);
  assert.match(problems({ batch: 10, profile: 'cloudstack' })['sinks[0].batch']!, /profile cloudevents/);
  assert.match(problems({ url: 'http://example.test/x', tls: { ca: 'ca.pem' } })['sinks[0].tls']!, /https/);
  assert.match(problems({ nope: 1 })['sinks[0].nope']!, /not a known field/);
});

test('config: a bad secret is named by its key, and the message never repeats it', () => {
  const bad = ['whsec_short', 'not-a-whsec-secret-at-all-but-long-enough', `whsec_${'A'.repeat(100)}=!`, `whsec_${Buffer.alloc(80, 7).toString('base64')}`];
  for (const s of bad) {
    const p = problems({ secrets: [SECRET, s] });
    assert.ok(p['sinks[0].secrets[1]'] !== undefined, `${s.slice(0, 8)}… is refused: ${JSON.stringify(p)}`);
    assert.ok(!JSON.stringify(p).includes(s), 'the secret is not echoed');
    assert.ok(!JSON.stringify(p).includes(s.slice(6, 20)), 'no part of the secret is echoed');
  }
});

test('resolve: keys decoded from whsec_, HERALD_WEBHOOK_SECRET when the sink names none, URL credentials as Basic auth', () => {
  const at = (k: string) => `sinks[0].${k}`;
  const r = resolveWebhook({ url: 'https://u:p%40ss@example.test:8443/a/b?token=zzz', secrets: [SECRET, SECRET2] }, at, {});
  assert.equal(r.keys.length, 2);
  assert.deepEqual(r.keys[0], Buffer.from(SECRET.slice(6), 'base64'));
  assert.equal(r.endpoint.origin, 'https://example.test:8443');
  assert.equal(r.endpoint.path, '/a/b?token=zzz');
  assert.equal(r.headers.authorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
  assert.equal(r.endpoint.display, 'https://example.test:8443/a/b?[REDACTED]');
  assert.ok(r.secrets.includes('p@ss') && r.secrets.includes(SECRET));
  const fromEnv = resolveWebhook({ url: 'http://127.0.0.1:9/x' }, at, { HERALD_WEBHOOK_SECRET: `${SECRET}, ${SECRET2}` });
  assert.equal(fromEnv.keysFrom, 'env');
  assert.equal(fromEnv.keys.length, 2);
  assert.throws(() => resolveWebhook({ url: 'http://127.0.0.1:9/x' }, at, { HERALD_WEBHOOK_SECRET: 'whsec_bad' }), (err: ConfigError) => err.message.startsWith('HERALD_WEBHOOK_SECRET') && !err.message.includes('whsec_bad'));
  assert.equal(resolveWebhook({ url: 'http://127.0.0.1:9/x' }, at, {}).keysFrom, 'none');
  // Slack-style URLs carry their secret in the path.
  assert.equal(displayUrl(new URL('https://hooks.example.test/services/T0001/B0001/XkQ9r8GKYqrTwjUPD8ILPZIo')), 'https://hooks.example.test/services/T0001/B0001/[REDACTED]');
});

// Upstream: standard-webhooks/standard-webhooks, spec/standard-webhooks.md ("Signature scheme":
// `msg_id.timestamp.payload`, HMAC-SHA256, `v1,<base64>`, space-separated list) and
// libraries/javascript/src/index.ts (Webhook.sign), commit b2fa7b8719fb75d326b591077f5d1b385cfcdfae.
test('signatures: the same v1 signature the Standard Webhooks library computes, one per secret', () => {
  const body = Buffer.from('{"type":"contact.created","data":{"id":"1f81eb52"}}');
  const ts = 1674087231;
  const keys = [SECRET, SECRET2].map((s) => Buffer.from(s.slice(6), 'base64'));
  const header = signatureHeader(keys, 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', ts, body);
  const parts = header.split(' ');
  assert.equal(parts.length, 2);
  assert.equal(parts[0], new Webhook(SECRET).sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(ts * 1000), body.toString()));
  assert.equal(parts[1], new Webhook(SECRET2).sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(ts * 1000), body.toString()));
  // An empty body signs `id.timestamp.`.
  assert.equal(signatureHeader(keys.slice(0, 1), 'a', ts, null), new Webhook(SECRET).sign('a', new Date(ts * 1000), ''));
});

test('webhook ids: the event id, <id>:<n> for further messages, never a "." or a non-ASCII character', () => {
  const m = (eventId: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({ eventId, topic: 't', value: Buffer.from('x'), ...extra });
  assert.deepEqual(webhookIds([m('a'), m('b'), m('a', { topic: 't2' }), m('a')]), ['a', 'b', 'a:1', 'a']);
  assert.equal(safeWebhookId('3b2f6a4e-0000-4000-8000-000000000001'), '3b2f6a4e-0000-4000-8000-000000000001');
  const odd = safeWebhookId('order.42 ünïcode');
  assert.match(odd, /^evt_[A-Za-z0-9_-]{27}$/);
  assert.equal(odd, safeWebhookId('order.42 ünïcode'), 'stable');
  assert.notEqual(odd, safeWebhookId('order.43 ünïcode'));
});

// Upstream: cloudevents/spec, cloudevents/bindings/http-protocol-binding.md section 3.1.3.2
// ("HTTP Header Values": the "Euro € 😀" example, quoted strings, invalid UTF-8 rejected),
// commit c2845a49bc9831be02f305a4a792401b932d77d4.
test('CloudEvents HTTP binding: header values percent-encoded as the specification shows, and decoded back', () => {
  assert.equal(encodeHeaderValue('Euro \u20AC \u{1F600}'), 'Euro%20%E2%82%AC%20%F0%9F%98%80');
  assert.equal(decodeHeaderValue('Euro%20%E2%82%AC%20%F0%9F%98%80'), 'Euro \u20AC \u{1F600}');
  assert.equal(encodeHeaderValue('50% "quoted"'), '50%25%20%22quoted%22');
  assert.equal(encodeHeaderValue('com.example/plain-ascii_1'), 'com.example/plain-ascii_1');
  assert.equal(decodeHeaderValue('"a \\"b\\" c"'), 'a "b" c', 'double-quoted values of older senders');
  assert.equal(decodeHeaderValue('%e2%82%ac'), '\u20AC', 'lower-case hex accepted');
  assert.throws(() => decodeHeaderValue('%C0%A0'), 'an overlong encoding is rejected');
});

test('binary mode: ce- headers, Content-Type from datacontenttype, the data as body; the decode chain reads it back', () => {
  const event = createEvent({ source: 'https://example.test/ops', type: 'com.example.disk.full', subject: 'disk ü', entity: { kind: 'host', id: 'h1' }, message: 'disk 95% full', data: { used: 95 } });
  const binding = bindingFor(sink({}));
  const [msg] = binding.encode(event);
  const req = toWebhookRequest(msg!, 'id-1');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['ce-id'], event.id);
  assert.equal(req.headers['ce-specversion'], '1.0');
  assert.equal(req.headers['ce-subject'], 'disk%20%C3%BC');
  assert.equal(req.headers['ce-message'], 'disk%2095%25%20full');
  assert.equal(req.headers['ce-datacontenttype'], undefined, 'the binding forbids ce-datacontenttype');
  assert.deepEqual(JSON.parse(req.body!.toString()), { used: 95 });
  const decoded = decodeMessage(fromWebhookRequest(req.headers, req.body!));
  assert.equal(decoded.profile, 'cloudevents');
  assert.equal(decoded.format, 'binary');
  // As from Kafka: the content type comes back as the event's datacontenttype.
  assert.deepEqual({ ...decoded.event }, { ...event, datacontenttype: 'application/json' });
  // A header HTTP cannot carry makes the message unsendable (permanent), not a crash.
  assert.throws(() => toWebhookRequest({ ...msg!, headers: { 'x-a': 'a\nb' } }, 'x'), /cannot carry/);
});

test('batched mode: one JSON array of structured events, application/cloudevents-batch+json', () => {
  const binding = bindingFor(sink({ mode: 'structured', batch: 5 }));
  const events = [1, 2].map((n) => createEvent({ source: 's', type: 't', data: { n } }));
  const msgs = events.flatMap((e) => binding.encode(e));
  const req = toBatchRequest(msgs, webhookIds(msgs));
  assert.equal(req.headers['content-type'], 'application/cloudevents-batch+json; charset=UTF-8');
  const arr = JSON.parse(req.body!.toString()) as Array<{ id: string; data: unknown }>;
  assert.deepEqual(arr.map((e) => e.id), events.map((e) => e.id));
  assert.match(req.id, /^batch_/);
  assert.equal(req.id, toBatchRequest(msgs, webhookIds(msgs)).id, 'the same batch gets the same id');
});

test('answers: 2xx aside, 408/429/5xx and redirects transient, other 4xx permanent with the first bytes of the body', () => {
  const where = 'https://example.test/hooks';
  const gone = classifyStatus(410, {}, Buffer.from('endpoint disabled\nby its owner'), where, []);
  assert.equal(gone.permanent, true);
  assert.match(gone.error.message, /answered 410: endpoint disabled by its owner/);
  const long = classifyStatus(400, {}, Buffer.alloc(5000, 'x'), where, []);
  assert.ok(long.error.message.length < 400, 'only the first bytes are quoted');
  assert.equal(classifyStatus(401, {}, Buffer.alloc(0), where, []).error.code, 'BROKER_AUTH');
  const limited = classifyStatus(429, { 'retry-after': '7' }, Buffer.alloc(0), where, []);
  assert.deepEqual([limited.permanent, limited.endpointDown, limited.retryAfterMs], [false, true, 7000]);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(classifyStatus(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, Buffer.alloc(0), where, [], now).retryAfterMs, 30_000);
  assert.equal(classifyStatus(500, {}, Buffer.alloc(0), where, []).endpointDown, false, 'one 500 is about one message');
  assert.equal(classifyStatus(408, {}, Buffer.alloc(0), where, []).permanent, false);
  const moved = classifyStatus(301, { location: 'https://new.example.test/hooks' }, Buffer.alloc(0), where, []);
  assert.equal(moved.permanent, false);
  assert.match(moved.error.message, /not followed.*url/);
  assert.equal(parseRetryAfter('86400000'), 3_600_000, 'capped at an hour');
  assert.equal(parseRetryAfter('soon'), undefined);
  // A body echoing a configured secret is redacted.
  assert.doesNotMatch(classifyStatus(400, {}, Buffer.from('bad token Bearer-s3cr3t-value-123'), where, ['s3cr3t-value-123']).error.message, /s3cr3t/);
  const refused = classifyRequestError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), where, [], 1000, false);
  assert.deepEqual([refused.permanent, refused.endpointDown], [false, true]);
  assert.match(refused.error.message, /connection refused/);
  assert.equal(classifyRequestError(new Error('aborted'), where, [], 1000, true).error.code, 'TIMEOUT');
});

test('config: TLS files that are no PEM are errors naming the key when the configuration loads', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(join(tmpdir(), 'herald-webhook-unit-'));
  try {
    writeFileSync(join(d, 'ca.pem'), 'not a certificate');
    assert.throws(() => bindingFor(sink({ tls: { ca: join(d, 'ca.pem') } })), (err: ConfigError) => err instanceof ConfigError && err.details[0]?.path === 'sinks[0].tls.ca');
    assert.throws(() => bindingFor(sink({ tls: { ca: join(d, 'missing.pem') } })), (err: ConfigError) => err.details[0]?.path === 'sinks[0].tls.ca' && /cannot read/.test(err.message));
    assert.throws(() => bindingFor(sink({ tls: { cert: join(d, 'ca.pem') } })), (err: ConfigError) => /tls\.key/.test(err.message), 'a certificate needs its key');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
