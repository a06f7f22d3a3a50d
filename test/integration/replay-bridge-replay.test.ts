/**
 * `herald replay` as a user runs it (the built CLI): events stored in a temporary SQLite store
 * are re-published through the outbox to a Kafka sink on a fresh topic, and an independent
 * client (kcat) reads the topic back: exactly the stored events matching the filters, with
 * their original ids, in stored order per key. Also --dry-run and the usage errors.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { partitionKey } from '../../src/events/event.js';
import { createEvent } from '../../src/events/event.js';
import type { HeraldEvent, Severity } from '../../src/events/index.js';
import { openStore } from '../../src/store/index.js';
import { kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { outboxTables } from '../helpers/stores.js';
import { runKcat } from '../helpers/kcat.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-replay-'));
const db = `sqlite:${join(dir, 'herald.db')}`;
const run = uniqueName('rp');
const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
const ENTITIES = [{ kind: 'host', id: 'h1' }, { kind: 'host', id: 'h2' }, { kind: 'cluster', id: 'c1' }];
const TYPES = ['com.example.host.up', 'com.example.host.down', 'com.example.check'];
const SEVERITIES: Severity[] = ['info', 'warning', 'error', 'debug', 'critical'];
const SINCE = at(10);
const UNTIL = at(50);

/** 60 events, one a minute, in time order; entities, types and severities interleaved. */
const stored: HeraldEvent[] = Array.from({ length: 60 }, (_, i) =>
  createEvent({
    id: `${run}-e${String(i).padStart(2, '0')}`,
    source: 'replay-test',
    type: TYPES[i % 3]!,
    severity: SEVERITIES[i % 5]!,
    entity: ENTITIES[(i + Math.floor(i / 4)) % 3]!,
    time: at(i),
    message: `event number ${i}`,
    data: { n: i },
  }),
);
const inRange = (e: HeraldEvent) => e.time >= SINCE && e.time < UNTIL; // since inclusive, until exclusive

function writeConfig(name: string, topic: string, target: { [k: string]: unknown } = {}): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({
    streaming: true,
    sinks: [
      { name: 'replay-target', type: 'kafka', brokers: kafkaBrokers().split(','), topic, profile: 'cloudevents', ...target },
      { name: 'archive', type: 'stdout' },
    ],
  }));
  return file;
}

interface Record { key: string; partition: number; offset: number; id: string }

