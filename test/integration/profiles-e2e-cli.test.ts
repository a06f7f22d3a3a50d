/**
 * The choria and cloudstack profiles end to end through the built CLI (`herald emit`,
 * `herald view`) and the library publisher, against the real broker; kcat reads CloudStack's
 * flat JSON as an independent client. Choria lifecycle topics have fixed names
 * (`choria.lifecycle.event.<type>.<component>`): records of the shared `server` topic are found
 * by their event id, and a component unique to the run gives a topic of its own.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../../src/profiles/decode.js';
import { lifecycle } from '../../src/profiles/choria.js';
import { createPublisher } from '../../src/pipeline/publisher.js';
import { kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { hhmmss, kcatAll, readUntil, type Rec } from './profiles-e2e-helpers.js';

/** `<id> topic=T partition=P offset=O` as `herald emit` prints it. */
function emitted(stdout: string): { id: string; topic: string; partition: string; offset: string } {
  const m = /^(\S+) topic=(\S+) partition=(\d+) offset=(\d+)\n$/.exec(stdout);
  assert.ok(m, `unexpected emit output: ${JSON.stringify(stdout)}`);
  return { id: m[1]!, topic: m[2]!, partition: m[3]!, offset: m[4]! };
}

const json = (r: Rec) => JSON.parse(r.value!.toString('utf8')) as Record<string, any>;
const DATE_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/;

