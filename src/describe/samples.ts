/**
 * Sample events per profile: one canonical event for every kind of message the profile can
 * publish, with marker values in the parts of the topic that vary (`x-component`,
 * `x-resourceUuid`) or one event per value of an enumerated part (AliECS states, Choria
 * lifecycle types). The describer (channels.ts) encodes them through each sink's own binding —
 * the same code that publishes — and reads the topics, keys and headers off the result, so the
 * document never restates a profile's topic rules. A marker or an enumerated value that shows up
 * as a whole topic segment becomes the channel parameter it names.
 */
import { ENTITY_EVENT_TYPES } from '../events/entity-states.js';
import type { HeraldEvent } from '../events/schema.js';
import { ALIECS_ENTITY_KIND, ALIECS_STATES } from '../profiles/aliecs.js';
import { ASSISTED_SOURCE } from '../profiles/assisted.js';
import { CHORIA_EVENT_KINDS, choriaEventInput, type ChoriaEventKind } from '../profiles/choria.js';
import { CLOUDSTACK_CATEGORIES, cloudstackType, type CloudStackCategory } from '../profiles/cloudstack.js';
import type { EncodeContext } from '../profiles/types.js';

/** A parameter a sample's topic may carry. */
export interface SampleParam {
  /** The value in the sample (a whole topic segment when the parameter is used). */
  value: string;
  /** True when the parameter takes a known set of values (the samples enumerate them). */
  enumerated: boolean;
  description: string;
}

export interface Sample {
  /** The message this event becomes (a component message name). */
  message: string;
  /** The schema (profile/name) of the message's payload, given the sink's encode context. */
  schema: (ctx: EncodeContext) => string;
  /** How the message is decoded when it is not JSON (aliecs: protobuf). */
  format?: 'protobuf';
  event: HeraldEvent;
  params: Readonly<Record<string, SampleParam>>;
}

const TIME = '2026-01-01T00:00:00.000Z';
const base = { specversion: '1.0' as const, time: TIME, severity: 'info' as const };

const free = (value: string, description: string): SampleParam => ({ value, enumerated: false, description });
const listed = (value: string, description: string): SampleParam => ({ value, enumerated: true, description });

function cloudeventsSamples(): Sample[] {
  const schema = (ctx: EncodeContext) => (ctx.transport === 'nats' || ctx.mode === 'structured' ? 'cloudevents/event' : 'cloudevents/data');
  // A full event and a bare one: what only the first has (subject, entity, data) is optional.
  return [
    { message: 'event', schema, event: { ...base, id: 'sample-1', source: 'sample', type: 'com.example.sample', subject: 'sample', entity: { kind: 'sample', id: 's1' }, message: 'sample', data: { sample: true } }, params: {} },
    { message: 'event', schema, event: { ...base, id: 'sample-2', source: 'sample', type: 'com.example.sample' }, params: {} },
  ];
}

const STATE_DOC = 'the AliECS environment state';

function aliecsSamples(): Sample[] {
  const out: Sample[] = [];
  for (const state of ALIECS_STATES) {
    const data = { kind: ALIECS_ENTITY_KIND, id: 'x-env', state, previous: null, enteredAt: TIME, changed: true, attributes: { runNumber: 1, runType: 'PHYSICS', detectors: ['ITS', 'TPC'] } };
    const entity = { kind: ALIECS_ENTITY_KIND, id: 'x-env' };
    const params = { state: listed(state, STATE_DOC) };
    out.push({ message: 'NewStateNotification', schema: () => 'aliecs/aliecs.proto', format: 'protobuf', event: { ...base, id: `enter-${state}`, source: 'sample', type: ENTITY_EVENT_TYPES.enter, entity, data }, params });
    out.push({ message: 'NewStateNotification', schema: () => 'aliecs/aliecs.proto', format: 'protobuf', event: { ...base, id: `leave-${state}`, source: 'sample', type: ENTITY_EVENT_TYPES.leave, entity, data }, params });
    out.push({
      message: 'ActiveRunsList', schema: () => 'aliecs/aliecs.proto', format: 'protobuf',
      event: { ...base, id: `list-${state}`, source: 'sample', type: ENTITY_EVENT_TYPES.list, data: { kind: ALIECS_ENTITY_KIND, state, entities: [{ id: 'x-env', state, enteredAt: TIME, attributes: {} }] } },
      params,
    });
  }
  return out;
}