/** Every record of the topic from the beginning to its current end, read with kcat. */
async function kcatAll(topic: string): Promise<Record[]> {
  const r = await runKcat(['-C', '-b', kafkaBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%p\t%o\t%h\n']);
  if (r.code !== 0) throw new Error(`kcat exited ${r.code}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((line) => {
    const [key, partition, offset, headers] = line.split('\t');
    return { key: key!, partition: Number(partition), offset: Number(offset), id: /(?:^|,)ce_id=([^,]*)/.exec(headers ?? '')?.[1] ?? '' };
  });
}

/** Ids per key in the order given. */
function byKey(items: ReadonlyArray<{ key: string; id: string }>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { key, id } of items) out.set(key, [...(out.get(key) ?? []), id]);
  return out;
}

async function outboxRows(status?: string): Promise<number> {
  const store = await openStore(db);
  try {
    let q = outboxTables(store).selectFrom('herald_outbox').select((eb) => eb.fn.countAll<number>().as('n'));
    if (status !== undefined) q = q.where('status', '=', status);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await store.close();
  }
}

before(async () => {
  const store = await openStore(db);
  try {
    await store.migrate();
    // No sinks: storing queues nothing; only the replay does.
    const { inserted } = await store.append(stored);
    assert.equal(inserted, stored.length);
  } finally {
    await store.close();
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('herald replay to Kafka', () => {
  it('--since/--until/--entity: --dry-run counts and sends nothing; the replay delivers exactly the matching events in order', async () => {
    const expected = stored.filter((e) => inRange(e) && e.entity?.kind === 'host' && e.entity.id === 'h1');
    assert.ok(expected.length >= 8 && expected.length < stored.length / 2, `fixture gives ${expected.length} events`);
    const topic = uniqueName('replay-entity');
    const config = writeConfig('entity.json', topic);
    const args = ['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--since', SINCE, '--until', UNTIL, '--entity', 'host:h1'];

    const dry = await runCli([...args, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.trim(), `${expected.length} events would be replayed to sink replay-target`);
    assert.equal(await outboxRows(), 0, 'a dry run queues nothing');

    const r = await runCli(args, { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^queued ${expected.length}/${expected.length}$`, 'm'), 'progress on stderr');
    assert.equal(r.stdout.trim(), `${expected.length} of ${expected.length} events replayed to sink replay-target`);
    assert.equal(await outboxRows(), 0, 'every queued entry was delivered and removed');

    // The replay returned only after the broker acknowledged everything (acks=all), so the
    // topic's current end holds all of it — and nothing from the dry run.
    const records = await kcatAll(topic);
    assert.deepEqual(records.map((r) => r.id), expected.map((e) => e.id), 'exactly the stored events, in stored order');
    assert.ok(records.every((r) => r.key === 'host:h1'), 'keyed by the entity');
  });

  it('--type and --severity filters (several keys): the ids equal the matching stored events, in order per key', async () => {
    const types = ['com.example.host.up', 'com.example.check'];
    const severities: Severity[] = ['warning', 'error', 'critical'];
    const expected = stored.filter((e) => inRange(e) && types.includes(e.type) && severities.includes(e.severity));
    assert.ok(expected.length >= 8, `fixture gives ${expected.length} events`);
    assert.ok(new Set(expected.map((e) => partitionKey(e))).size >= 2, 'several keys');
    const topic = uniqueName('replay-types');
    const config = writeConfig('types.json', topic);
    const r = await runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--since', SINCE, '--until', UNTIL,
      ...types.flatMap((t) => ['--type', t]), ...severities.flatMap((s) => ['--severity', s])], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^queued ${expected.length}/${expected.length}$`, 'm'));
    assert.equal(r.stdout.trim(), `${expected.length} of ${expected.length} events replayed to sink replay-target`);

    const records = await kcatAll(topic);
    assert.deepEqual(records.map((r) => r.id).sort(), expected.map((e) => e.id).sort(), 'the same set of ids, no duplicates');
    // kcat prints each partition in offset order and a key lives in one partition.
    assert.deepEqual(byKey(records), byKey(expected.map((e) => ({ key: partitionKey(e)!, id: e.id }))), 'stored order per key');
  });

  it('usage errors exit 2 naming the flag: unknown --sink lists the configured sinks, bad or reversed times, a bad --severity', async () => {
    const config = writeConfig('usage.json', uniqueName('replay-unused'));
    const [sink, since, severity, number, reversed] = await Promise.all([
      runCli(['replay', '--config', config, '--db', db, '--sink', 'no-such-sink']),
      runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--since', 'yesterday-ish']),
      runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--severity', 'loud']),
      // Date.parse would take "7" for July 2001; a user meaning "7 days" must hear about it.
      runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--until', '7']),
      runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--since', UNTIL, '--until', SINCE]),
    ]);
    assert.equal(number.code, 2, number.stderr);
    assert.match(number.stderr, /--until must be an RFC 3339 time/);
    assert.equal(reversed.code, 2, reversed.stderr);
    assert.match(reversed.stderr, /--since .* is after --until/);
    assert.equal(sink.code, 2, sink.stderr);
    assert.match(sink.stderr, /--sink "no-such-sink" is not a configured sink/);
    assert.match(sink.stderr, /configured: replay-target, archive/);
    assert.equal(since.code, 2, since.stderr);
    assert.match(since.stderr, /--since/);
    assert.match(since.stderr, /yesterday-ish/);
    assert.equal(severity.code, 2, severity.stderr);
    assert.match(severity.stderr, /--severity/);
    assert.equal(sink.stdout + since.stdout + severity.stdout + number.stdout + reversed.stdout, '', 'nothing on stdout');
    assert.equal(await outboxRows(), 0, 'nothing queued');
  });

  it('a disabled sink or streaming off is refused (exit 2 naming the key) instead of reporting a replay nothing delivers', async () => {
    const disabled = writeConfig('disabled.json', uniqueName('replay-disabled'), { enabled: false });
    const config = writeConfig('off.json', uniqueName('replay-off'));
    const [dis, off, dry] = await Promise.all([
      runCli(['replay', '--config', disabled, '--db', db, '--sink', 'replay-target', '--entity', 'host:h2']),
      runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--entity', 'host:h2'], { env: { HERALD_STREAMING: 'false' } }),
      runCli(['replay', '--config', disabled, '--db', db, '--sink', 'replay-target', '--entity', 'host:h2', '--dry-run']),
    ]);
    assert.equal(dis.code, 2, dis.stderr + dis.stdout);
    assert.match(dis.stderr, /sinks\[0\]\.enabled/);
    assert.equal(off.code, 2, off.stderr + off.stdout);
    assert.match(off.stderr, /HERALD_STREAMING/);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.trim(), `${stored.filter((e) => e.entity?.id === 'h2').length} events would be replayed to sink replay-target`);
    assert.equal(await outboxRows(), 0, 'nothing queued');
  });

  it('an unreachable broker: --timeout ends with exit 1, the events stay queued, progress names the error', async () => {
    const expected = stored.filter((e) => e.entity?.kind === 'cluster');
    const config = writeConfig('unreachable.json', uniqueName('replay-unreachable'), { brokers: ['127.0.0.1:1'], timeoutMs: 1000 });
    try {
      const r = await runCli(['replay', '--config', config, '--db', db, '--sink', 'replay-target', '--entity', 'cluster:c1', '--timeout', '4s'], { timeoutMs: 60_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^queued ${expected.length}/${expected.length}$`, 'm'));
      assert.match(r.stderr, new RegExp(`^delivered to replay-target 0/${expected.length}$`, 'm'), 'progress while waiting (piped: plain lines)');
      assert.match(r.stderr, /^last error: Kafka broker unavailable connecting at 127\.0\.0\.1:1/m, 'progress names the error');
      assert.match(r.stderr, new RegExp(`${expected.length} events still pending for sink replay-target after 4s`));
      assert.equal(r.stdout, '', 'no success line');
      assert.equal(await outboxRows('pending'), expected.length, 'the entries stay queued for a later relay');
    } finally {
      // Leave the store as the other tests expect it: nothing queued.
      const store = await openStore(db);
      await outboxTables(store).deleteFrom('herald_outbox').execute().finally(() => store.close());
    }
  });
});
