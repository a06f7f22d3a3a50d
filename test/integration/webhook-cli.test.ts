/**
 * Webhooks from the command line and the library, against a real HTTP receiver on loopback:
 * - `herald emit --webhook URL` delivers one signed event (secret from HERALD_WEBHOOK_SECRET),
 *   verified by the `standardwebhooks` package; a 410 answer fails with exit 1 naming the
 *   status and the body; an unreachable endpoint fails with exit 1 within --timeout; a bad URL
 *   or secret is exit 2 naming the flag or variable, never echoing the secret;
 * - `herald view`, `tally` and `bridge` refuse --webhook as a source (exit 2);
 * - the library publisher, direct and durable, delivers to a webhook sink.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { runCli } from '../helpers/env.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { startReceiver, stopReceivers, verifyStandardWebhook } from '../helpers/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwKq3h3UpHQVY=';
const dir = mkdtempSync(join(tmpdir(), 'herald-webhook-cli-'));

after(async () => {
  await stopReceivers();
  rmSync(dir, { recursive: true, force: true });
});

const receiver = startReceiver;

test('herald emit --webhook: one signed delivery, the secret from HERALD_WEBHOOK_SECRET', async () => {
  const r = await receiver();
  const res = await runCli(['emit', '--webhook', r.url(), '--type', 'com.example.invoice.paid', '--source', 'billing', '--entity', 'invoice:42', '--data', '{"amount":12}'], { env: { HERALD_WEBHOOK_SECRET: SECRET } });
  assert.equal(res.code, 0, res.stderr);
  const id = res.stdout.trim().split(/\s+/)[0]!;
  assert.equal(r.requests.length, 1);
  const q = r.requests[0]!;
  assert.equal(q.headers['webhook-id'], id);
  assert.equal(q.headers['ce-type'], 'com.example.invoice.paid');
  assert.deepEqual(verifyStandardWebhook(SECRET, q), { amount: 12 });
  assert.ok(!(res.stdout + res.stderr).includes(SECRET.slice(6)));
});

test('herald emit --webhook: a 410 is exit 1 with the status and the first bytes of the answer', async () => {
  const r = await receiver();
  r.answer = () => ({ status: 410, body: 'this hook was deleted' });
  const res = await runCli(['emit', '--webhook', r.url(), '--type', 't', '--data', '{}'], { env: { HERALD_WEBHOOK_SECRET: SECRET } });
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, /410: this hook was deleted/);
});

test('herald emit --webhook: an unreachable endpoint is exit 1 within --timeout; bad input is exit 2 naming it', async () => {
  const port = await freePort();
  const down = await runCli(['emit', '--webhook', `http://127.0.0.1:${port}/x`, '--type', 't', '--timeout', '2s']);
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, /connection refused/);
  const bad = await runCli(['emit', '--webhook', 'ftp://example.test/x', '--type', 't']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--webhook/);
  const badSecret = await runCli(['emit', '--webhook', 'http://127.0.0.1:9/x', '--type', 't'], { env: { HERALD_WEBHOOK_SECRET: 'whsec_tooShortSecret' } });
  assert.equal(badSecret.code, 2, badSecret.stderr);
  assert.match(badSecret.stderr, /HERALD_WEBHOOK_SECRET/);
  assert.doesNotMatch(badSecret.stderr, /tooShortSecret/);
});

test('herald view, tally and bridge refuse --webhook as a source (exit 2)', async () => {
  for (const args of [['view', '--webhook', 'http://127.0.0.1:9/x'], ['tally', '--webhook', 'http://127.0.0.1:9/x'], ['bridge', '--webhook', 'http://127.0.0.1:9/x', '--sink', 'x']]) {
    const res = await runCli(args, { timeoutMs: 30_000 });
    assert.equal(res.code, 2, `${args[0]}: ${res.stderr}`);
    assert.match(res.stderr, /--webhook/, args[0]);
  }
});

test('the library publisher delivers to a webhook sink, direct and durable', async () => {
  const r = await receiver();
  const sink = { name: 'hook', type: 'webhook' as const, url: r.url(), secret: SECRET };
  const direct = createPublisher({ sinks: [sink] });
  try {
    const sent = await direct.emit({ source: 'lib', type: 'com.example.direct', data: { via: 'direct' } });
    // Direct mode resolves once the endpoint acknowledged.
    assert.equal(r.requests.length, 1);
    assert.equal(r.requests[0]!.headers['webhook-id'], sent.id);
    assert.deepEqual(verifyStandardWebhook(SECRET, r.requests[0]!), { via: 'direct' });
  } finally {
    await direct.close();
  }
  const durable = createPublisher({ sinks: [sink], durable: { store: `sqlite:${join(dir, 'durable.db')}` } });
  try {
    const sent = await durable.emit({ source: 'lib', type: 'com.example.durable', data: { via: 'durable' } });
    await waitFor('the durable event at the receiver', () => r.requests.some((q) => q.headers['webhook-id'] === sent.id), 30_000);
    assert.deepEqual(verifyStandardWebhook(SECRET, r.requests.find((q) => q.headers['webhook-id'] === sent.id)!), { via: 'durable' });
  } finally {
    await durable.close();
  }
});
