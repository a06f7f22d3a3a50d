/** URL redaction, NATS/AMQP URL parsing and auth option building: no network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, HeraldError } from '../../src/errors.js';
import {
  checkTlsFiles,
  natsAuthFromEnv,
  parseAmqpUrl,
  parseNatsUrl,
  redactText,
  redactUrl,
} from '../../src/transports/shared/url.js';
import { clientOptions } from '../../src/transports/nats/connection.js';
import { resolveNatsSettings } from '../../src/transports/nats/options.js';
import { buildAmqpOptions } from '../../src/transports/amqp/options.js';

/** The NATS client options of a URL and auth settings, as the sink and the source build them. */
const buildNatsOptions = (o: Omit<Parameters<typeof resolveNatsSettings>[0], 'name'>) => {
  const settings = resolveNatsSettings({ name: 'herald-test', ...o });
  return { ...settings, options: clientOptions(settings) };
};

test('redactUrl hides passwords and bare tokens, keeps user names, hosts and paths', () => {
  assert.equal(redactUrl('amqp://guest:guest@127.0.0.1:5672/vhost'), 'amqp://guest:[REDACTED]@127.0.0.1:5672/vhost');
  assert.equal(redactUrl('nats://s3cr3ttoken@nats.example:4222'), 'nats://[REDACTED]@nats.example:4222');
  assert.equal(redactUrl('amqps://u:p%40ss@h'), 'amqps://u:[REDACTED]@h');
  assert.equal(redactUrl('nats://a:1,nats://bob:pw@b:2'), 'nats://a:1,nats://bob:[REDACTED]@b:2');
  assert.equal(redactUrl('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
  assert.equal(redactUrl('connect ECONNREFUSED for amqp://x:topsecret@h:1 (retrying)'), 'connect ECONNREFUSED for amqp://x:[REDACTED]@h:1 (retrying)');
});

test('redactText also removes listed secrets, ignoring very short ones', () => {
  assert.equal(redactText('auth failed for token abcdef123', ['abcdef123']), 'auth failed for token [REDACTED]');
  assert.equal(redactText('a b c', ['a']), 'a b c');
  assert.equal(redactText('x', [undefined]), 'x');
});

test('parseNatsUrl: servers without credentials; user/pass, token, tls and lists', () => {
  assert.deepEqual(parseNatsUrl('nats://127.0.0.1:4222'), { servers: ['127.0.0.1:4222'], tls: false });
  assert.deepEqual(parseNatsUrl('nats://alice:pw@h1,nats://h2:5000'), { servers: ['h1:4222', 'h2:5000'], tls: false, user: 'alice', pass: 'pw' });
  assert.deepEqual(parseNatsUrl('nats://tok@h'), { servers: ['h:4222'], tls: false, token: 'tok' });
  assert.deepEqual(parseNatsUrl('tls://h:4443'), { servers: ['h:4443'], tls: true });
  assert.deepEqual(parseNatsUrl('localhost:4222'), { servers: ['localhost:4222'], tls: false });
});

test('parseNatsUrl: bad URLs are ConfigErrors naming the key, without the password', () => {
  assert.throws(() => parseNatsUrl('http://u:hunter22@h', 'sinks[0].url'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^sinks\[0\]\.url: /);
    assert.doesNotMatch(err.message, /hunter22/);
    return true;
  });
  assert.throws(() => parseNatsUrl('', '--nats'), /--nats: a NATS URL is required/);
  assert.throws(() => parseNatsUrl('ws://h', '--nats'), /WebSocket/);
});

test('parseAmqpUrl accepts amqp and amqps, refuses other schemes naming the key', () => {
  assert.deepEqual(parseAmqpUrl('amqps://u:p@h:5671/v'), { tls: true, host: 'h:5671', display: 'amqps://u:[REDACTED]@h:5671/v' });
  assert.equal(parseAmqpUrl('amqp://h').tls, false);
  assert.throws(() => parseAmqpUrl('nats://h', '--amqp'), /--amqp: scheme nats: is not supported/);
  assert.throws(() => parseAmqpUrl('not a url', '--amqp'), (err: unknown) => err instanceof ConfigError && /--amqp/.test(err.message));
});

test('NATS auth precedence: config keys, then the URL, then NATS_* variables', () => {
  const env = { NATS_TOKEN: 'envtoken', NATS_USER: 'eu', NATS_PASSWORD: 'ep' };
  assert.equal(buildNatsOptions({ url: 'nats://h', env }).options.token, 'envtoken');
  const fromUrl = buildNatsOptions({ url: 'nats://bob:pw@h', env }).options;
  assert.equal(fromUrl.user, 'bob');
  assert.equal(fromUrl.pass, 'pw');
  assert.equal(fromUrl.token, undefined);
  assert.equal(buildNatsOptions({ url: 'nats://urltoken@h', token: 'cfgtoken', env }).options.token, 'cfgtoken');
  const userEnv = buildNatsOptions({ url: 'nats://h', env: { NATS_USER: 'eu', NATS_PASSWORD: 'ep' } });
  assert.equal(userEnv.options.user, 'eu');
  assert.deepEqual(userEnv.secrets, ['ep']);
  const built = buildNatsOptions({ url: 'nats://u:pw@h', env: {} });
  assert.equal(built.display, 'nats://u:[REDACTED]@h');
  assert.deepEqual(built.options.servers, ['h:4222']);
  assert.equal(built.options.maxReconnectAttempts, -1);
  assert.deepEqual(natsAuthFromEnv({ NATS_CA: '/ca.pem' }), { tls: { ca: '/ca.pem' } });
});

test('missing creds or TLS files are ConfigErrors naming the key', () => {
  assert.throws(() => buildNatsOptions({ url: 'nats://h', creds: '/nonexistent/x.creds', env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^creds: cannot read \/nonexistent\/x\.creds \(ENOENT\)/);
    return true;
  });
  assert.throws(() => buildNatsOptions({ url: 'nats://h', env: { NATS_CA: '/nonexistent/ca.pem' } }), /NATS_CA\/NATS_CERT\/NATS_KEY\.ca: cannot read/);
  assert.throws(() => buildAmqpOptions({ url: 'amqps://h', connectionName: 'c', tls: { ca: '/nonexistent/ca.pem' } }), /: tls\.ca: cannot read/);
  assert.throws(() => checkTlsFiles({ cert: '/c.pem' }, 'tls'), /tls\.key: a client certificate needs both cert and key/);
  assert.throws(() => buildAmqpOptions({ url: 'amqp://h', connectionName: 'c', tls: { ca: '/x' } }), (err: unknown) => err instanceof HeraldError && err.code === 'CONFIG' && /not amqps/.test(err.message));
});

test('buildAmqpOptions names the connection and keeps the password only as a secret', () => {
  const b = buildAmqpOptions({ url: 'amqp://guest:pa55word@h:5672', connectionName: 'herald-sink-x' });
  assert.deepEqual(b.socket.clientProperties, { connection_name: 'herald-sink-x' });
  assert.equal(b.display, 'amqp://guest:[REDACTED]@h:5672');
  assert.deepEqual(b.secrets, ['pa55word']);
});
