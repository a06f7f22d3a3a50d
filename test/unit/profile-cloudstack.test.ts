import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError, ValidationError } from '../../src/errors.js';
import { createEvent } from '../../src/events/event.js';
import {
  cloudstackProfile, cloudstackRoutingKey, formatCloudStackDate, parseCloudStackDate,
} from '../../src/profiles/cloudstack.js';
import type { EncodeContext, IncomingMessage } from '../../src/profiles/types.js';
import { bindingFor } from '../helpers/sinks.js';

// The example value from the CloudStack facts.
const EXAMPLE = '{"Role":"e767a39b-6b93-11e7-81e3-06565200012c","Account":"54d5f55c-5311-48db-bbb8-c44c5175cb2a","eventDateTime":"2017-07-23 14:09:08 +0700","entityuuid":"54d5f55c-5311-48db-bbb8-c44c5175cb2a","description":"Successfully completed creating Account. Account Name: null, Domain Id:1","event":"ACCOUNT.CREATE","Domain":"8a90b067-6b93-11e7-81e3-06565200012c","user":"f484a624-6b93-11e7-81e3-06565200012c","account":"f4849ae2-6b93-11e7-81e3-06565200012c","entity":"com.cloud.user.Account","status":"Completed"}';
const UUID = '54d5f55c-5311-48db-bbb8-c44c5175cb2a';
const kafka: EncodeContext = { transport: 'kafka', topic: 'cs' };
const amqp: EncodeContext = { transport: 'amqp', topic: 'ignored' };
const incoming = (topic: string, value: string | Buffer, key?: string): IncomingMessage => ({ topic, value: Buffer.isBuffer(value) ? value : Buffer.from(value), headers: {}, ...(key !== undefined && { key }) });
const { eventDateTime: _dt, ...exampleFields } = JSON.parse(EXAMPLE) as Record<string, unknown>;

test('cloudstack: eventDateTime is yyyy-MM-dd HH:mm:ss Z, UTC by default', () => {
  const t = new Date('2017-07-23T07:09:08.456Z');
  assert.equal(formatCloudStackDate(t), '2017-07-23 07:09:08 +0000');
  assert.equal(formatCloudStackDate(t, 420), '2017-07-23 14:09:08 +0700');
  assert.equal(formatCloudStackDate(t, -210), '2017-07-23 03:39:08 -0330');
  assert.equal(parseCloudStackDate('2017-07-23 14:09:08 +0700')!.toISOString(), '2017-07-23T07:09:08.000Z');
  assert.equal(parseCloudStackDate('2017-07-23 03:39:08 -0330')!.toISOString(), '2017-07-23T07:09:08.000Z');
  assert.equal(parseCloudStackDate('2017-07-23T14:09:08+07:00'), undefined);
  assert.equal(parseCloudStackDate('2017-02-30 10:00:00 +0000'), undefined);
});

test('cloudstack: an ActionEvent encodes to the flat example value, keyed by the resource UUID', () => {
  const event = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', time: '2017-07-23T07:09:08Z', entity: { kind: 'Account', id: UUID }, data: exampleFields });
  const [msg, ...rest] = cloudstackProfile.encode(event, kafka);
  assert.equal(rest.length, 0);
  assert.equal(msg!.topic, 'cs');
  assert.equal(msg!.key, UUID);
  assert.equal(msg!.contentType, 'application/json');
  assert.equal(msg!.headers, undefined);
  assert.deepEqual(JSON.parse(msg!.value!.toString('utf8')), { ...JSON.parse(EXAMPLE), eventDateTime: '2017-07-23 07:09:08 +0000' });
  // A given eventDateTime naming the same second keeps its zone: the exact example field set.
  const zoned = createEvent({ source: 'management-server', type: 'ActionEvent', time: '2017-07-23T07:09:08Z', data: JSON.parse(EXAMPLE) });
  const [z] = bindingFor({ name: 'cs', type: 'kafka', brokers: ['k:9092'], profile: 'cloudstack' }).encode(zoned);
  assert.deepEqual(JSON.parse(z!.value!.toString('utf8')), JSON.parse(EXAMPLE));
  assert.equal(z!.topic, 'cloudstack', 'the profile\'s default topic, through the sink binding');
  assert.equal(z!.key, UUID, 'key from entityuuid when there is no entity');
  // ...but one naming another time is replaced by the canonical time.
  const stale = createEvent({ source: 's', type: 'ActionEvent', time: '2020-01-01T00:00:00Z', data: JSON.parse(EXAMPLE) });
  assert.equal(JSON.parse(cloudstackProfile.encode(stale, kafka)[0]!.value!.toString()).eventDateTime, '2020-01-01 00:00:00 +0000');
});

test('cloudstack: AMQP routing key <source>.<category>.<type>.<resourceType>.<resourceUuid>', () => {
  const del = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', data: { event: 'ACCOUNT.DELETE', status: 'Completed', entity: 'com.cloud.user.Account' } });
  const [msg] = cloudstackProfile.encode(del, amqp);
  assert.equal(msg!.topic, 'management-server.ActionEvent.ACCOUNT-DELETE.Account.*');
  assert.equal(msg!.key, undefined);
  const withUuid = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'Account', id: UUID }, data: { event: 'ACCOUNT.CREATE', status: 'Completed' } });
  assert.equal(cloudstackProfile.encode(withUuid, amqp)[0]!.topic, `management-server.ActionEvent.ACCOUNT-CREATE.Account.${UUID}`);
  assert.equal(cloudstackRoutingKey({ source: 'a.b', category: 'AlertEvent' }), 'a-b.AlertEvent.*.*.*');
});

