/**
 * End to end through the outbox to RabbitMQ: a service (SQLite store, outbox) with two AMQP
 * sinks on the shared RabbitMQ, each with its own durable topic exchange and test queues bound
 * before anything is published: `cloudevents` (binary mode, cloudEvents_ headers) and
 * `cloudstack` (flat JSON, CloudStack's routing keys). Both sinks' connections are closed by
 * the broker (`rabbitmqctl close_connection`, found by the connection name herald-sink-<name>)
 * while events keep coming in: nothing is lost, per-key order holds, redeliveries are counted.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Channel, type GetMessage } from 'amqplib';
import { amqpUrl, uniqueName } from '../helpers/env.js';
import { checkDelivery, postEvents, sinkStatus, startTestService, waitFor, type Received } from './outbox-helpers.js';
import { assertAmqpValid } from './upstream-wire-helpers.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'herald-amqp-e2e-'));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** RabbitMQ's pids of the connections named `name`. */
async function connectionsNamed(name: string): Promise<string[]> {
  const { stdout } = await exec('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'pid', 'client_properties']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0]!.trim());
}

/** Closes (broker side) every connection named `name`; returns the pids closed. */
async function dropConnections(name: string): Promise<string[]> {
  const pids = await connectionsNamed(name);
  for (const pid of pids) await exec('rabbitmqctl', ['-q', 'close_connection', pid, 'herald e2e test: dropped on purpose']);
  return pids;
}

/**
 * Everything a queue holds, in queue order (basic.get until empty), each message validated
 * against the schema Herald serves for `profile` (the queues of this test are its own).
 */
async function drainQueue(ch: Channel, queue: string, profile: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (m === false) break;
    out.push(m);
  }
  assertAmqpValid(profile, out);
  return out;
}

type Posted = { id: string; source: string; type: string; entity: { kind: string; id: string }; data: Record<string, unknown> };

/** Event n: ActionEvents of 4 VMs and ResourceStateEvents of 2 hosts, interleaved. */
function cloudstackEvent(run: string, n: number): Posted {
  const slot = n % 6;
  if (slot < 4) {
    const uuid = `${run}-vm${slot}`;
    return {
      id: `${run}-${n}`, source: 'management-server', type: 'cloudstack.ActionEvent', entity: { kind: 'VirtualMachine', id: uuid },
      data: { event: n % 2 === 0 ? 'VM.START' : 'VM.STOP', status: 'Completed', entity: 'com.cloud.vm.VirtualMachine', entityuuid: uuid, description: `n=${n}` },
    };
  }
  const uuid = `${run}-host${slot - 4}`;
  return {
    id: `${run}-${n}`, source: 'management-server', type: 'cloudstack.ResourceStateEvent', entity: { kind: 'Host', id: uuid },
    data: { resource: 'Host', id: uuid, 'old-state': 'Enabled', 'new-state': n % 2 === 0 ? 'Disabled' : 'Enabled' },
  };
}

const expectedRoutingKey = (e: Posted): string => e.type === 'cloudstack.ActionEvent'
  ? `management-server.ActionEvent.${String(e.data.event).replace('.', '-')}.VirtualMachine.${e.entity.id}`
  : `management-server.ResourceStateEvent.*.Host.${e.entity.id}`;

