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
import { decodeHeaderValue } from '../../src/transports/webhook/mapping.js';

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
  /** Topic, NATS subject, AMQP routing key, or the request path of a webhook. */
  topic: string;
  value: Buffer | null;
  /**
   * Headers as read (CloudEvents binary mode puts the attributes there): Kafka record headers,
   * NATS headers, AMQP application headers plus the content type, HTTP request headers.
   */
  headers?: Readonly<Record<string, unknown>>;
  /**
   * The transport it travelled on, where it changes how headers are read: `webhook` (HTTP)
   * percent-encodes the `ce-` values (HTTP binding 3.1.3.2); the rest carry them as they are.
   */
  transport?: string;
}

const json = (value: Buffer | null): unknown => (value === null || value.length === 0 ? null : JSON.parse(value.toString('utf8')));

/** A header value as text: AMQP tables may hold Buffers or numbers, HTTP repeated headers arrays. */
const headerText = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? v.map(headerText).join(', ') : String(v));

/** The content type of a message, from its headers (the name in any case). */
function contentTypeOf(m: PublishedMessage): string {
  const v = Object.entries(m.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return v === undefined ? '' : headerText(v);
}

/**
 * The served schema a published message of `profile` must match, told by the message itself:
 * cloudevents: batched (`batch`: an application/cloudevents-batch+json array, webhooks),
 * structured (`event`) or binary (`data`); choria: the document's protocol, in a CloudEvent or
 * plain; cloudstack: the category (routing key, else its fields); assisted: the envelope's
 * Name; aliecs: the protobuf message of the topic.
 */
export function schemaNameOf(profile: string, m: PublishedMessage): string {
  switch (profile) {
    case 'cloudevents': {
      const ct = contentTypeOf(m).toLowerCase();
      if (ct.startsWith('application/cloudevents-batch+json')) return 'batch';
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
  const bytes = value ?? new Uint8Array();
  const decoded = type.decode(bytes);
  const problem = type.verify(decoded);
  assert.equal(problem, null, `${topic}: ${problem ?? ''}`);
  // protobufjs skips, without a word, fields it does not know and fields whose wire type
  // differs from the .proto's: only when encoding the decoded message gives back the very same
  // bytes has the served .proto accounted for every byte (fields in number order, as both
  // Herald and AliECS's Go encoder write them).
  assert.equal(Buffer.from(type.encode(decoded).finish()).toString('hex'), Buffer.from(bytes).toString('hex'),
    `${topic}: bytes the served .proto does not account for (unknown fields or wire types)`);
  return type.toObject(decoded, { longs: Number, defaults: false, arrays: true });
}

/** The CloudEvents attributes of a binary-mode message: its `ce_` / `ce-` / `cloudEvents_` headers, prefix removed. */
export function binaryAttributes(m: PublishedMessage): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const a = /^(?:ce[_-]|cloudEvents[_:])(.+)$/i.exec(k)?.[1];
    if (a === undefined) continue;
    // HTTP percent-encodes the values; a value that does not decode is reported by the schema check as it is.
    let value = headerText(v);
    if (m.transport === 'webhook' || m.transport === 'http') {
      try {
        value = decodeHeaderValue(value);
      } catch {
        // keep the raw value
      }
    }
    attrs[a.toLowerCase()] = value;
  }
  return attrs;
}

/**
 * Asserts that a published message of `profile` matches its served schema: JSON validated with
 * Ajv 2020 (cloudevents binary mode: the data is any JSON, so its attributes headers are checked
 * against the structured event's schema, and a JSON content type must hold JSON), AliECS bytes
 * decoded with the served .proto. Returns the schema name it used.
 */
export function assertPublishedValid(profile: string, m: PublishedMessage): string {
  if (profile === 'aliecs') {
    decodeWithServedProto(m.topic, m.value);
    return schemaNameOf(profile, m);
  }
  // What is not JSON fails here, named, before anything reads its fields.
  const binary = profile === 'cloudevents' && schemaNameOf(profile, m) === 'data';
  const value = binary && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentTypeOf(m)) ? undefined : jsonOf(profile, m);
  const name = schemaNameOf(profile, m);
  if (binary) {
    // Binary mode: the attributes are headers; they form a structured event without data
    // (datacontenttype travels as the content type, so it is not among them). The data is
    // any value, JSON when the content type says so (checked above).
    assertValidAgainst('cloudevents', 'event', binaryAttributes(m));
    if (value !== undefined) assertValidAgainst('cloudevents', 'data', value);
    return name;
  }
  assertValidAgainst(profile, name, value);
  return name;
}

/** The value parsed as JSON; an assertion naming the message when it is not JSON. */
function jsonOf(profile: string, m: PublishedMessage): unknown {
  try {
    return json(m.value);
  } catch (err) {
    assert.fail(`${profile} on ${m.topic}: the value is not JSON (${(err as Error).message}): ${m.value?.toString('utf8').slice(0, 200) ?? ''}`);
  }
}