test('cloudstack: switched-off categories and other event types are not published', () => {
  const usage = createEvent({ source: 'ms', type: 'cloudstack.UsageEvent', data: { event: 'VM.CREATE', account: 'a', zone: 'z', resource: 'VirtualMachine', id: 'vm1' } });
  assert.equal(cloudstackProfile.encode(usage, kafka).length, 1);
  assert.deepEqual(cloudstackProfile.encode(usage, { ...kafka, options: { disabledCategories: ['UsageEvent'] } }), []);
  assert.deepEqual(cloudstackProfile.encode(createEvent({ source: 's', type: 'com.example.x' }), kafka), []);
});

test('cloudstack: nested values and missing category fields are errors naming the field', () => {
  const nested = createEvent({ source: 's', type: 'cloudstack.ActionEvent', data: { event: 'X', nested: { a: 1 } } });
  assert.throws(() => cloudstackProfile.encode(nested, kafka), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(err.details.map((d) => d.path), ['data.nested']);
    return true;
  });
  const missing = createEvent({ source: 's', type: 'cloudstack.ResourceStateEvent', data: { resource: 'VirtualMachine' } });
  assert.throws(() => cloudstackProfile.encode(missing, kafka), /data\.new-state is required/);
});

test('cloudstack: the example value decodes to the canonical ActionEvent and back', () => {
  const d = cloudstackProfile.decode!(incoming('cs', EXAMPLE, UUID))!;
  assert.equal(d.profile, 'cloudstack');
  assert.equal(d.format, 'ActionEvent');
  assert.equal(d.event.type, 'cloudstack.ActionEvent');
  assert.equal(d.event.source, 'management-server');
  assert.equal(d.event.time, '2017-07-23T07:09:08.000Z');
  assert.deepEqual(d.event.entity, { kind: 'Account', id: UUID });
  assert.deepEqual(d.event.data, exampleFields);
  assert.equal(d.event.message, 'Successfully completed creating Account. Account Name: null, Domain Id:1');
  assert.equal(cloudstackProfile.summary!(d), `[ActionEvent] Account ${UUID}: ACCOUNT.CREATE Completed`);
  const again = cloudstackProfile.encode(d.event, kafka)[0]!;
  assert.deepEqual(JSON.parse(again.value!.toString()), { ...JSON.parse(EXAMPLE), eventDateTime: '2017-07-23 07:09:08 +0000' });
});

test('cloudstack: every category round-trips encode → decode (Kafka and AMQP)', () => {
  const cases = [
    { type: 'cloudstack.AlertEvent', data: { event: 'ALERT.MANAGEMENT', dataCenterId: 1, podId: 2, subject: 'Management server down', body: 'down' } },
    { type: 'cloudstack.UsageEvent', entity: { kind: 'VirtualMachine', id: 'vm-1' }, data: { event: 'VM.CREATE', account: 'acc', zone: 'z1', resource: 'VirtualMachine', id: 'vm-1' } },
    { type: 'cloudstack.ResourceStateEvent', entity: { kind: 'VirtualMachine', id: 'vm-1' }, data: { resource: 'VirtualMachine', id: 'vm-1', 'old-state': 'Stopped', 'new-state': 'Running' } },
  ];
  for (const c of cases) {
    const event = createEvent({ source: 'management-server', time: '2024-05-01T12:00:00Z', ...c });
    for (const ctx of [kafka, amqp]) {
      const [msg] = cloudstackProfile.encode(event, ctx);
      const d = cloudstackProfile.decode!(incoming(msg!.topic, msg!.value!, msg!.key))!;
      assert.equal(d.event.type, event.type, msg!.topic);
      assert.equal(d.event.time, event.time);
      assert.equal(d.event.source, 'management-server');
      assert.deepEqual(d.event.entity, event.entity);
      assert.deepEqual(d.event.data, event.data);
    }
  }
  const rs = cloudstackProfile.decode!(incoming('cs', '{"resource":"VirtualMachine","id":"vm-1","old-state":"Stopped","new-state":"Running","eventDateTime":"2024-05-01 12:00:00 +0000"}'))!;
  assert.equal(cloudstackProfile.summary!(rs), '[ResourceStateEvent] VirtualMachine vm-1: Stopped -> Running');
});

test('cloudstack: decode leaves foreign JSON alone and rejects a malformed eventDateTime', () => {
  assert.equal(cloudstackProfile.decode!(incoming('cs', '{"type":"x","time":"2024-01-01T00:00:00Z"}')), undefined);
  assert.equal(cloudstackProfile.decode!(incoming('cs', '{"eventDateTime":"2024-01-01 00:00:00 +0000","nested":{"a":1},"status":"x","event":"y"}')), undefined);
  assert.equal(cloudstackProfile.decode!(incoming('cs', 'plain text')), undefined);
  assert.throws(() => cloudstackProfile.decode!(incoming('cs', '{"event":"VM.CREATE","status":"Completed","eventDateTime":"yesterday"}')), (err: unknown) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, 'DECODE');
    assert.equal(err.details[0]!.path, 'eventDateTime');
    return true;
  });
});
