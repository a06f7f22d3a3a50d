/**
 * Round trip through `herald serve`'s REST API for the choria and cloudstack profiles (the
 * aliecs and assisted ones have files of their own): events posted to the API are stored,
 * relayed by the outbox to the real broker, and what arrives decodes (decodeMessage) to an
 * event with the stored id wherever the format carries one. An event a target's profile cannot
 * encode (a Choria shutdown without a component, a governor event type Choria does not have —
 * go-choria lifecycle/governor.go @ 58e80bab) is refused with 400 naming the field, and nothing
 * of its batch is stored. Choria transitions are CloudEvents on every choria sink, also the
 * plain one (aagent/notifiers/choria/choria.go publishes only CloudEvent()).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../../src/profiles/decode.js';
import { kafkaBrokers, uniqueName } from '../helpers/env.js';
import { sinkStatus, startTestService, waitFor } from './outbox-helpers.js';
import { api, kcatAll, readUntil, type Rec } from './profiles-e2e-helpers.js';

const json = (r: Rec) => JSON.parse(r.value!.toString('utf8')) as Record<string, any>;

test('choria and cloudstack through the REST API: stored ids arrive, an event a choria sink cannot carry is refused with 400', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-api-'));
  const brokers = kafkaBrokers().split(',');
  const csTopic = uniqueName('e2e-api-cs');
  const ceTopic = uniqueName('e2e-api-ce');
  const component = uniqueName('e2eapi');
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [
      { name: 'choria', type: 'kafka', brokers, profile: 'choria' },
      { name: 'choria-plain', type: 'kafka', brokers, profile: 'choria', profileOptions: { format: 'plain' } },
      { name: 'cloudstack', type: 'kafka', brokers, profile: 'cloudstack', topic: csTopic },
      { name: 'ce', type: 'kafka', brokers, profile: 'cloudevents', mode: 'structured', topic: ceTopic },
    ],
  });
  t.after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const identity = `${uniqueName('n')}.example.net`;
  const uuid = randomUUID();
  const usage = { event: 'NET.IPASSIGN', account: 'f4849ae2-6b93-11e7-81e3-06565200012c', zone: 'zone-1', resource: 'Network', id: uuid };
  const startupEvent = { source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.startup', subject: identity, data: { identity, component, version: '0.6.0' } };

  // Events the choria sinks cannot carry: refused before anything is stored, naming the field.
  const refused = await api(service.address, 'POST', '/v2/events', [
    startupEvent,
    { source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.shutdown', subject: identity, data: { identity } },
    { source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.governor', subject: identity, data: { identity, component, governor: 'PUPPET', sequence: 1, event_type: 'timeout' } },
  ]);
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  const details = (refused.body as { details: Array<{ path: string; message: string }> }).details;
  assert.deepEqual([...new Set(details.map((d) => d.path))], ['[1].data.component', '[2].data.event_type']);
  assert.ok(details.some((d) => /must be one of enter, exit, timeouts, eviction/.test(d.message) && /sink "choria"/.test(d.message)), JSON.stringify(details));
  const listed = await api(service.address, 'GET', '/v2/events');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body, [], 'nothing of the batch was stored (the store of this test was empty)');

  const instance = randomUUID();
  const post = await api(service.address, 'POST', '/v2/events', [
    startupEvent,
    {
      source: 'io.choria.machine', type: 'io.choria.machine.v1.transition', subject: identity,
      data: { identity, id: instance, machine: 'httpcheck', version: '1.0.0', transition: 'fail', from_state: 'ok', to_state: 'critical' },
    },
    { source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.governor', subject: identity, data: { identity, component, governor: 'PUPPET', sequence: 1, event_type: 'timeouts' } },
    { source: 'management-server', type: 'cloudstack.UsageEvent', entity: { kind: 'Network', id: uuid }, data: usage },
  ]);
  assert.equal(post.status, 202, JSON.stringify(post.body));
  const [startupId, transitionId, governorId, usageId] = (post.body as { ids: string[] }).ids as [string, string, string, string];
  const stored = async (id: string) => (await api(service.address, 'GET', `/v2/events/${id}`)).body as { time: string };

  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address)).every((s) => s.pending === 0), 60_000);
  const status = await sinkStatus(service.address);
  for (const s of status) assert.equal(s.parked, 0, `${s.name}: ${JSON.stringify(s)}`);

  // Choria: the startup arrives twice on its own topic (CloudEvent and plain), with the stored id.
  const startupTopic = `choria.lifecycle.event.startup.${component}`;
  // choria.machine.transition is shared: ours are keyed by this test's identity.
  const choria = await readUntil([startupTopic, 'choria.machine.transition'], (r) => (r.topic === startupTopic || r.key === identity ? 'choria' : undefined), (rs) =>
    rs.filter((r) => r.topic === startupTopic).length >= 2 && rs.filter((r) => r.topic === 'choria.machine.transition' && r.key === identity).length >= 2, 30_000);
  const startups = choria.filter((r) => r.topic === startupTopic);
  assert.equal(startups.length, 2);
  const time = (await stored(startupId)).time;
  const seconds = Math.floor(Date.parse(time) / 1000);
  // go-choria lifecycle/basic.go field order; the CloudEvent time is time.Unix(timestamp, 0).
  const plainDoc = { protocol: 'io.choria.lifecycle.v1.startup', id: startupId, identity, component, timestamp: seconds, version: '0.6.0' };
  const ceRec = startups.find((r) => json(r).specversion === '1.0');
  const plainRec = startups.find((r) => json(r).protocol !== undefined);
  assert.ok(ceRec && plainRec, 'one CloudEvent and one plain document');
  assert.equal(ceRec.value!.toString('utf8'), JSON.stringify({
    specversion: '1.0', id: startupId, source: 'io.choria.lifecycle', type: 'io.choria.lifecycle.v1.startup', subject: identity,
    datacontenttype: 'application/json', time: new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'), data: plainDoc,
  }));
  assert.equal(plainRec.value!.toString('utf8'), JSON.stringify(plainDoc));
  for (const r of startups) {
    assert.equal(r.key, identity);
    const d = decodeMessage(r);
    assert.equal(d.profile, 'choria');
    assert.equal(d.event.id, startupId);
    // Both forms carry whole seconds.
    assert.equal(d.event.time, new Date(seconds * 1000).toISOString());
  }
  // The transition: a CloudEvent from both sinks, the plain one too; its id the stored event's,
  // data.id the machine instance id the caller gave.
  const transitions = choria.filter((r) => r.topic === 'choria.machine.transition' && r.key === identity);
  assert.equal(transitions.length, 2, 'one per choria sink, keyed by identity');
  for (const r of transitions) {
    const body = json(r);
    assert.equal(body.specversion, '1.0', 'a CloudEvent');
    assert.equal(body.id, transitionId);
    assert.deepEqual(Object.keys(body.data), ['protocol', 'identity', 'id', 'version', 'timestamp', 'machine', 'transition', 'from_state', 'to_state']);
    assert.equal(body.data.id, instance);
    const d = decodeMessage(r);
    assert.equal(d.profile, 'choria');
    assert.equal(d.event.id, transitionId);
    assert.equal((d.event.data as { to_state: string }).to_state, 'critical');
  }
  const governors = await readUntil([`choria.lifecycle.event.governor.${component}`], 'choria', (rs) => rs.length >= 2, 30_000);
  assert.deepEqual(governors.map((r) => decodeMessage(r).event.id), [governorId, governorId]);
  assert.ok(governors.every((r) => (decodeMessage(r).event.data as { event_type: string }).event_type === 'timeouts'));

  // CloudStack: one flat record keyed by the UUID (kcat), decoding to the stored event's content.
  const cs = await kcatAll(csTopic, 'cloudstack');
  assert.equal(cs.length, 1, 'only the cloudstack event is carried by the cloudstack sink');
  assert.equal(cs[0]!.key, uuid);
  const usageTime = (await stored(usageId)).time;
  const d = new Date(usageTime);
  const p = (n: number) => String(n).padStart(2, '0');
  const eventDateTime = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  assert.equal(cs[0]!.value, JSON.stringify({ ...usage, eventDateTime }));
  const [csRec] = await readUntil([csTopic], 'cloudstack', (rs) => rs.length >= 1);
  const csDecoded = decodeMessage(csRec!);
  assert.equal(csDecoded.profile, 'cloudstack');
  assert.equal(csDecoded.event.type, 'cloudstack.UsageEvent');
  assert.deepEqual(csDecoded.event.entity, { kind: 'Network', id: uuid });
  assert.deepEqual(csDecoded.event.data, usage);
  assert.equal(csDecoded.event.time, new Date(Math.floor(Date.parse(usageTime) / 1000) * 1000).toISOString());

  // CloudEvents (structured): every stored event, with its id.
  const ids = [startupId, transitionId, governorId, usageId];
  const ce = await readUntil([ceTopic], 'cloudevents', (rs) => rs.length >= ids.length);
  assert.deepEqual(ce.map((r) => decodeMessage(r).event.id).sort(), [...ids].sort());
  for (const r of ce) assert.equal(decodeMessage(r, 'cloudevents').profile, 'cloudevents');
});
