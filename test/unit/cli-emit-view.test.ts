import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseData, parseEntity, run as emit } from '../../src/cli/emit.js';
import { run as topics } from '../../src/cli/topics.js';
import { passes, prettyLine, rawLine, run as view } from '../../src/cli/view.js';
import { HeraldError, UsageError } from '../../src/errors.js';
import { createEvent } from '../../src/events/index.js';

/** Runs a command in-process and returns the usage error it threw. */
async function usageError(p: Promise<number>): Promise<UsageError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HeraldError, String(err));
    assert.equal(err.exitCode, 2, err.message);
    return err as UsageError;
  }
  assert.fail('expected a usage error');
}

describe('herald emit flag parsing', () => {
  it('parses --data JSON and --data @FILE', () => {
    assert.deepEqual(parseData('{"a":[1,2]}'), { a: [1, 2] });
    const dir = mkdtempSync(join(tmpdir(), 'herald-emit-'));
    try {
      const file = join(dir, 'data.json');
      writeFileSync(file, '{"from":"file"}');
      assert.deepEqual(parseData(`@${file}`), { from: 'file' });
      writeFileSync(file, 'nope');
      assert.throws(() => parseData(`@${file}`), /--data @.*is not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects malformed --data naming the flag', () => {
    assert.throws(() => parseData('{bad'), (e: unknown) => e instanceof UsageError && /^--data is not valid JSON/.test(e.message));
  });

  it('parses --entity KIND:ID (the id may hold colons)', () => {
    assert.deepEqual(parseEntity('cluster:c1'), { kind: 'cluster', id: 'c1' });
    assert.deepEqual(parseEntity('vm:urn:x:1'), { kind: 'vm', id: 'urn:x:1' });
    assert.throws(() => parseEntity('cluster'), /--entity must be KIND:ID/);
    assert.throws(() => parseEntity(':x'), /--entity must be KIND:ID/);
  });

  it('reports a missing --type by flag name', async () => {
    const err = await usageError(emit(['--brokers', '127.0.0.1:9', '--source', 's']));
    assert.match(err.message, /--type is required/);
  });

  it('maps several event problems to their flags', async () => {
    const err = await usageError(emit(['--brokers', '127.0.0.1:9', '--type', 't', '--severity', 'loud', '--time', 'noon']));
    assert.deepEqual(err.details.map((d) => d.path).sort(), ['--severity', '--time']);
  });

  it('rejects an unknown flag, bad --brokers, bad --mode and stray profile flags', async () => {
    assert.match((await usageError(emit(['--type', 't', '--colour', 'red']))).message, /unknown flag --colour/);
    assert.match((await usageError(emit(['--type', 't', '--brokers', 'localhost']))).message, /--brokers must be HOST:PORT/);
    assert.match((await usageError(emit(['--type', 't', '--brokers', '127.0.0.1:9', '--mode', 'fancy']))).message, /--mode must be one of binary, structured/);
    assert.match((await usageError(emit(['--type', 't', '--brokers', '127.0.0.1:9', '--profile', 'choria', '--mode', 'binary']))).message, /--mode applies to --profile cloudevents/);
    assert.match((await usageError(emit(['--type', 't', '--brokers', '127.0.0.1:9', '--identity', 'x']))).message, /--identity applies to --profile choria/);
    assert.match((await usageError(emit(['--type', 't', '--brokers', '127.0.0.1:9', '--timeout', 'forever']))).message, /--timeout must be a duration/);
    assert.match((await usageError(emit(['--type', 't', '--brokers', '127.0.0.1:9', '--profile', 'nope']))).message, /--profile must be one of/);
  });
});

describe('herald view and topics flag parsing', () => {
  it('names --nats or --amqp when its URL is refused (emit and view)', async () => {
    assert.match((await usageError(emit(['--type', 't', '--source', 's', '--nats', 'http://127.0.0.1:1']))).message, /^--nats: scheme http: is not supported for NATS/);
    assert.match((await usageError(emit(['--type', 't', '--source', 's', '--amqp', 'kafka://h']))).message, /^--amqp: scheme kafka: is not supported for AMQP/);
    assert.match((await usageError(view(['--nats', 'nats://127.0.0.1:1,ftp://h', '--max', '1']))).message, /^--nats: scheme ftp: is not supported for NATS/);
  });

  it('needs a topic or a pattern', async () => {
    assert.match((await usageError(view(['--brokers', '127.0.0.1:9']))).message, /--topic/);
  });

  it('rejects bad --format, --max, --pattern and --severity', async () => {
    assert.match((await usageError(view(['--brokers', '127.0.0.1:9', '--topic', 't', '--format', 'xml']))).message, /--format must be one of pretty, json, event, raw/);
    assert.match((await usageError(view(['--brokers', '127.0.0.1:9', '--topic', 't', '--max', '0']))).message, /--max must be a whole number/);
    assert.match((await usageError(view(['--brokers', '127.0.0.1:9', '--pattern', '(']))).message, /--pattern is not a valid regular expression/);
    assert.match((await usageError(view(['--brokers', '127.0.0.1:9', '--topic', 't', '--severity', 'loud']))).message, /--severity must be one of/);
    assert.match((await usageError(topics(['--brokers', '127.0.0.1:9', '--format', 'yaml']))).message, /--format must be one of table, json/);
  });
});

describe('herald view output', () => {
  const event = createEvent({ source: 's', type: 'com.x.up', entity: { kind: 'host', id: 'h1' }, severity: 'error', message: 'down', time: '2024-05-01T12:34:56Z' });

  it('filters by type, severity and entity (kind or kind:id)', () => {
    assert.ok(passes(event, {}));
    assert.ok(passes(event, { types: ['com.x.up'], severities: ['error'], entities: [{ kind: 'host' }] }));
    assert.ok(passes(event, { entities: [{ kind: 'cluster' }, { kind: 'host', id: 'h1' }] }));
    assert.ok(!passes(event, { types: ['other'] }));
    assert.ok(!passes(event, { severities: ['info'] }));
    assert.ok(!passes(event, { entities: [{ kind: 'host', id: 'h2' }] }));
  });

  it('prints HH:MM:SS [type] subject: summary with the event time', () => {
    const line = prettyLine({ profile: 'cloudevents', format: 'binary', event, document: {} });
    const t = new Date('2024-05-01T12:34:56Z');
    const hh = String(t.getHours()).padStart(2, '0');
    assert.equal(line, `${hh}:34:56 [com.x.up] host:h1: down`);
  });

  it('prints raw messages as received, binary values as base64', () => {
    const text = JSON.parse(rawLine({ topic: 't', partition: 0, offset: '5', key: 'k', value: Buffer.from('hi'), headers: { a: 'b' } }));
    assert.deepEqual(text, { topic: 't', partition: 0, offset: '5', key: 'k', headers: { a: 'b' }, value: 'hi' });
    const bin = JSON.parse(rawLine({ topic: 't', value: Buffer.from([0xff, 0xfe]), headers: {} }));
    assert.equal(bin.encoding, 'base64');
    assert.equal(Buffer.from(bin.value, 'base64').length, 2);
    assert.equal(JSON.parse(rawLine({ topic: 't', value: null, headers: {} })).value, null);
  });
});
