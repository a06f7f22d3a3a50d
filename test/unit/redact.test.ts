import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent } from '../../src/events/index.js';
import { createRedactor, createValueRedactor, REDACTED, redactUrls } from '../../src/events/redact.js';

test('secret-looking keys are redacted anywhere in data, public keys kept', () => {
  const redact = createRedactor();
  const e = createEvent({
    source: 's',
    type: 't',
    data: {
      name: 'c1',
      password: 'hunter2',
      nested: {
        'API-Key': 'k1',
        list: [{ db_password: 'p' }, { Client_Secret: 'x', ok: 1 }, 'plain'],
        pull_secret: '{"auths":{}}',
        ssh_public_key: 'ssh-rsa AAAA',
        ssh_private_key: '-----BEGIN',
        'bmc.credentials': { username: 'u', password: 'p' },
        Authorization: 'Bearer abc',
        auth_token: 'tok',
        tokenCount: 5,
      },
      empty_password: '',
    },
  });
  const r = redact(e);
  const d = r.data as Record<string, any>;
  assert.equal(d.name, 'c1');
  assert.equal(d.password, REDACTED);
  assert.equal(d.nested['API-Key'], REDACTED);
  assert.equal(d.nested.list[0].db_password, REDACTED);
  assert.equal(d.nested.list[1].Client_Secret, REDACTED);
  assert.equal(d.nested.list[1].ok, 1);
  assert.equal(d.nested.list[2], 'plain');
  assert.equal(d.nested.pull_secret, REDACTED);
  assert.equal(d.nested.ssh_public_key, 'ssh-rsa AAAA');
  assert.equal(d.nested.ssh_private_key, REDACTED);
  assert.equal(d.nested['bmc.credentials'], REDACTED);
  assert.equal(d.nested.Authorization, REDACTED);
  assert.equal(d.nested.auth_token, REDACTED);
  // "tokenCount" contains the word token: redaction errs on the side of hiding.
  assert.equal(d.nested.tokenCount, REDACTED);
  assert.equal(d.empty_password, '');
  // The input is untouched.
  assert.equal((e.data as Record<string, any>).password, 'hunter2');
  assert.ok(Object.isFrozen(r));
});

test('credentials inside URLs are removed from strings and the message', () => {
  const redact = createRedactor();
  const e = createEvent({
    source: 's',
    type: 't',
    message: 'proxy http://bob:s3cr3t@proxy.local:3128 failed; retry amqp://guest:guest@mq:5672/vhost',
    data: { proxy: { httpProxy: 'https://u:p%40ss@10.0.0.1:8080/path' }, urls: ['postgres://app:pw@db/x', 'https://example.com/no-creds'] },
  });
  const r = redact(e);
  assert.equal(r.message, `proxy http://bob:${REDACTED}@proxy.local:3128 failed; retry amqp://guest:${REDACTED}@mq:5672/vhost`);
  const d = r.data as Record<string, any>;
  assert.equal(d.proxy.httpProxy, `https://u:${REDACTED}@10.0.0.1:8080/path`);
  assert.deepEqual(d.urls, [`postgres://app:${REDACTED}@db/x`, 'https://example.com/no-creds']);
  assert.ok(!JSON.stringify(r).includes('s3cr3t'));
  assert.equal(redactUrls('nothing here'), 'nothing here');
});

test('extra keys are added, case- and separator-insensitive', () => {
  const redact = createValueRedactor(['install_config_overrides', 'X-Internal']);
  const r = redact({ installConfigOverrides: '{"a":1}', 'x_internal-id': 7, other: 'ok' }) as Record<string, unknown>;
  assert.equal(r.installConfigOverrides, REDACTED);
  assert.equal(r['x_internal-id'], REDACTED);
  assert.equal(r.other, 'ok');
  assert.equal(createValueRedactor()('x'), 'x');
  assert.equal(createValueRedactor()(null), null);
});
