/**
 * Validates what a sink really published against the schema Herald serves for it
 * (`GET /v2/schemas/{profile}/{name}`): JSON messages with Ajv (JSON Schema 2020-12), AliECS
 * messages by decoding the bytes with the served .proto (protobufjs). Profile end-to-end tests
 * call `assertPublishedValid(profile, message)` on every message they read back.
 */
import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import protobuf from 'protobufjs';
import { schemaEntry, servedSchema, type JsonSchema } from '../../src/describe/schemas.js';

type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }));
const compiled = new Map<string, ValidateFunction>();

/** The compiled validator of a served JSON schema (`schema` may be given, e.g. as fetched over HTTP). */
export function validatorOf(profile: string, name: string, schema?: JsonSchema): ValidateFunction {
  const key = `${profile}/${name}${schema === undefined ? '' : ':given'}`;
  let v = compiled.get(key);
  if (v === undefined) {
    const s = schema ?? servedSchema(schemaEntry(profile, name));
    // A given copy of a served schema has the same $id: compile it without one.
    const { $id: _id, ...body } = s;
    v = ajv.compile(schema === undefined ? s : body);
    compiled.set(key, v);
  }
  return v;
}

/** Ajv's problems of `value` against a served schema, as `path message` lines; empty when valid. */
export function schemaProblems(profile: string, name: string, value: unknown, schema?: JsonSchema): string[] {
  const v = validatorOf(profile, name, schema);
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** Asserts that `value` validates against the served schema `profile/name`. */
export function assertValidAgainst(profile: string, name: string, value: unknown, schema?: JsonSchema): void {
  const problems = schemaProblems(profile, name, value, schema);
  assert.deepEqual(problems, [], `${profile}/${name}: ${JSON.stringify(value).slice(0, 400)}`);
}

/** What a test read back from a broker (or received over HTTP). */
export interface PublishedMessage {
  topic: string;
  value: Buffer | null;
  /** Headers as read (CloudEvents binary mode puts the attributes there). */
  headers?: Record<string, string>;
}

const json = (value: Buffer | null): unknown => (value === null || value.length === 0 ? null : JSON.parse(value.toString('utf8')));

/**
 * The served schema a published message of `profile` must match, told by the message itself:
 * cloudevents: structured (`event`) or binary (`data`); choria: the document's protocol, in a
 * CloudEvent or plain; cloudstack: the category (routing key, else its fields); assisted: the
 * envelope's Name; aliecs: the protobuf message of the topic.
 */
export function schemaNameOf(profile: string, m: PublishedMessage): string {
  switch (profile) {
    case 'cloudevents': {
      const ct = Object.entries(m.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
      return ct.startsWith('application/cloudevents+json') ? 'event' : 'data';
    }
    case 'choria': {
      const o = json(m.value) as Record<string, unknown>;
      const doc = (o.specversion !== undefined ? o.data : o) as Record<string, unknown>;
      const protocol = String(doc.protocol);
      const kind = protocol.slice(protocol.lastIndexOf('.') + 1);
      return o.specversion !== undefined ? `${kind}.cloudevent` : kind;
    }
    case 'cloudstack': {
      const routed = /\.(ActionEvent|AlertEvent|UsageEvent|ResourceStateEvent)\./.exec(`.${m.topic}.`)?.[1];
      if (routed !== undefined) return routed;
      const o = json(m.value) as Record<string, unknown>;
      if ('new-state' in o || 'old-state' in o) return 'ResourceStateEvent';
      if ('dataCenterId' in o || 'podId' in o) return 'AlertEvent';
      if ('zone' in o) return 'UsageEvent';
      return 'ActionEvent';
    }
    case 'assisted': {
      const o = json(m.value) as Record<string, unknown>;
      return String(o.Name ?? o.name);
    }
    case 'aliecs':
      return 'aliecs.proto';
    default:
      throw new Error(`no schema for profile ${profile}`);
  }
}

let aliecsRoot: protobuf.Root | undefined;

/** Decodes AliECS bytes with the served .proto (`text`: the .proto as fetched; default the served one). */
export function decodeWithServedProto(topic: string, value: Buffer | null, text?: string): Record<string, unknown> {
  const root = text !== undefined ? protobuf.parse(text).root : (aliecsRoot ??= protobuf.parse(schemaEntry('aliecs', 'aliecs.proto').text!).root);
  const type = root.lookupType(/\.env_list\./.test(topic) ? 'kafka.ActiveRunsList' : 'kafka.NewStateNotification');
  const decoded = type.decode(value ?? new Uint8Array());
  const problem = type.verify(decoded);
  assert.equal(problem, null, `${topic}: ${problem ?? ''}`);
  return type.toObject(decoded, { longs: Number, defaults: false, arrays: true });
}

/**
 * Asserts that a published message of `profile` matches its served schema: JSON validated with
 * Ajv 2020 (cloudevents binary mode: the data is any JSON, so its attributes headers are checked
 * instead), AliECS bytes decoded with the served .proto. Returns the schema name it used.
 */
export function assertPublishedValid(profile: string, m: PublishedMessage): string {
  const name = schemaNameOf(profile, m);
  if (profile === 'aliecs') {
    decodeWithServedProto(m.topic, m.value);
    return name;
  }
  if (profile === 'cloudevents' && name === 'data') {
    // Binary mode: the attributes are headers (ce_ / ce- / cloudEvents_ prefixes); they form a structured event without data.
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m.headers ?? {})) {
      const a = /^(?:ce[_-]|cloudEvents[_:])(.+)$/i.exec(k)?.[1];
      if (a !== undefined) attrs[a.toLowerCase()] = v;
    }
    assertValidAgainst('cloudevents', 'event', attrs);
    return name;
  }
  assertValidAgainst(profile, name, json(m.value));
  return name;
}
