import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServeConfig, loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('defaults: 127.0.0.1:8080, SQLite in ./data, streaming on, no sinks', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 8080);
  assert.equal(c.store.url, 'sqlite:./data/herald.db');
  assert.equal(c.streaming, true);
  assert.deepEqual(c.sinks, []);
  assert.ok(Object.isFrozen(c.server));
});

test('file < env < overrides', () => {
  const f = file('a.yaml', 'server: { port: 9000, host: 0.0.0.0 }\nretention: { days: 7 }\n');
  const c = loadConfig({ file: f, env: { HERALD_PORT: '9100' }, overrides: { server: { port: 9200 } } });
  assert.equal(c.server.port, 9200);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.retention.days, 7);
});

test('an unknown key is refused, naming it and the allowed keys', () => {
  const f = file('b.yaml', 'server: { prot: 1 }\n');
  assert.throws(() => loadConfig({ file: f, env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.details[0]!.path, 'server.prot');
    assert.match(err.details[0]!.message, /allowed: host, port, bodyLimit/);
    return true;
  });
});

test('sink problems name the sink key', () => {
  const f = file('c.json', JSON.stringify({ sinks: [{ name: 'k', type: 'kafka', brokers: ['nohost'] }, { name: 'n', type: 'nats' }] }));
  assert.throws(() => loadConfig({ file: f, env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.details.map((d) => d.path), ['sinks[0].brokers[0]', 'sinks[1].url']);
    return true;
  });
});

test('environment variables are checked and named', () => {
  assert.throws(() => loadConfig({ env: { HERALD_PORT: 'eighty' } }), /HERALD_PORT must be a port number/);
  assert.throws(() => loadConfig({ env: { HERALD_STREAMING: 'maybe' } }), /HERALD_STREAMING must be true or false/);
  assert.throws(() => loadConfig({ env: { HERALD_DB: 'mysql://x' } }), /HERALD_DB must be sqlite:PATH or postgres/);
  assert.throws(() => loadConfig({ env: { HERALD_KAFKA_BROKERS: 'a:b' } }), /HERALD_KAFKA_BROKERS must be/);
});

test('HERALD_KAFKA_* make one Kafka sink; the assisted profile honours its own variable names', () => {
  const c = loadConfig({ env: { HERALD_KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.2:9092', HERALD_KAFKA_TOPIC: 't' } });
  assert.deepEqual(c.sinks, [{ name: 'kafka', type: 'kafka', brokers: ['127.0.0.1:9092', '127.0.0.2:9092'], topic: 't' }]);
  const a = loadConfig({ env: { HERALD_KAFKA_PROFILE: 'assisted', KAFKA_BOOTSTRAP_SERVER: 'k:9092', KAFKA_EVENT_STREAM_TOPIC: 'events-stream', ENABLE_EVENT_STREAMING: 'false' } });
  assert.equal(a.streaming, false);
  const sink = a.sinks[0]!;
  assert.ok(sink.type === 'kafka');
  assert.deepEqual(sink.brokers, ['k:9092']);
  assert.equal(a.sinks[0]!.topic, 'events-stream');
});

test('an empty config file (0 bytes or only blanks) is refused, naming the file', () => {
  for (const [name, text] of [['empty.yaml', ''], ['blank.yaml', '  \n\n']] as const) {
    const f = file(name, text);
    assert.throws(() => loadConfig({ file: f, env: {} }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, new RegExp(`config file .*${name.replace('.', '\\.')} is empty`));
      assert.deepEqual(e.details.map((p) => p.message), ['is empty']);
      return true;
    });
  }
});

test('a config file that is not YAML names the file', () => {
  const f = file('d.yaml', 'server: [unclosed\n');
  assert.throws(() => loadConfig({ file: f, env: {} }), /config file .*d\.yaml is not valid YAML/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }), /cannot read config file .*ENOENT/);
});

test('auth.requireTokens: off by default, HERALD_REQUIRE_TOKENS and the file key are booleans', () => {
  assert.equal(loadConfig({ env: {} }).auth.requireTokens, false);
  assert.equal(loadConfig({ env: { HERALD_REQUIRE_TOKENS: 'true' } }).auth.requireTokens, true);
  assert.equal(loadConfig({ env: { HERALD_REQUIRE_TOKENS: '0' } }).auth.requireTokens, false);
  // Only the variable given changes: tokens from the file stay when the env sets requireTokens.
  const f = file('tokens.yaml', 'auth: { apiTokens: [file-token-123], requireTokens: false }\n');
  const c = loadConfig({ file: f, env: { HERALD_REQUIRE_TOKENS: 'yes' } });
  assert.equal(c.auth.requireTokens, true);
  assert.deepEqual(c.auth.apiTokens, ['file-token-123']);
  assert.throws(() => loadConfig({ env: { HERALD_REQUIRE_TOKENS: 'always' } }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.deepEqual(err.details.map((d) => d.path), ['HERALD_REQUIRE_TOKENS']);
    return true;
  });
  assert.throws(() => loadConfig({ file: file('req.yaml', 'auth: { requireTokens: "yes" }\n'), env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.details[0]!.path, 'auth.requireTokens');
    return true;
  });
});

test('checkServeConfig: requireTokens without an API token is refused naming HERALD_API_TOKENS; with one it passes', () => {
  const refused = (env: NodeJS.ProcessEnv) => assert.throws(() => checkServeConfig(loadConfig({ env })), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /HERALD_API_TOKENS/);
    assert.deepEqual(err.details.map((d) => d.path), ['HERALD_API_TOKENS']);
    return true;
  });
  refused({ HERALD_REQUIRE_TOKENS: 'true' });
  refused({ HERALD_REQUIRE_TOKENS: 'true', HERALD_API_TOKENS: '' });
  refused({ HERALD_REQUIRE_TOKENS: 'true', HERALD_API_TOKENS: ' , ' });
  // Read tokens do not protect writes.
  refused({ HERALD_REQUIRE_TOKENS: 'true', HERALD_READ_TOKENS: 'read-token-123' });
  const secret = 'write-token-123';
  checkServeConfig(loadConfig({ env: { HERALD_REQUIRE_TOKENS: 'true', HERALD_API_TOKENS: secret } }));
  // Without the switch, no tokens is the documented open default (loopback bind).
  checkServeConfig(loadConfig({ env: {} }));
  // The refusal names the variable, never a configured token.
  try {
    checkServeConfig(loadConfig({ env: { HERALD_REQUIRE_TOKENS: 'true', HERALD_READ_TOKENS: 'read-token-456' } }));
    assert.fail('refused');
  } catch (err) {
    assert.doesNotMatch((err as Error).message, /read-token-456/);
  }
});
