/**
 * Shared pieces of the profiles end-to-end tests (not a test file): reading topics back with
 * a real Kafka consumer (Herald's own source, which keeps the raw bytes) and with kcat as an
 * independent client, each record read validated against the schema Herald serves for it
 * (test/helpers/schemas.ts), and a few small REST helpers.
 */
import { KafkaSource } from '../../src/transports/kafka/source.js';
import type { IncomingMessage } from '../../src/profiles/types.js';
import { kafkaBrokers } from '../helpers/env.js';
import { kcatFields } from '../helpers/kcat.js';
import { assertPublishedValid, type PublishedMessage } from '../helpers/schemas.js';

/** One record as read back: everything a decoder needs. */
export interface Rec extends IncomingMessage {
  key: string | null;
  partition: number;
  offset: string;
}

/**
 * The profile a record read back was published in, or a function telling it per record:
 * undefined for a record that is not the test's own (fixed topic names are shared with other
 * tests and earlier runs, whose records this test does not vouch for).
 */
export type ProfileOf<R> = string | ((record: R) => string | undefined);

/** Asserts that every record of the test's own validates against the schema Herald serves for it. */
export function assertRecordsValid<R extends PublishedMessage>(records: readonly R[], profile: ProfileOf<R>): number {
  let n = 0;
  for (const r of records) {
    const p = typeof profile === 'string' ? profile : profile(r);
    if (p === undefined) continue;
    assertPublishedValid(p, r);
    n++;
  }
  return n;
}

/**
 * Reads `topics` from the beginning with a fresh consumer group until `done(records)` says so,
 * or `timeoutMs` passed (then returns what it has; the caller's assertions say what is missing).
 * Every record `profile` names a profile for is validated against its served schema
 * (`GET /v2/schemas`), so no test reads back a message without checking it.
 */
export async function readUntil(topics: readonly string[], profile: ProfileOf<Rec>, done: (records: readonly Rec[]) => boolean, timeoutMs = 30_000): Promise<Rec[]> {
  const source = new KafkaSource({ brokers: kafkaBrokers().split(','), topics, from: 'beginning', timeoutMs: 20_000 });
  const out: Rec[] = [];
  const timer = setTimeout(() => void source.close(), timeoutMs);
  try {
    for await (const m of source.messages()) {
      const { ack: _ack, ...received } = m;
      out.push({ ...received, key: m.key ?? null, partition: m.partition ?? -1, offset: m.offset ?? '' });
      if (done(out)) break;
    }
  } finally {
    clearTimeout(timer);
    await source.close();
  }
  assertRecordsValid(out, profile);
  // Offsets order records within a partition only; sort so per-partition order is kept.
  return out.sort((a, b) => (a.topic === b.topic ? (a.partition === b.partition ? Number(BigInt(a.offset) - BigInt(b.offset)) : a.partition - b.partition) : a.topic < b.topic ? -1 : 1));
}

/** One record as kcat prints it. */
export interface KcatRecord {
  key: string;
  value: string;
  headers: string;
}

/** kcat's `%h` (`name=value,...`; empty without headers) as a header map. */
export function kcatHeaders(h: string): Record<string, string> {
  if (h === '') return {};
  return Object.fromEntries(h.split(',').map((pair) => {
    const i = pair.indexOf('=');
    return i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
  }));
}

/**
 * Reads every record of `topic` with kcat (an independent client), from the beginning to the
 * end; with `profile`, each record of the test's own is validated against its served schema.
 */
export async function kcatAll(topic: string, profile?: ProfileOf<KcatRecord>): Promise<KcatRecord[]> {
  const records = await kcatRead(topic);
  if (profile !== undefined) {
    for (const r of records) {
      const p = typeof profile === 'string' ? profile : profile(r);
      if (p !== undefined) assertPublishedValid(p, { transport: 'kafka', topic, value: Buffer.from(r.value, 'utf8'), headers: kcatHeaders(r.headers) });
    }
  }
  return records;
}

async function kcatRead(topic: string): Promise<KcatRecord[]> {
  return (await kcatFields(kafkaBrokers(), topic, ['%k', '%h', '%s'])).map(([key = '', headers = '', value = '']) => ({ key, headers, value }));
}

/** A JSON request to the service; returns status and parsed body. */
export async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed };
}

const pad = (n: number) => String(n).padStart(2, '0');
/** `HH:MM:SS` of a time in this process's zone (the CLI child inherits it). */
export const hhmmss = (t: string | number): string => {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};
