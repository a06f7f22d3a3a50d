import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadProducerProperties, parseProperties, producerSettingsFromProperties } from '../../src/transports/kafka/properties.js';
import { ConfigError } from '../../src/errors.js';

const settings = (text: string) => producerSettingsFromProperties(parseProperties(text), 'kafka.producer.properties');

describe('parseProperties (java.util.Properties rules)', () => {
  it('reads key=value, key:value and key value, skipping # and ! comments', () => {
    const p = parseProperties('# comment\n! also a comment\na=1\nb: 2\nc 3\n  d = four  \n\n');
    assert.deepEqual([...p], [['a', '1'], ['b', '2'], ['c', '3'], ['d', 'four  ']]);
  });

  it('joins continuation lines and drops the continuation line indent', () => {
    const p = parseProperties('bootstrap.servers=a:9092,\\\n    b:9092\nnext=x');
    assert.equal(p.get('bootstrap.servers'), 'a:9092,b:9092');
    assert.equal(p.get('next'), 'x');
  });

  it('keeps an escaped trailing backslash and decodes escapes', () => {
    const p = parseProperties('path=C:\\\\dir\\\\\nk\\=ey=v\\u00e9\\tx\n');
    assert.equal(p.get('path'), 'C:\\dir\\');
    assert.equal(p.get('k=ey'), 'vé\tx');
  });

  it('does not treat a backslash at the end of a comment as a continuation', () => {
    const p = parseProperties('# comment \\\na=1');
    assert.equal(p.get('a'), '1');
  });
});

describe('producerSettingsFromProperties', () => {
  it('maps the known keys onto client settings', () => {
    const { settings: s, warnings } = settings([
      'bootstrap.servers=127.0.0.1:9092, kafka-2:9093',
      'acks=all', 'retries=5', 'client.id=cloudstack', 'compression.type=gzip',
      'linger.ms=5', 'batch.size=16384', 'request.timeout.ms=3000', 'topic=cloudstack-events',
      'key.serializer=org.apache.kafka.common.serialization.StringSerializer',
    ].join('\n'));
    assert.deepEqual(warnings, []);
    assert.deepEqual(s.brokers, ['127.0.0.1:9092', 'kafka-2:9093']);
    assert.equal(s.acks, -1);
    assert.equal(s.retries, 5);
    assert.equal(s.clientId, 'cloudstack');
    assert.equal(s.compression, 'gzip');
    assert.equal(s.lingerMs, 5);
    assert.equal(s.batchSize, 16384);
    assert.equal(s.requestTimeoutMs, 3000);
    assert.equal(s.topic, 'cloudstack-events');
  });

  it('maps acks 0, 1 and -1', () => {
    assert.equal(settings('acks=0').settings.acks, 0);
    assert.equal(settings('acks=1').settings.acks, 1);
    assert.equal(settings('acks=-1').settings.acks, -1);
  });

  it('reads SASL credentials from sasl.jaas.config', () => {
    const { settings: s } = settings('security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3cret";');
    assert.equal(s.security?.protocol, 'SASL_PLAINTEXT');
    assert.equal(s.security?.sasl?.mechanism, 'SCRAM-SHA-256');
    assert.equal(s.security?.sasl?.username, 'alice');
    assert.equal(s.security?.sasl?.password.reveal(), 's3cret');
    // The password never prints, not even in a dump of the settings.
    assert.ok(!JSON.stringify(s).includes('s3cret'));
  });

  it('gives a warning, not an error, for an unknown key, without echoing its value', () => {
    const { warnings } = settings('bootstrap.servers=a:1\nmax.block.ms=60000\nmy.secret=hunter2');
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /max\.block\.ms/);
    assert.ok(!warnings.join(' ').includes('hunter2'));
  });

  for (const [line, key] of [
    ['acks=maybe', 'acks'],
    ['linger.ms=-1', 'linger.ms'],
    ['retries=lots', 'retries'],
    ['compression.type=brotli', 'compression.type'],
    ['bootstrap.servers=nohost', 'bootstrap.servers'],
    ['security.protocol=SSH', 'security.protocol'],
    ['topic=bad topic', 'topic'],
  ] as const) {
    it(`rejects ${line} with a ConfigError naming the key and the file`, () => {
      assert.throws(() => settings(line), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, new RegExp(key.replace(/\./g, '\\.')));
        assert.match(err.message, /kafka\.producer\.properties/);
        assert.equal(err.exitCode, 2);
        return true;
      });
    });
  }

  it('needs credentials for a SASL security protocol', () => {
    assert.throws(() => settings('security.protocol=SASL_SSL'), (err: unknown) => err instanceof ConfigError && /sasl\.mechanism/.test(err.message));
  });

  it('never puts a password into an error message', () => {
    assert.throws(() => settings('security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=password="topsecret"'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(!err.message.includes('topsecret'));
      return true;
    });
  });
});

describe('loadProducerProperties', () => {
  it('reads a file and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-props-'));
    try {
      const file = join(dir, 'kafka.producer.properties');
      writeFileSync(file, 'bootstrap.servers=127.0.0.1:19092\nacks=1\n');
      assert.deepEqual(loadProducerProperties(file).settings, { brokers: ['127.0.0.1:19092'], acks: 1 });
      writeFileSync(file, 'linger.ms=soon\n');
      assert.throws(() => loadProducerProperties(file), (err: unknown) => err instanceof ConfigError && err.message.includes(file) && err.message.includes('linger.ms'));
      assert.throws(() => loadProducerProperties(join(dir, 'missing.properties')), (err: unknown) => err instanceof ConfigError && /missing\.properties/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
