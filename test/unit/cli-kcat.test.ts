/**
 * The pieces of the kcat-style command line that need no broker: `--offset` parsing and the
 * start offset it gives, `--header`, the bulk summary line, view's JSON and `--meta` forms per
 * transport, the progress line (terminal and piped), and the transport `emit` chooses.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { lineRanges, summaryLine } from '../../src/cli/emit-input.js';
import { parseHeaders } from '../../src/cli/emit.js';
import { parseOffset, startOffset } from '../../src/cli/kafka-seek.js';
import { Progress, progressText } from '../../src/cli/progress.js';
import { chosenTransport, SINK_FLAG_TRANSPORTS, sinkFromFlags } from '../../src/cli/transport-flags.js';
import { jsonLine, metaSuffix, placeOf } from '../../src/cli/view.js';
import { UsageError } from '../../src/errors.js';
import type { DecodedMessage, IncomingMessage } from '../../src/profiles/types.js';

describe('--offset', () => {
  it('parses beginning, end, N, -N and @timestamp; anything else is a UsageError naming --offset', () => {
    assert.deepEqual(parseOffset('beginning'), { kind: 'beginning' });
    assert.deepEqual(parseOffset('end'), { kind: 'end' });
    assert.deepEqual(parseOffset('42'), { kind: 'absolute', offset: 42n });
    assert.deepEqual(parseOffset('-3'), { kind: 'fromEnd', count: 3n });
    assert.deepEqual(parseOffset('@1714559773000'), { kind: 'timestamp', ms: 1714559773000n });
    for (const bad of ['soon', '@', '1.5', '-', '@-1']) {
      assert.throws(() => parseOffset(bad), (e: unknown) => e instanceof UsageError && e.details[0]!.path === '--offset', bad);
    }
  });

  it('gives each partition a start within [earliest, latest]', () => {
    assert.equal(startOffset({ kind: 'beginning' }, 5n, 20n), 5n);
    assert.equal(startOffset({ kind: 'end' }, 5n, 20n), 20n);
    assert.equal(startOffset({ kind: 'absolute', offset: 7n }, 5n, 20n), 7n);
    assert.equal(startOffset({ kind: 'absolute', offset: 2n }, 5n, 20n), 5n);
    assert.equal(startOffset({ kind: 'absolute', offset: 99n }, 5n, 20n), 20n);
    assert.equal(startOffset({ kind: 'fromEnd', count: 3n }, 5n, 20n), 17n);
    assert.equal(startOffset({ kind: 'fromEnd', count: 30n }, 5n, 20n), 5n);
    assert.equal(startOffset({ kind: 'timestamp', ms: 1n }, 5n, 20n, 11n), 11n);
    // ListOffsets answers -1 when nothing is that recent.
    assert.equal(startOffset({ kind: 'timestamp', ms: 1n }, 5n, 20n, -1n), 20n);
  });
});

describe('--header and the bulk summary', () => {
  it('parses repeated K=V (the value may hold =), refuses a missing =', () => {
    assert.equal(parseHeaders(undefined), undefined);
    assert.deepEqual(parseHeaders(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' });
    assert.throws(() => parseHeaders(['novalue']), (e: unknown) => e instanceof UsageError && e.details[0]!.path === '--header');
    assert.throws(() => parseHeaders(['=v']), UsageError);
  });

  it('names failed lines as ranges, the first few with their reasons', () => {
    assert.equal(lineRanges([9, 3, 4, 5, 12, 4]), '3-5, 9, 12');
    assert.equal(summaryLine('-', { read: 3, published: 3, failures: [] }, 1500), 'herald emit: 3 of 3 events from stdin published in 1.5 s (2/s)');
    const s = summaryLine('in.ndjson', { read: 4, published: 1, failures: [{ line: 4, message: 'x' }, { line: 2, message: 'not JSON' }, { line: 3, message: 'y' }], stoppedAt: 4 }, 1000);
    assert.match(s, /1 of 4 events from in\.ndjson published/);
    assert.match(s, /3 failed \(lines 2-4\): line 2: not JSON; line 3: y; line 4: x; stopped after line 4$/);
  });
});

describe('view output per transport', () => {
  const decoded = { profile: 'cloudevents', format: 'binary', event: { id: 'e1', type: 't' }, document: {} } as unknown as DecodedMessage;
  const base = { key: 'k1', value: null, headers: { h: 'v' }, timestamp: Date.UTC(2024, 4, 1) };

  it('Kafka: topic, partition, offset, key, headers, timestamp, event', () => {
    const m: IncomingMessage = { ...base, transport: 'kafka', topic: 'orders', partition: 2, offset: '41' };
    assert.deepEqual(JSON.parse(jsonLine(m, decoded)), { topic: 'orders', partition: 2, offset: 41, key: 'k1', headers: { h: 'v' }, timestamp: '2024-05-01T00:00:00.000Z', event: { id: 'e1', type: 't' } });
    assert.equal(metaSuffix(m), '  (p2@41 key=k1)');
  });

  it('NATS: subject and JetStream sequence; AMQP: routing key', () => {
    assert.deepEqual(placeOf({ ...base, transport: 'nats', topic: 'a.b', offset: '7' }), { subject: 'a.b', sequence: 7 });
    assert.deepEqual(placeOf({ ...base, transport: 'nats', topic: 'a.b' }), { subject: 'a.b' });
    assert.deepEqual(placeOf({ ...base, transport: 'amqp', topic: 'rk.x' }), { routingKey: 'rk.x' });
    assert.equal(metaSuffix({ ...base, key: null, transport: 'amqp', topic: 'rk.x' }), '  (rk rk.x)');
    assert.equal(JSON.parse(jsonLine({ ...base, transport: 'amqp', topic: 'rk', timestamp: undefined }, decoded)).timestamp, null);
  });
});

describe('progress', () => {
  class Sink {
    out = '';
    isTTY = false;
    write(s: string) {
      this.out += s;
      return true;
    }
  }

  it('on a terminal: one line rewritten in place with count, rate and ETA; a newline at the end', () => {
    const sink = new Sink();
    let t = 0;
    const p = new Progress({ label: 'queued', stream: sink as unknown as NodeJS.WriteStream, tty: true, now: () => t });
    t = 1000;
    p.update(500, 2000);
    t = 2000;
    p.update(1000, 2000);
    p.done();
    assert.equal(sink.out, '\r\x1b[2Kqueued 500/2000 (25%) 500/s ETA 3s\r\x1b[2Kqueued 1000/2000 (50%) 500/s ETA 2s\n');
  });

  it('piped: a plain line per report', () => {
    const sink = new Sink();
    const p = new Progress({ label: 'queued', stream: sink as unknown as NodeJS.WriteStream });
    p.update(1, 3);
    p.update(3, 3);
    p.done();
    assert.equal(sink.out, 'queued 1/3\nqueued 3/3\n');
    assert.equal(progressText('x', 10, undefined, 0), 'x 10 0/s');
  });
});

describe('the transport emit publishes to', () => {
  it('is chosen among every transport with a flag, --webhook included, one at a time', () => {
    assert.ok(SINK_FLAG_TRANSPORTS.includes('webhook'));
    assert.equal(chosenTransport({ webhook: 'http://127.0.0.1:1/x' }, SINK_FLAG_TRANSPORTS), 'webhook');
    // The readers (view, tally, bridge) do not consider it.
    assert.equal(chosenTransport({ webhook: 'http://127.0.0.1:1/x', brokers: '127.0.0.1:1' }), 'kafka');
    assert.throws(() => chosenTransport({ webhook: 'http://x.test/', nats: 'nats://127.0.0.1:1' }, SINK_FLAG_TRANSPORTS), /choose one transport/);
  });

  it('names a webhook sink\'s bad URL by --webhook', () => {
    assert.throws(
      () => sinkFromFlags({ webhook: 'ftp://example.test/x' }, { name: 'emit', profile: 'cloudevents', timeoutMs: 1000 }),
      (e: unknown) => e instanceof UsageError && e.details.some((d) => d.path === '--webhook'),
    );
  });
});
