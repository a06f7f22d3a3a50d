/**
 * One suite every transport passes with every profile: what a sink publishes, the same
 * transport's source reads back and the decode chain recognises as the same event — every
 * field the profile declares it carries through its wire format (Profile.roundTrip) equal.
 * Runs against the real brokers: Kafka (HERALD_TEST_KAFKA), NATS (HERALD_TEST_NATS) and
 * RabbitMQ (HERALD_TEST_AMQP). Catches a mapping of one side that the other does not undo
 * (the CloudEvents attributes AMQP wrote as cloudEvents_* were once read back only as ce_*).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SinkConfig } from '../../src/config/sinks.js';
import { createEvent } from '../../src/events/event.js';
import { ENTITY_EVENT_SOURCE, ENTITY_EVENT_TYPES } from '../../src/events/entity-states.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { lifecycle } from '../../src/profiles/choria/lifecycle.js';
import { decodeMessage } from '../../src/profiles/decode.js';
import { PROFILES, type ProfileName } from '../../src/profiles/registry.js';
import type { DecodedMessage, RoundTripField } from '../../src/profiles/types.js';
import { SOURCE_TRANSPORTS, TRANSPORTS } from '../../src/transports/registry.js';
import type { ReceivedMessage, Sink, Source } from '../../src/transports/types.js';
import { amqpUrl, kafkaBrokers, natsUrl, uniqueName } from '../helpers/env.js';
import { bindingFor } from '../helpers/sinks.js';

/** A sample event per profile, unique to this run (`tag`), and how to tell it among other messages. */
function samples(tag: string): Record<ProfileName, Array<{ what: string; event: HeraldEvent; mine: (d: DecodedMessage) => boolean }>> {
  const t = '2026-03-04T05:06:07.123Z';
  const withData = createEvent({ source: 'https://example.com/ops', type: 'com.example.disk.full', subject: `disk-${tag}`, time: t, severity: 'warning',
    entity: { kind: 'host', id: `h-${tag}` }, message: 'disk 95% full', data: { used: 95, mount: '/var', tags: ['a', 'b'] } });
  const empty = createEvent({ source: 'https://example.com/ops', type: 'com.example.heartbeat', time: t, entity: { kind: 'host', id: `e-${tag}` } });
  const env = `env-${tag}`;
  const enter = createEvent({ source: ENTITY_EVENT_SOURCE, type: ENTITY_EVENT_TYPES.enter, time: t, entity: { kind: 'environment', id: env },
    data: { kind: 'environment', id: env, state: 'RUNNING', previous: 'CONFIGURED', enteredAt: t, changed: true, attributes: { runNumber: 7, runType: 'PHYSICS', detectors: ['ITS', 'TPC'] } } });
  const startup = lifecycle.startup({ identity: `node-${tag}.example.net`, component: 'server', version: '0.29.4' }, { now: () => new Date(t) });
  const uuid = `3b2f6a4e-0000-4000-8000-${tag.replace(/[^0-9a-f]/g, '').padEnd(12, '0').slice(0, 12)}`;
  const action = createEvent({ source: 'management-server', type: 'cloudstack.ActionEvent', time: '2026-03-04T05:06:07Z', entity: { kind: 'Account', id: uuid },
    data: { event: 'ACCOUNT.CREATE', status: 'Completed', entity: 'com.cloud.user.Account', entityuuid: uuid, description: 'Successfully completed creating Account' } });
  const cluster = `c-${tag}`;
  const assisted = createEvent({ source: 'assisted-service', type: 'cluster_installation_completed', time: t, severity: 'info',
    entity: { kind: 'cluster', id: cluster }, message: `cluster ${cluster} installed` });
  const same = (id: string) => (d: DecodedMessage) => d.event.entity?.id === id;
  return {
    cloudevents: [
      { what: 'with data', event: withData, mine: (d) => d.event.id === withData.id },
      { what: 'without data', event: empty, mine: (d) => d.event.id === empty.id },
    ],
    aliecs: [{ what: 'an environment entering RUNNING', event: enter, mine: same(env) }],
    choria: [{ what: 'a startup', event: startup, mine: (d) => d.event.id === startup.id }],
    cloudstack: [{ what: 'an ActionEvent', event: action, mine: same(uuid) }],
    assisted: [{ what: 'a cluster event', event: assisted, mine: same(cluster) }],
  };
}