test('herald service → outbox → RabbitMQ (cloudevents and cloudstack sinks): nothing lost across dropped connections, per-key order, duplicates counted', async () => {
  const admin = await connect(amqpUrl());
  cleanups.push(() => admin.close());
  const ch = await admin.createChannel();
  const ceExchange = uniqueName('herald-e2e-ce');
  const csExchange = uniqueName('herald-e2e-cs');
  const qCe = uniqueName('herald-e2e-q-ce');
  const qCsAll = uniqueName('herald-e2e-q-cs-all');
  const qCsAction = uniqueName('herald-e2e-q-cs-action');
  cleanups.push(async () => {
    for (const q of [qCe, qCsAll, qCsAction]) await ch.deleteQueue(q).catch(() => undefined);
    for (const e of [ceExchange, csExchange]) await ch.deleteExchange(e).catch(() => undefined);
  });
  // Queues first: a message no queue is bound for would be parked as unroutable.
  for (const [exchange, queue, pattern] of [[ceExchange, qCe, '#'], [csExchange, qCsAll, '#'], [csExchange, qCsAction, '*.ActionEvent.#']] as const) {
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(queue, { durable: false });
    await ch.bindQueue(queue, exchange, pattern);
  }

  const ceSink = uniqueName('amqp-e2e-ce');
  const csSink = uniqueName('amqp-e2e-cs');
  const ceTopic = 'herald.e2e.events';
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [
      { name: ceSink, type: 'amqp', url: amqpUrl(), exchange: ceExchange, profile: 'cloudevents', topic: ceTopic, timeoutMs: 3000 },
      // wireMetadata herald: the AMQP messageId (CloudStack sends none) tells each message's event.
      { name: csSink, type: 'amqp', url: amqpUrl(), exchange: csExchange, profile: 'cloudstack', profileOptions: { wireMetadata: 'herald' }, timeoutMs: 3000 },
    ],
  });
  cleanups.push(() => service.close());
  const statusOf = async (name: string) => (await sinkStatus(service.address)).find((s) => s.name === name)!;

  const run = uniqueName('cs');
  const sent: Posted[] = [];
  const sentByKey = new Map<string, string[]>();
  let n = 0;
  const post = async (count: number): Promise<void> => {
    const events = Array.from({ length: count }, () => cloudstackEvent(run, n++));
    const r = await postEvents(service.address, events);
    assert.equal(r.status, 202, `POST /v2/events answered ${r.status}`);
    for (const e of events) {
      sent.push(e);
      const key = `${e.entity.kind}:${e.entity.id}`;
      sentByKey.set(key, [...(sentByKey.get(key) ?? []), e.id]);
    }
  };

  for (let i = 0; i < 3; i++) await post(30);
  await waitFor('both sinks to deliver the first events', async () => (await statusOf(ceSink)).delivered >= 30 && (await statusOf(csSink)).delivered >= 30, 30_000);

  // Drop both sinks' connections while events keep coming in (so publishes are in flight).
  let dropping = true;
  const beforeStream = sent.length;
  const poster = (async () => {
    while (dropping) {
      await post(25);
      // A sleep, not a wait: it paces the stream at one batch per 10 ms.
      await sleep(10);
    }
  })();
  await waitFor('the stream to be under way (its first batch accepted)', () => sent.length > beforeStream, 30_000, 10);
  const [droppedCe, droppedCs] = await Promise.all([dropConnections(`herald-sink-${ceSink}`), dropConnections(`herald-sink-${csSink}`)]);
  const afterDrop = sent.length;
  await waitFor('the stream to go on after the drop (a batch accepted)', () => sent.length > afterDrop, 30_000, 10);
  dropping = false;
  await poster;
  assert.equal(droppedCe.length, 1, 'the cloudevents sink had one connection, which was closed');
  assert.equal(droppedCs.length, 1, 'the cloudstack sink had one connection, which was closed');
  await post(40);

  await waitFor('both outboxes to drain', async () => (await statusOf(ceSink)).pending === 0 && (await statusOf(csSink)).pending === 0, 90_000);
  const ceStatus = await statusOf(ceSink);
  const csStatus = await statusOf(csSink);
  console.log('GET /v2/sinks after the drops:', JSON.stringify([ceStatus, csStatus]));
  for (const s of [ceStatus, csStatus]) {
    assert.equal(s.parked, 0, `${s.name}: nothing parked`);
    assert.equal(s.connected, true, `${s.name}: connected again`);
  }
  // Each sink reconnected: a new connection with its name, not the dropped one.
  for (const [name, dropped] of [[ceSink, droppedCe], [csSink, droppedCs]] as const) {
    const now = await connectionsNamed(`herald-sink-${name}`);
    assert.equal(now.length, 1, `${name} has one live connection`);
    assert.notEqual(now[0], dropped[0], `${name} opened a new connection`);
  }

  const byId = new Map(sent.map((e) => [e.id, e]));
  const received = (msgs: GetMessage[]): Received[] => msgs.map((m, i) => {
    const id = String(m.properties.messageId);
    const e = byId.get(id);
    return { id, key: e === undefined ? null : `${e.entity.kind}:${e.entity.id}`, partition: 0, offset: String(i) };
  });

  // cloudevents: binary mode, routing key = the sink's topic, attributes as cloudEvents_ headers.
  const ceMsgs = await drainQueue(ch, qCe, 'cloudevents');
  const ceReport = checkDelivery(received(ceMsgs), sentByKey);
  console.log(`AMQP cloudevents: ${sent.length} events accepted, ${ceMsgs.length} messages, duplicates seen: ${ceReport.duplicates}, missing: ${ceReport.missing.length}, keys out of order: ${ceReport.orderViolations.length}, retries: ${ceStatus.retries}`);
  assert.deepEqual(ceReport.missing, [], 'cloudevents: nothing lost');
  assert.deepEqual(ceReport.orderViolations, [], 'cloudevents: per-key order');
  assert.ok(ceMsgs.every((m) => byId.has(String(m.properties.messageId))), 'only our events');
  const ce0 = ceMsgs.find((m) => m.properties.messageId === `${run}-0`)!;
  const h = ce0.properties.headers as Record<string, unknown>;
  assert.equal(ce0.fields.routingKey, ceTopic);
  assert.equal(ce0.properties.deliveryMode, 2);
  assert.equal(String(h.cloudEvents_id), `${run}-0`);
  assert.equal(String(h.cloudEvents_type), 'cloudstack.ActionEvent');
  assert.equal(String(h.cloudEvents_specversion), '1.0');
  assert.equal(String(h.cloudEvents_entityid), `${run}-vm0`);
  assert.equal(ce0.properties.contentType, 'application/json');
  assert.equal(JSON.parse(ce0.content.toString()).entityuuid, `${run}-vm0`);

  // cloudstack: flat JSON, routing key <source>.<category>.<type>.<resourceType>.<uuid>.
  const csMsgs = await drainQueue(ch, qCsAll, 'cloudstack');
  const csReport = checkDelivery(received(csMsgs), sentByKey);
  console.log(`AMQP cloudstack: ${sent.length} events accepted, ${csMsgs.length} messages, duplicates seen: ${csReport.duplicates}, missing: ${csReport.missing.length}, keys out of order: ${csReport.orderViolations.length}, retries: ${csStatus.retries}`);
  assert.deepEqual(csReport.missing, [], 'cloudstack: nothing lost');
  assert.deepEqual(csReport.orderViolations, [], 'cloudstack: per-key order');
  for (const m of csMsgs) {
    const e = byId.get(String(m.properties.messageId));
    assert.ok(e !== undefined, 'only our events');
    assert.equal(m.fields.routingKey, expectedRoutingKey(e), `routing key of ${e.id}`);
    const body = JSON.parse(m.content.toString()) as Record<string, unknown>;
    assert.match(String(body.eventDateTime), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/);
    if (e.type === 'cloudstack.ActionEvent') assert.equal(body.event, e.data.event);
    else assert.equal(body['new-state'], e.data['new-state']);
  }
  // The queue bound with CloudStack's own pattern got the ActionEvents and nothing else.
  const actionMsgs = await drainQueue(ch, qCsAction, 'cloudstack');
  const actionIds = new Set(actionMsgs.map((m) => String(m.properties.messageId)));
  assert.deepEqual([...actionIds].sort(), sent.filter((e) => e.type === 'cloudstack.ActionEvent').map((e) => e.id).sort());
  assert.ok(actionMsgs.every((m) => m.fields.routingKey.split('.')[1] === 'ActionEvent'));
});
