/**
 * Reference scenarios: what Kafka's own tools achieve on this machine, same record size,
 * acks=all, same topic layout. Herald's scenarios are reported as ratios to these.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LIBS, ROOT, run, type ScenarioResult } from './support.js';

const JAVA_LOG = `-Dlog4j2.configurationFile=${join(ROOT, 'scripts', 'kafka', 'log4j2.properties')}`;

/** Creates a topic with Kafka's own TopicCommand (no Herald code involved). */
export async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  await run('java', ['-cp', `${LIBS}/*`, JAVA_LOG, 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', brokers,
    '--create', '--if-not-exists', '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1']);
}

/**
 * Kafka's ProducerPerformance: the throughput ceiling of the Java client with acks=all. With
 * the client's default batch.size (16 KiB) it is not the limit of the broker: `batchBytes`
 * (e.g. 1 MiB) shows how far larger batches go on the same broker.
 */
export async function producerPerformance(brokers: string, topic: string, records: number, recordSize: number, batchBytes?: number): Promise<ScenarioResult> {
  const { stdout, seconds } = await run('java', ['-Xmx512m', '-cp', `${LIBS}/*`, JAVA_LOG, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic, '--num-records', String(records), '--record-size', String(recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5',
    ...(batchBytes !== undefined ? [`batch.size=${batchBytes}`, `buffer.memory=${Math.max(64 * 1024 * 1024, 8 * batchBytes)}`] : [])]);
  // "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, ..."
  const line = stdout.trim().split('\n').reverse().find((l) => /records sent, .* records\/sec/.test(l));
  const m = line && /([\d.]+) records\/sec .* ([\d.]+) ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(line);
  if (!m) throw new Error(`cannot read ProducerPerformance output: ${stdout.slice(-500)}`);
  return {
    name: batchBytes === undefined ? 'reference: Kafka ProducerPerformance' : `reference: ProducerPerformance, batch.size ${batchBytes % (1024 * 1024) === 0 ? `${batchBytes / (1024 * 1024)} MiB` : `${batchBytes} B`}`,
    events: records,
    seconds,
    events_per_s: Number(m[1]),
    p50_ms: Number(m[3]),
    p99_ms: Number(m[4]),
    max_ms: Number(m[2]),
    note: `send-to-ack latency under full load; JVM start excluded from events/s; batch.size ${batchBytes ?? '16384 (the default)'}`,
  };
}

/** Records of `size` printable bytes, one per line (kcat's input format). */
export function recordLines(records: number, size: number): string {
  const alphabet = randomBytes(size * 2).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    const tag = String(i).padStart(10, '0');
    lines.push((tag + alphabet).slice(0, size));
  }
  return lines.join('\n') + '\n';
}

/** kcat -P (librdkafka): an independent C client, acks=all, idempotent. */
export async function kcatProduce(brokers: string, topic: string, records: number, recordSize: number, tmp: string): Promise<ScenarioResult> {
  const file = join(tmp, `kcat-${records}.txt`);
  writeFileSync(file, recordLines(records, recordSize));
  const { seconds } = await run('kcat', ['-P', '-b', brokers, '-t', topic, '-X', 'acks=all', '-X', 'enable.idempotence=true',
    '-X', 'linger.ms=5', '-l', file]);
  return { name: 'reference: kcat -P', events: records, seconds, events_per_s: records / seconds };
}