/** The field a profile says survives, as it should read back. */
function field(e: HeraldEvent, f: RoundTripField): unknown {
  if (f === 'timeSeconds') return Math.floor(Date.parse(e.time) / 1000);
  return (e as unknown as Record<string, unknown>)[f];
}

const sinkConfig = (transport: string, profile: ProfileName, exchange: string): SinkConfig => {
  const name = `rt-${transport}-${profile}`;
  switch (transport) {
    case 'kafka': return { name, type: 'kafka', brokers: kafkaBrokers().split(','), profile, topic: uniqueName(`rt-${profile}`) };
    case 'nats': return { name, type: 'nats', url: natsUrl(), jetstream: false, profile, topic: uniqueName(`rt.${profile}`).replace(/-/g, '_') };
    default: return { name, type: 'amqp', url: amqpUrl(), exchange, profile, topic: uniqueName(`rt.${profile}`) };
  }
};

/** A source of the same transport reading what `topics` receive (subscribed before anything is published). */
async function sourceFor(transport: string, config: SinkConfig, topics: string[]): Promise<Source> {
  const createSource = await TRANSPORTS[transport as 'kafka'].loadSource!();
  const spec = transport === 'kafka' ? { brokers: kafkaBrokers().split(','), topics }
    : transport === 'nats' ? { url: natsUrl(), subjects: topics }
      : { url: amqpUrl(), exchange: (config as { exchange: string }).exchange, binding: '#' };
  // Kafka keeps what was published (read from the beginning); core NATS and an AMQP queue get
  // what arrives once they are subscribed, which start() waits for.
  const source = (createSource as (s: unknown, o: object) => Source)(spec, { from: transport === 'kafka' ? 'beginning' : 'latest' });
  await source.start?.();
  return source;
}

/** The first message the decode chain recognises as `mine` (others on shared topics are skipped). */
async function readMine(source: Source, mine: (d: DecodedMessage) => boolean, preferred: ProfileName): Promise<{ msg: ReceivedMessage; decoded: DecodedMessage }> {
  const it = source.messages()[Symbol.asyncIterator]();
  const timer = setTimeout(() => void source.close(), 30_000);
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) assert.fail('the message did not arrive within 30 s');
      let decoded: DecodedMessage;
      try {
        decoded = decodeMessage(r.value, preferred);
      } catch {
        continue;
      }
      if (mine(decoded)) return { msg: r.value, decoded };
    }
  } finally {
    clearTimeout(timer);
  }
}

const tag = uniqueName('rt').slice(3).replace(/-/g, '');
const open: Array<Sink | Source> = [];
after(async () => {
  for (const o of open) await o.close().catch(() => undefined);
});

for (const transport of SOURCE_TRANSPORTS) {
  describe(`round trip over ${transport}`, () => {
    const exchange = uniqueName('herald-rt');
    for (const profile of Object.keys(PROFILES) as ProfileName[]) {
      for (const sample of samples(tag)[profile]) {
        test(`${profile}: ${sample.what} reads back with ${PROFILES[profile].roundTrip.join(', ')} equal`, async () => {
          const config = sinkConfig(transport, profile, exchange);
          const binding = bindingFor(config);
          const messages = binding.encode(sample.event);
          assert.ok(messages.length > 0, `the ${profile} profile carries the sample`);
          const source = await sourceFor(transport, config, [...new Set(messages.map((m) => m.topic))]);
          open.push(source);
          const sink = await binding.createSink({ logger: (await import('../../src/log.js')).silentLogger });
          open.push(sink);
          const outcomes = await sink.publish(messages);
          assert.deepEqual(outcomes, messages.map(() => ({ ok: true })));
          const { msg, decoded } = await readMine(source, sample.mine, profile);
          assert.equal(msg.transport, transport);
          assert.equal(decoded.profile, profile, `decoded by its own profile (format ${decoded.format})`);
          for (const f of PROFILES[profile].roundTrip) {
            assert.deepEqual(field(decoded.event, f), field(sample.event, f), `${f} survives ${profile} over ${transport}`);
          }
          await source.close();
        });
      }
    }
  });
}