const CHORIA_FIELDS: Readonly<Record<ChoriaEventKind, Record<string, unknown>>> = {
  startup: { version: '1.0.0' },
  shutdown: {},
  provisioned: {},
  alive: { version: '1.0.0' },
  upgraded: { version: '1.0.0', new_version: '1.0.1' },
  governor: { governor: 'x-governor', sequence: 1, event_type: 'enter' },
  transition: { version: '1.0.0', machine: 'x-machine', transition: 'x-transition', from_state: 'a', to_state: 'b' },
};

function choriaSamples(): Sample[] {
  return CHORIA_EVENT_KINDS.map((kind): Sample => {
    const fields = { identity: 'x-identity', ...(kind !== 'transition' && { component: 'x-component' }), ...CHORIA_FIELDS[kind] };
    const input = choriaEventInput(kind, fields, { id: `choria-${kind}`, time: new Date(TIME) });
    return {
      message: kind,
      schema: (ctx) => (kind !== 'transition' && ctx.options?.format === 'plain' ? `choria/${kind}` : `choria/${kind}.cloudevent`),
      event: { ...base, ...input, id: input.id!, time: input.time! },
      // A transition's subject is fixed; lifecycle subjects carry the type and the component.
      params: kind === 'transition' ? {} : {
        type: listed(kind, 'the Choria lifecycle event type'),
        component: free('x-component', 'the Choria component, e.g. server'),
      },
    };
  });
}

const CLOUDSTACK_DATA: Readonly<Record<CloudStackCategory, Record<string, unknown>>> = {
  ActionEvent: { event: 'x-type', status: 'Completed', entity: 'x-resourceType', entityuuid: 'x-resourceUuid', description: 'sample' },
  AlertEvent: { event: 'x-type', dataCenterId: '1', podId: '1', subject: 'sample', body: 'sample' },
  UsageEvent: { event: 'x-type', account: '1', zone: '1', resource: 'x-resourceType', id: 'x-resourceUuid' },
  ResourceStateEvent: { resource: 'x-resourceType', id: 'x-resourceUuid', 'old-state': 'Stopped', 'new-state': 'Running' },
};

function cloudstackSamples(): Sample[] {
  return CLOUDSTACK_CATEGORIES.map((category): Sample => ({
    message: category,
    schema: () => `cloudstack/${category}`,
    event: { ...base, id: `cloudstack-${category}`, source: 'x-source', type: cloudstackType(category), ...(category === 'ResourceStateEvent' && { subject: 'x-type' }), data: CLOUDSTACK_DATA[category] },
    params: {
      source: free('x-source', 'the event source, e.g. management-server'),
      type: free('x-type', 'the event type (ActionEvent, AlertEvent, UsageEvent: the event; ResourceStateEvent: the state machine event), dots as -'),
      resourceType: free('x-resourceType', 'the resource type, e.g. VirtualMachine'),
      resourceUuid: free('x-resourceUuid', 'the resource UUID'),
    },
  }));
}

function assistedSamples(): Sample[] {
  const enter = (kind: string, name: string): Sample => ({
    message: name,
    schema: () => `assisted/${name}`,
    event: { ...base, id: `assisted-${name}`, source: ASSISTED_SOURCE, type: ENTITY_EVENT_TYPES.enter, entity: { kind, id: 'x-id' }, data: { kind, id: 'x-id', state: 'READY', previous: null, enteredAt: TIME, attributes: { cluster_id: 'x-cluster' } } },
    params: {},
  });
  return [
    {
      message: 'Event', schema: () => 'assisted/Event',
      event: { ...base, id: 'assisted-event', source: ASSISTED_SOURCE, type: 'host_registration_succeeded', entity: { kind: 'cluster', id: 'x-cluster' }, message: 'sample', data: { request_id: 'x-request' } },
      params: {},
    },
    enter('cluster', 'ClusterState'),
    enter('host', 'HostState'),
    enter('infra-env', 'InfraEnv'),
  ];
}

const SAMPLES: Readonly<Record<string, () => Sample[]>> = {
  cloudevents: cloudeventsSamples,
  aliecs: aliecsSamples,
  choria: choriaSamples,
  cloudstack: cloudstackSamples,
  assisted: assistedSamples,
};

/** The samples of a profile (a profile without samples is described by its sink's topic alone). */
export function samplesOf(profile: string): Sample[] {
  return SAMPLES[profile]?.() ?? [];
}
