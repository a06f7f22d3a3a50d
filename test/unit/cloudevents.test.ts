import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeraldError } from '../../src/errors.js';
import { createEvent } from '../../src/events/index.js';
import { STRUCTURED_CONTENT_TYPE, cloudeventsProfile } from '../../src/profiles/cloudevents.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import type { IncomingMessage, OutgoingMessage } from '../../src/profiles/types.js';
import { fromKafkaHeaders, toKafkaRecord } from '../../src/transports/kafka/mapping.js';

const fixed = { now: () => new Date('2024-05-01T12:00:00Z'), newId: () => 'evt-1' };
const kafka = { transport: 'kafka' as const, topic: 'herald.events' };

/** What a Kafka reader receives for an outgoing message: the record as the sink writes it, read back by the source's mapping. */
function received(m: OutgoingMessage): IncomingMessage {
  const record = toKafkaRecord(m);
  return { topic: m.topic, key: m.key ?? null, value: m.value, ...fromKafkaHeaders([...(record.headers as Map<Buffer, Buffer>).entries()]) };
}

describe('cloudevents encode, binary mode', () => {
  const event = createEvent({
    source: 'https://example.com/clusters', type: 'com.example.cluster.ready', subject: 'c1',
    entity: { kind: 'cluster', id: 'c1' }, severity: 'warning', message: 'ready', data: { nodes: 3 },
  }, fixed);

  it('puts the data bytes in the value and the attributes in ce_ headers', () => {
    const [m] = cloudeventsProfile.encode(event, kafka);
    assert.ok(m);
    assert.equal(m.topic, 'herald.events');
    assert.equal(m.value?.toString('utf8'), '{"nodes":3}');
    assert.equal(m.contentType, 'application/json');
    assert.deepEqual(m.ceAttributes, {
      id: 'evt-1', source: 'https://example.com/clusters', specversion: '1.0', type: 'com.example.cluster.ready',
      time: '2024-05-01T12:00:00.000Z', subject: 'c1', severity: 'warning', message: 'ready', entitykind: 'cluster', entityid: 'c1',
    });
  });

  it('uses the partition key as the record key (entity, else subject, else explicit key)', () => {
    assert.equal(cloudeventsProfile.encode(event, kafka)[0]!.key, 'cluster:c1');
    const bySubject = createEvent({ source: 's', type: 't', subject: 'host-7' }, fixed);
    assert.equal(cloudeventsProfile.encode(bySubject, kafka)[0]!.key, 'host-7');
    const explicit = createEvent({ source: 's', type: 't', partitionkey: 'k1', entity: { kind: 'a', id: 'b' } }, fixed);
    assert.equal(cloudeventsProfile.encode(explicit, kafka)[0]!.key, 'k1');
    assert.equal(cloudeventsProfile.encode(createEvent({ source: 's', type: 't' }, fixed), kafka)[0]!.key, undefined);
  });

  it('has a null value and no content-type without data', () => {
    const [m] = cloudeventsProfile.encode(createEvent({ source: 's', type: 't' }, fixed), kafka);
    assert.equal(m!.value, null);
    assert.equal(m!.contentType, undefined);
  });

  it('writes string data with a non-JSON content type as raw UTF-8', () => {
    const e = createEvent({ source: 's', type: 't', data: 'héllo', datacontenttype: 'text/plain' }, fixed);
    const [m] = cloudeventsProfile.encode(e, kafka);
    assert.equal(m!.value!.toString('utf8'), 'héllo');
    assert.equal(m!.contentType, 'text/plain');
  });

  it('keeps extension names lower-case and at most 20 characters', () => {
    const [m] = cloudeventsProfile.encode(event, kafka);
    for (const name of Object.keys(m!.ceAttributes!)) assert.match(name, /^[a-z0-9]{1,20}$/);
  });
});

describe('cloudevents encode, structured mode', () => {
  it('puts the JSON event in the value with the structured content type', () => {
    const e = createEvent({ source: 's', type: 't', entity: { kind: 'host', id: 'h1' }, data: [1, 2] }, fixed);
    const [m] = cloudeventsProfile.encode(e, { ...kafka, mode: 'structured' });
    assert.equal(m!.contentType, STRUCTURED_CONTENT_TYPE);
    assert.equal(m!.ceAttributes, undefined);
    assert.equal(m!.key, 'host:h1');
    assert.deepEqual(JSON.parse(m!.value!.toString('utf8')), {
      id: 'evt-1', source: 's', specversion: '1.0', type: 't', time: '2024-05-01T12:00:00.000Z', severity: 'info',
      entitykind: 'host', entityid: 'h1', datacontenttype: 'application/json', data: [1, 2],
    });
  });

  it('is always structured on NATS', () => {
    const e = createEvent({ source: 's', type: 't' }, fixed);
    const [m] = cloudeventsProfile.encode(e, { transport: 'nats', topic: 'herald.events', mode: 'binary' });
    assert.equal(m!.contentType, STRUCTURED_CONTENT_TYPE);
    assert.equal(JSON.parse(m!.value!.toString()).specversion, '1.0');
  });
});