describe('choria', () => {
  it('herald emit --profile choria: a CloudEvent keyed by identity whose data is the plain document; view; decode', async () => {
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'choria', '--type', 'startup',
      '--identity', 'c1.example.net', '--component', 'server', '--version', '0.6.0']);
    assert.equal(r.code, 0, r.stderr);
    const out = emitted(r.stdout);
    assert.equal(out.topic, 'choria.lifecycle.event.startup.server');
    assert.match(out.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    // The shared topic: only the record emit reported is ours.
    const ours = (x: Rec) => x.partition === Number(out.partition) && x.offset === out.offset;
    const recs = await readUntil([out.topic], (x) => (ours(x) ? 'choria' : undefined), (rs) => rs.some(ours));
    const rec = recs.find((x) => x.partition === Number(out.partition) && x.offset === out.offset);
    assert.ok(rec, 'the emitted record was not found where emit said it went');
    assert.equal(rec.key, 'c1.example.net');
    const ce = json(rec);
    assert.deepEqual(Object.keys(ce), ['specversion', 'id', 'source', 'type', 'subject', 'datacontenttype', 'time', 'data']);
    assert.equal(ce.specversion, '1.0');
    assert.equal(ce.id, out.id);
    assert.equal(ce.source, 'io.choria.lifecycle');
    assert.equal(ce.type, 'io.choria.lifecycle.v1.startup');
    assert.equal(ce.subject, 'c1.example.net');
    assert.equal(ce.datacontenttype, 'application/json');
    assert.ok(!Number.isNaN(Date.parse(ce.time)), ce.time);
    // go-choria lifecycle/basic.go + startup.go @ 58e80bab: the Go struct's field order; the
    // CloudEvent time is time.Unix(timestamp, 0), whole seconds without a fraction.
    assert.match(ce.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(ce.data, {
      protocol: 'io.choria.lifecycle.v1.startup', id: out.id, identity: 'c1.example.net', component: 'server',
      timestamp: Date.parse(ce.time) / 1000, version: '0.6.0',
    });
    assert.ok(Number.isInteger(ce.data.timestamp) && ce.data.timestamp < 1e11, 'timestamp is in seconds');
    assert.deepEqual(Object.keys(ce.data), ['protocol', 'id', 'identity', 'component', 'timestamp', 'version']);

    // Round trip: the decoded event has the emitted id.
    const d = decodeMessage(rec);
    assert.equal(d.profile, 'choria');
    assert.equal(d.format, 'cloudevents');
    assert.equal(d.event.id, out.id);
    assert.equal(d.event.type, 'io.choria.lifecycle.v1.startup');
    assert.equal(d.event.subject, 'c1.example.net');

    // The shared topic: the first record, whoever wrote it, prints in the documented shape.
    const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', 'choria.lifecycle.event.startup.server', '--from-beginning', '--max', '1', '--timeout', '20s']);
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /^\d\d:\d\d:\d\d \[startup\] \S+: server version \S+\n$/);
  });

  it('view prints `HH:MM:SS [startup] identity: component version V` (Choria\'s String()) for a topic of its own', async () => {
    const component = uniqueName('e2ecomp');
    const identity = `${uniqueName('n')}.example.net`;
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'choria', '--type', 'startup',
      '--identity', identity, '--component', component, '--version', '0.6.0', '--time', '2024-05-01T10:36:13Z']);
    assert.equal(r.code, 0, r.stderr);
    const out = emitted(r.stdout);
    assert.equal(out.topic, `choria.lifecycle.event.startup.${component}`);
    const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', out.topic, '--from-beginning', '--max', '1', '--timeout', '20s']);
    assert.equal(view.code, 0, view.stderr);
    assert.equal(view.stdout, `${hhmmss('2024-05-01T10:36:13Z')} [startup] ${identity}: ${component} version 0.6.0\n`);
    const raw = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', out.topic, '--from-beginning', '--max', '1', '--format', 'json', '--timeout', '20s']);
    assert.equal(raw.code, 0, raw.stderr);
    const line = JSON.parse(raw.stdout) as { topic: string; event: { id: string; time: string; data: { timestamp: number } } };
    assert.equal(line.topic, out.topic);
    const ev = line.event;
    assert.equal(ev.id, out.id);
    assert.equal(ev.time, '2024-05-01T10:36:13.000Z');
    assert.equal(ev.data.timestamp, 1714559773);
  });

  it('a missing --component exits 2 naming it', async () => {
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'choria', '--type', 'startup', '--identity', 'c1.example.net', '--version', '0.6.0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--component is required for --profile choria --type startup/);
    assert.equal(r.stdout, '');
  });

  it('a governor event type Choria does not have exits 2 naming --event-type (go-choria lifecycle/governor.go)', async () => {
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'choria', '--type', 'governor', '--identity', 'c1.example.net',
      '--component', 'server', '--governor', 'PUPPET', '--sequence', '1', '--event-type', 'timeout']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--event-type must be one of enter, exit, timeouts, eviction/);
    assert.equal(r.stdout, '');
  });

  it('herald emit --type transition: a CloudEvent whose data.id is --instance-id and whose id is its own', async () => {
    const machineName = uniqueName('m');
    const instance = randomUUID();
    const emitOne = (transition: string) => runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'choria', '--type', 'transition', '--identity', 'c1.example.net',
      '--machine', machineName, '--version', '1.0.0', '--transition', transition, '--from-state', 'a', '--to-state', 'b', '--instance-id', instance]);
    const outs: ReturnType<typeof emitted>[] = [];
    for (const t of ['go', 'again']) {
      const r = await emitOne(t);
      assert.equal(r.code, 0, r.stderr);
      outs.push(emitted(r.stdout));
    }
    assert.equal(outs[0]!.topic, 'choria.machine.transition');
    const ours = (x: Rec, o: ReturnType<typeof emitted>) => x.partition === Number(o.partition) && x.offset === o.offset;
    const recs = await readUntil(['choria.machine.transition'], (x) => (outs.some((o) => ours(x, o)) ? 'choria' : undefined), (rs) => outs.every((o) => rs.some((x) => ours(x, o))));
    const bodies = outs.map((o) => json(recs.find((x) => x.partition === Number(o.partition) && x.offset === o.offset)!));
    for (const [i, b] of bodies.entries()) {
      assert.equal(b.specversion, '1.0');
      assert.equal(b.id, outs[i]!.id);
      assert.equal(b.data.id, instance, 'data.id: the machine instance id (aagent/machine/machine.go ID: m.InstanceID())');
      assert.equal(b.data.machine, machineName);
    }
    assert.notEqual(bodies[0]!.id, bodies[1]!.id, 'a fresh CloudEvent id per transition (notifications.go SetID(util.UniqueID()))');
  });

  it('a sink with profileOptions.format plain publishes exactly the plain document', async () => {
    const component = uniqueName('e2eplain');
    const publisher = createPublisher({ sinks: [{ name: 'plain', type: 'kafka', brokers: kafkaBrokers().split(','), profile: 'choria', profileOptions: { format: 'plain' } }] });
    let event;
    try {
      event = await publisher.emit(lifecycle.startup({ identity: 'c1.example.net', component, version: '0.6.0' }));
    } finally {
      await publisher.close();
    }
    const topic = `choria.lifecycle.event.startup.${component}`;
    const recs = await readUntil([topic], 'choria', (rs) => rs.length >= 1);
    assert.equal(recs.length, 1);
    const rec = recs[0]!;
    assert.equal(rec.key, 'c1.example.net');
    assert.equal(rec.value!.toString('utf8'), JSON.stringify({
      protocol: 'io.choria.lifecycle.v1.startup', id: event.id, identity: 'c1.example.net', component,
      timestamp: Math.floor(Date.parse(event.time) / 1000), version: '0.6.0',
    }));
    const d = decodeMessage(rec);
    assert.equal(d.profile, 'choria');
    assert.equal(d.format, 'plain');
    assert.equal(d.event.id, event.id);
  });
});

