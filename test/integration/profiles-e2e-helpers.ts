/**
 * Shared pieces of the profiles end-to-end tests (not a test file): reading topics back with
 * a real Kafka consumer (Herald's own source, which keeps the raw bytes) and with kcat as an
 * independent client, and a few small REST helpers.
 */
import { spawn } from 'node:child_process';
import { KafkaSource } from '../../src/transports/kafka/source.js';
import type { IncomingMessage } from '../../src/profiles/types.js';
import { kafkaBrokers } from '../helpers/env.js';

/** One record as read back: everything a decoder needs. */
export interface Rec extends IncomingMessage {
  key: string | null;
  partition: number;
  offset: string;
}

/**
 * Reads `topics` from the beginning with a fresh consumer group until `done(records)` says so,
 * or `timeoutMs` passed (then returns what it has; the caller's assertions say what is missing).
 */
export async function readUntil(topics: readonly string[], done: (records: readonly Rec[]) => boolean, timeoutMs = 30_000): Promise<Rec[]> {
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
  // Offsets order records within a partition only; sort so per-partition order is kept.
  return out.sort((a, b) => (a.topic === b.topic ? (a.partition === b.partition ? Number(BigInt(a.offset) - BigInt(b.offset)) : a.partition - b.partition) : a.topic < b.topic ? -1 : 1));
}

/** One record as kcat prints it. */
export interface KcatRecord {
  key: string;
  value: string;
  headers: string;
}

/** Reads every record of `topic` with kcat (an independent client), from the beginning to the end. */
export function kcatAll(topic: string): Promise<KcatRecord[]> {
  return new Promise((resolve, reject) => {
    // Fields separated by control characters that JSON text never holds unescaped.
    const child = spawn('kcat', ['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\x1f%h\x1f%s\x1e'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${err}`));
      resolve(out.split('\x1e').filter((r) => r !== '').map((r) => {
        const [key = '', headers = '', value = ''] = r.split('\x1f');
        return { key, headers, value };
      }));
    });
  });
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