describe('cloudevents decode', () => {
  const inputs = fc.record({
    source: fc.constantFrom('s', 'https://example.com/x', 'urn:herald:test'),
    type: fc.stringMatching(/^[a-z][a-z.]{0,20}$/),
    subject: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    severity: fc.constantFrom('debug', 'info', 'warning', 'error', 'critical' as const),
    entity: fc.option(fc.record({ kind: fc.constantFrom('cluster', 'host'), id: fc.string({ minLength: 1, maxLength: 10 }) }), { nil: undefined }),
    message: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    data: fc.option(fc.jsonValue().filter((v) => v !== null), { nil: undefined }),
  }, { requiredKeys: ['source', 'type', 'severity'] });

  for (const mode of ['binary', 'structured'] as const) {
    it(`round-trips every event in ${mode} mode`, () => {
      fc.assert(fc.property(inputs, (input) => {
        const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
        const event = createEvent(clean, fixed);
        const [m] = cloudeventsProfile.encode(event, { ...kafka, mode });
        const d = decodeMessage(received(m!));
        assert.equal(d.profile, 'cloudevents');
        assert.equal(d.format, mode);
        const { datacontenttype, ...rest } = d.event;
        assert.deepEqual(JSON.parse(JSON.stringify(rest)), JSON.parse(JSON.stringify(event)));
        if (event.data !== undefined) assert.equal(datacontenttype, 'application/json');
      }), { numRuns: 200 });
    });
  }

  it('recognises structured JSON without a content type by specversion', () => {
    const value = Buffer.from(JSON.stringify({ specversion: '1.0', id: 'x', source: 's', type: 't', time: '2024-01-01T00:00:00Z', data: { a: 1 } }));
    const d = decodeMessage({ topic: 'x', value, headers: {} });
    assert.equal(d.profile, 'cloudevents');
    assert.equal(d.event.id, 'x');
    assert.deepEqual(d.event.data, { a: 1 });
  });

  it('reads data_base64 from other producers', () => {
    const value = Buffer.from(JSON.stringify({ specversion: '1.0', id: 'x', source: 's', type: 't', time: '2024-01-01T00:00:00Z', datacontenttype: 'text/plain', data_base64: Buffer.from('hi').toString('base64') }));
    const d = decodeMessage({ topic: 'x', value, headers: { 'content-type': STRUCTURED_CONTENT_TYPE } });
    assert.equal(d.event.data, 'hi');
  });

  it('uses the broker timestamp when a CloudEvent has no time', () => {
    const d = decodeMessage({ topic: 'x', value: null, ...fromKafkaHeaders([['ce_specversion', '1.0'], ['ce_id', 'a'], ['ce_source', 's'], ['ce_type', 't']].map(([k, v]) => [Buffer.from(k!), Buffer.from(v!)] as [Buffer, Buffer])), timestamp: Date.parse('2024-02-03T04:05:06Z') });
    assert.equal(d.event.time, '2024-02-03T04:05:06.000Z');
  });

  it('summarises as [type] subject-or-entity: message-or-data', () => {
    const e = createEvent({ source: 's', type: 'com.x.ready', entity: { kind: 'cluster', id: 'c1' }, message: 'all good', data: { a: 1 } }, fixed);
    const d = decodeMessage(received(cloudeventsProfile.encode(e, kafka)[0]!));
    assert.equal(cloudeventsProfile.summary!(d), '[com.x.ready] cluster:c1: all good');
    const e2 = createEvent({ source: 's', type: 't', subject: 'sub', data: { a: 1 } }, fixed);
    assert.equal(cloudeventsProfile.summary!(decodeMessage(received(cloudeventsProfile.encode(e2, kafka)[0]!))), '[t] sub: {"a":1}');
  });
});

describe('decodeMessage chain', () => {
  it('falls back to plain JSON with a best-effort type', () => {
    const d = decodeMessage({ topic: 'legacy', value: Buffer.from('{"event_type":"disk.full","host":"h1"}'), headers: {} });
    assert.equal(d.profile, 'json');
    assert.equal(d.event.type, 'disk.full');
    assert.equal(d.event.source, 'kafka:legacy');
    assert.deepEqual(d.document, { event_type: 'disk.full', host: 'h1' });
  });

  it('throws DECODE naming the topic, partition and offset for bytes of no known format', () => {
    assert.throws(() => decodeMessage({ topic: 't1', partition: 2, offset: '17', value: Buffer.from([0xff, 0x00, 0x13]), headers: {} }), (err: unknown) => {
      assert.ok(err instanceof HeraldError);
      assert.equal(err.code, 'DECODE');
      assert.match(err.message, /t1\[2\]@17/);
      return true;
    });
    assert.throws(() => decodeMessage({ topic: 't1', value: Buffer.from('[1,2]'), headers: {} }), /not in any known format/);
  });
});