describe('cloudstack', () => {
  it('herald emit --profile cloudstack --topic: key = UUID, flat JSON value (kcat), view, decode', async () => {
    const topic = uniqueName('e2e-cloudstack');
    const uuid = randomUUID();
    const data = {
      event: 'ACCOUNT.CREATE', status: 'Completed', entity: 'com.cloud.user.Account', entityuuid: uuid,
      description: 'Successfully completed creating Account. Account Name: null, Domain Id:1',
      user: 'f484a624-6b93-11e7-81e3-06565200012c', account: 'f4849ae2-6b93-11e7-81e3-06565200012c',
      Domain: '8a90b067-6b93-11e7-81e3-06565200012c', Role: 'e767a39b-6b93-11e7-81e3-06565200012c',
    };
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'cloudstack', '--type', 'ActionEvent',
      '--entity', `Account:${uuid}`, '--data', JSON.stringify(data), '--topic', topic]);
    assert.equal(r.code, 0, r.stderr);
    const out = emitted(r.stdout);
    assert.equal(out.topic, topic);

    const recs = await kcatAll(topic, 'cloudstack');
    assert.equal(recs.length, 1);
    assert.equal(recs[0]!.key, uuid);
    const value = JSON.parse(recs[0]!.value) as Record<string, unknown>;
    const { eventDateTime, ...fields } = value;
    assert.deepEqual(fields, data);
    assert.match(String(eventDateTime), DATE_TIME);
    for (const v of Object.values(value)) assert.ok(v === null || typeof v !== 'object', 'the value is flat');

    const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', topic, '--from-beginning', '--max', '1', '--timeout', '20s']);
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\[ActionEvent\\] Account ${uuid}: ACCOUNT\\.CREATE Completed\\n$`));

    // Round trip (the flat format carries no id: decoding the same bytes gives the same id).
    const [rec] = await readUntil([topic], 'cloudstack', (rs) => rs.length >= 1);
    const d = decodeMessage(rec!);
    assert.equal(d.profile, 'cloudstack');
    assert.equal(d.event.type, 'cloudstack.ActionEvent');
    assert.equal(d.event.source, 'management-server');
    assert.deepEqual(d.event.entity, { kind: 'Account', id: uuid });
    assert.equal(d.event.message, data.description);
    assert.deepEqual(d.event.data, data);
    assert.equal(decodeMessage(rec!).event.id, d.event.id);
  });

  it('--producer-properties: bootstrap.servers and topic from the file; a bad value exits 2 naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-cs-'));
    try {
      const topic = uniqueName('e2e-cloudstack-props');
      const uuid = randomUUID();
      const props = join(dir, 'kafka.producer.properties');
      writeFileSync(props, `# CloudStack's event bus settings\nbootstrap.servers=${kafkaBrokers()}\nacks=all\nretries=1\ntopic=${topic}\n`);
      const data = { resource: 'VirtualMachine', id: uuid, 'old-state': 'Starting', 'new-state': 'Running' };
      const r = await runCli(['emit', '--producer-properties', props, '--profile', 'cloudstack', '--type', 'ResourceStateEvent',
        '--entity', `VirtualMachine:${uuid}`, '--data', JSON.stringify(data), '--time', '2017-07-23T07:09:08Z']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(emitted(r.stdout).topic, topic);
      // apache/cloudstack server/src/main/java/com/cloud/vm/UserVmStateListener.java @ 7fce2656:
      // a VM transition is published twice, status preStateTransitionEvent then
      // postStateTransitionEvent, both keyed by the VM's UUID (KafkaEventBus.java @ f1c25606).
      const recs = await kcatAll(topic, 'cloudstack');
      assert.deepEqual(recs.map((x) => x.key), [uuid, uuid]);
      assert.deepEqual(recs.map((x) => x.value), ['preStateTransitionEvent', 'postStateTransitionEvent'].map((status) =>
        JSON.stringify({ ...data, status, eventDateTime: '2017-07-23 07:09:08 +0000' })));

      const view = await runCli(['view', '--producer-properties', props, '--topic', topic, '--from-beginning', '--max', '1', '--timeout', '20s']);
      assert.equal(view.code, 0, view.stderr);
      assert.equal(view.stdout, `${hhmmss('2017-07-23T07:09:08Z')} [ResourceStateEvent] VirtualMachine ${uuid}: Starting -> Running\n`);

      const [rec] = await readUntil([topic], 'cloudstack', (rs) => rs.length >= 1);
      const d = decodeMessage(rec!);
      assert.equal(d.profile, 'cloudstack');
      assert.equal(d.event.type, 'cloudstack.ResourceStateEvent');
      assert.equal(d.event.time, '2017-07-23T07:09:08.000Z');
      assert.deepEqual(d.event.entity, { kind: 'VirtualMachine', id: uuid });

      const bad = join(dir, 'bad.properties');
      writeFileSync(bad, `bootstrap.servers=${kafkaBrokers()}\nacks=maybe\ntopic=${topic}\n`);
      const b = await runCli(['emit', '--producer-properties', bad, '--profile', 'cloudstack', '--type', 'ActionEvent',
        '--entity', `Account:${uuid}`, '--data', '{"event":"ACCOUNT.CREATE","status":"Completed"}']);
      assert.equal(b.code, 2, b.stderr);
      assert.match(b.stderr, /\backs\b/);
      assert.match(b.stderr, /maybe/);
      assert.equal((await kcatAll(topic, 'cloudstack')).length, 2, 'nothing was published with the bad file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('assisted', () => {
  // docs/profiles.md: the envelope goes on the sink's topic, default `events-stream`.
  it('herald emit --profile assisted without --topic publishes to events-stream, keyed by the cluster', async () => {
    const cluster = `c-${uniqueName('e2e-cli')}`;
    const r = await runCli(['emit', '--brokers', kafkaBrokers(), '--profile', 'assisted', '--type', 'cluster_installed', '--entity', `cluster:${cluster}`, '--message', 'Cluster installed']);
    assert.equal(r.code, 0, r.stderr);
    const out = emitted(r.stdout);
    assert.equal(out.topic, 'events-stream');
    // events-stream is shared: ours are keyed by this test's cluster.
    const recs = await readUntil([out.topic], (x) => (x.key === cluster ? 'assisted' : undefined), (rs) => rs.some((x) => x.key === cluster));
    const rec = recs.find((x) => x.key === cluster);
    assert.ok(rec);
    const env = json(rec);
    assert.equal(env.Name, 'Event');
    assert.equal(env.Payload.name, 'cluster_installed');
    assert.equal(env.Payload.cluster_id, cluster);
    assert.equal(env.Payload.message, 'Cluster installed');
    const d = decodeMessage(rec);
    assert.equal(d.profile, 'assisted');
    assert.deepEqual(d.event.entity, { kind: 'cluster', id: cluster });
  });
});
