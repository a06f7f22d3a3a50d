/**
 * `herald topics`: lists the topics of a Kafka cluster with partitions, replication factor,
 * min.insync.replicas, retention.ms and cleanup.policy (`--format table|json`, `--pattern`).
 */
import { resolveKafkaConnection } from '../transports/kafka/connection.js';
import { describeTopics } from '../transports/kafka/topics.js';
import { oneOf, parseDuration, parseFlags } from './args.js';
import { cliBrokers } from './transport-flags.js';
import { parsePattern } from '../transports/shared/flags.js';

export { parsePattern } from '../transports/shared/flags.js';

const USAGE = `usage: herald topics --brokers HOST:PORT[,...] [--pattern REGEX] [--format table|json] [--timeout 10s] [--producer-properties FILE]`;

/** Runs `herald topics`; returns the exit code (errors are thrown as HeraldErrors). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('topics', argv, {
    brokers: { type: 'string' },
    pattern: { type: 'string' },
    format: { type: 'string' },
    timeout: { type: 'string' },
    'producer-properties': { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const format = oneOf(typeof values.format === 'string' ? values.format : 'table', ['table', 'json'] as const, '--format');
  const timeoutMs = typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : 10_000;
  const pattern = typeof values.pattern === 'string' ? parsePattern(values.pattern) : undefined;
  const brokers = cliBrokers(values)!;
  const conn = resolveKafkaConnection({
    brokers,
    timeoutMs,
    ...(typeof values['producer-properties'] === 'string' && { producerProperties: values['producer-properties'] }),
  }, 'herald-topics');
  for (const w of conn.warnings) process.stderr.write(`herald topics: warning: ${w}\n`);
  const topics = await describeTopics(conn, { ...(pattern !== undefined && { pattern }) });
  if (format === 'json') {
    process.stdout.write(JSON.stringify(topics, null, 2) + '\n');
    return 0;
  }
  const rows = [
    ['TOPIC', 'PARTITIONS', 'REPLICATION', 'MIN.ISR', 'RETENTION.MS', 'CLEANUP.POLICY'],
    ...topics.map((t) => [t.name, String(t.partitions), String(t.replicationFactor), t.minInsyncReplicas ?? '-', t.retentionMs ?? '-', t.cleanupPolicy ?? '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n');
  return 0;
}
