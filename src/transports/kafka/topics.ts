/**
 * Topic helpers: create missing topics with the wanted settings (or report where existing
 * topics differ), and describe a cluster's topics for `herald topics`. Every call is bounded
 * by the connection's timeout.
 */
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { baseClientOptions, resolveKafkaConnection, type KafkaConnection } from './connection.js';
import { kafkaErrorIds, toHeraldError, withTimeout } from './errors.js';

/** What a sink wants of one topic. Unset fields are left to the broker's defaults. */
export interface TopicSpec {
  topic: string;
  partitions?: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  retentionMs?: number;
}

/** One topic as `herald topics` shows it. Config values are null when the broker did not say. */
export interface TopicDescription {
  name: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: string | null;
  retentionMs: string | null;
  cleanupPolicy: string | null;
}

const CONFIG_KEYS = ['min.insync.replicas', 'retention.ms', 'cleanup.policy'];

function connectionOf(target: readonly string[] | KafkaConnection, timeoutMs?: number): KafkaConnection {
  return Array.isArray(target) ? resolveKafkaConnection({ brokers: target as string[], ...(timeoutMs !== undefined && { timeoutMs }) }, 'herald-admin') : (target as KafkaConnection);
}

async function withAdmin<T>(conn: KafkaConnection, what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(baseClientOptions(conn));
  const where = `${what} at ${conn.brokers.join(',')}`;
  try {
    return await withTimeout(fn(admin), conn.timeoutMs, where);
  } catch (err) {
    throw toHeraldError(err, where, conn);
  } finally {
    await withTimeout(admin.close(), 2000, 'closing admin client').catch(() => undefined);
  }
}

async function topicConfigs(admin: Admin, names: string[]): Promise<Map<string, Map<string, string | null>>> {
  const out = new Map<string, Map<string, string | null>>();
  if (names.length === 0) return out;
  const described = await admin.describeConfigs({
    resources: names.map((resourceName) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName, configurationKeys: CONFIG_KEYS })),
  });
  for (const r of described) out.set(r.resourceName, new Map(r.configs.map((c) => [c.name, c.value ?? null] as [string, string | null])));
  return out;
}

/**
 * Creates missing topics (when `create`) and compares existing ones with the wanted settings.
 * Returns one warning per difference or per missing topic not created; never alters a topic.
 */
export async function ensureTopics(
  target: readonly string[] | KafkaConnection,
  specs: readonly TopicSpec[],
  options: { create: boolean; timeoutMs?: number },
): Promise<string[]> {
  const conn = connectionOf(target, options.timeoutMs);
  return withAdmin(conn, 'checking topics', async (admin) => {
    const warnings: string[] = [];
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    const present: TopicSpec[] = [];
    for (const spec of specs) {
      if (existing.has(spec.topic)) {
        present.push(spec);
        continue;
      }
      if (!options.create) {
        warnings.push(`topic ${spec.topic} does not exist (topic creation is switched off)`);
        continue;
      }
      const configs = [
        ...(spec.minInsyncReplicas !== undefined ? [{ name: 'min.insync.replicas', value: String(spec.minInsyncReplicas) }] : []),
        ...(spec.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(spec.retentionMs) }] : []),
      ];
      try {
        await admin.createTopics({ topics: [spec.topic], partitions: spec.partitions ?? -1, replicas: spec.replicationFactor ?? -1, configs });
      } catch (err) {
        // Another process created it meanwhile: compare it like an existing one.
        if (!kafkaErrorIds(err).includes('TOPIC_ALREADY_EXISTS')) throw err;
        present.push(spec);
      }
    }
    if (present.length > 0) {
      const described = await describeWith(admin, present.map((s) => s.topic));
      for (const spec of present) {
        const d = described.find((x) => x.name === spec.topic);
        if (d === undefined) continue;
        const diff = (what: string, want: unknown, have: unknown) => {
          if (want !== undefined && String(want) !== String(have)) warnings.push(`topic ${spec.topic} has ${what} ${String(have)}, configured ${String(want)} (not changed)`);
        };
        diff('partitions', spec.partitions, d.partitions);
        diff('replication factor', spec.replicationFactor, d.replicationFactor);
        diff('min.insync.replicas', spec.minInsyncReplicas, d.minInsyncReplicas);
        diff('retention.ms', spec.retentionMs, d.retentionMs);
      }
    }
    return warnings;
  });
}

async function describeWith(admin: Admin, names: string[]): Promise<TopicDescription[]> {
  if (names.length === 0) return [];
  const metadata = await admin.metadata({ topics: names, forceUpdate: true });
  const configs = await topicConfigs(admin, names);
  return names
    .filter((n) => metadata.topics.has(n))
    .map((name) => {
      const t = metadata.topics.get(name)!;
      const c = configs.get(name);
      return {
        name,
        partitions: t.partitionsCount,
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        minInsyncReplicas: c?.get('min.insync.replicas') ?? null,
        retentionMs: c?.get('retention.ms') ?? null,
        cleanupPolicy: c?.get('cleanup.policy') ?? null,
      };
    });
}

/** Describes the cluster's topics (internal ones excluded), optionally those matching `pattern`. */
export async function describeTopics(
  target: readonly string[] | KafkaConnection,
  options: { pattern?: RegExp; timeoutMs?: number } = {},
): Promise<TopicDescription[]> {
  const conn = connectionOf(target, options.timeoutMs);
  return withAdmin(conn, 'listing topics', async (admin) => {
    const names = (await admin.listTopics({ includeInternals: false }))
      .filter((n) => options.pattern === undefined || options.pattern.test(n))
      .sort();
    return describeWith(admin, names);
  });
}

/** Topic names of the cluster (internal ones excluded). */
export async function listTopicNames(target: readonly string[] | KafkaConnection, timeoutMs?: number): Promise<string[]> {
  const conn = connectionOf(target, timeoutMs);
  return withAdmin(conn, 'listing topics', (admin) => admin.listTopics({ includeInternals: false }));
}
