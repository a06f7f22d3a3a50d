/**
 * `herald replay`: re-publish stored events (filtered by time range, entity, type, severity,
 * source) to a configured sink through the outbox — same guarantees as live delivery,
 * original ids kept. Waits until they are delivered (progress on stderr) unless --no-wait,
 * in which case a running `herald serve` on the same store delivers them.
 */
import { isHeraldError, UsageError } from '../errors.js';
import { SEVERITIES } from '../events/schema.js';
import { createLogger } from '../log.js';
import { openDurablePipeline } from '../pipeline/durable.js';
import { countMatching, enqueueReplay, type ReplayFilter } from '../pipeline/replay.js';
import { oneOf, parseDuration, parseFlags } from './args.js';
import { CONFIG_FLAGS, configFromFlags, namedSink } from './config-flags.js';
import { parseEntity } from './emit.js';
import { Progress } from './progress.js';

const HELP = `usage: herald replay --sink NAME [--config FILE] [--db URL]
       [--since TIME] [--until TIME] [--entity KIND:ID] [--type T ...] [--severity S ...] [--source S]
       [--dry-run] [--no-wait] [--timeout 10m]

Re-publishes stored events to the configured sink NAME through the outbox (original ids
kept, so consumers can drop duplicates). --dry-run only counts the matching events.`;

/** RFC 3339: a date-time with its offset (or Z); a bare date means midnight UTC. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

const isoFlag = (value: unknown, flag: string): string | undefined => {
  if (typeof value !== 'string') return undefined;
  // Date.parse alone takes "7" for July 2001 and zone-less times in local time.
  const ms = RFC3339.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got "${value}"`, [{ path: flag, message: 'must be an RFC 3339 time' }]);
  return new Date(ms).toISOString();
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('replay', argv, {
    ...CONFIG_FLAGS,
    sink: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    entity: { type: 'string' },
    type: { type: 'string', multiple: true },
    severity: { type: 'string', multiple: true },
    source: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'no-wait': { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const config = configFromFlags(values);
  const sink = namedSink(config, values.sink);
  const entity = typeof values.entity === 'string' ? parseEntity(values.entity) : undefined;
  const since = isoFlag(values.since, '--since');
  const until = isoFlag(values.until, '--until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError(`--since ${since} is after --until ${until}`, [{ path: '--since', message: 'must not be after --until' }]);
  }
  const filter: ReplayFilter = {
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    ...(entity !== undefined && { entityKind: entity.kind, entityIds: [entity.id] }),
    ...(Array.isArray(values.type) && { types: values.type as string[] }),
    ...(Array.isArray(values.severity) && { severities: (values.severity as string[]).map((s) => oneOf(s, SEVERITIES, '--severity')) }),
    ...(typeof values.source === 'string' && { source: values.source }),
  };
  const timeoutMs = typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : 10 * 60_000;
  if (values['dry-run'] !== true && values['no-wait'] !== true && !config.streaming) {
    throw new UsageError('streaming is switched off (HERALD_STREAMING=false / streaming: false): nothing would deliver the replay', [{ path: 'HERALD_STREAMING', message: 'is false' }]);
  }
  if (values['dry-run'] !== true && sink.enabled === false) {
    const key = `sinks[${config.sinks.indexOf(sink)}].enabled`;
    throw new UsageError(`sink "${sink.name}" is disabled (${key}: false): nothing would deliver the replay`, [{ path: key, message: 'is false' }]);
  }
  const logger = createLogger({ level: config.logLevel, name: 'herald-replay' });
  const deliverHere = values['dry-run'] !== true && values['no-wait'] !== true;
  // Without a relay of its own (--no-wait, --dry-run) the entries wait for a running herald serve.
  const pipeline = await openDurablePipeline({ storeUrl: config.store.url, sinks: [sink], streaming: true, startRelays: deliverHere, logger, redactKeys: config.redact.keys });
  const { store, outbox } = pipeline;
  try {
    if (values['dry-run'] === true) {
      const n = await countMatching(store, filter);
      process.stdout.write(`${n} event${n === 1 ? '' : 's'} would be replayed to sink ${sink.name}\n`);
      return 0;
    }
    const queuing = new Progress({ label: 'queued' });
    const { total, queued, redacted } = await enqueueReplay({ store, outbox, redact: (e) => pipeline.ingest.redact(e), sink: sink.name, filter, onProgress: (n, of) => queuing.update(n, of) });
    queuing.done();
    if (redacted > 0) process.stderr.write(`herald replay: ${redacted} stored event${redacted === 1 ? '' : 's'} held values the current redaction hides; they were redacted in the store first\n`);
    if (!deliverHere || queued === 0) {
      process.stdout.write(`${queued} event${queued === 1 ? '' : 's'} queued for sink ${sink.name}${queued > 0 ? ' (a running herald serve delivers them)' : ''}\n`);
      return 0;
    }
    const delivering = new Progress({ label: `delivered to ${sink.name}` });
    const ticker = setInterval(() => {
      outbox.status().then(
        ([s]) => {
          if (s === undefined) return;
          delivering.update(Math.max(0, queued - s.pending), queued);
          if (s.lastError) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}last error: ${s.lastError}\n`);
        },
        () => undefined,
      );
    }, 2000);
    let drained = true;
    try {
      await outbox.drain(timeoutMs);
    } catch (err) {
      if (!isHeraldError(err) || err.code !== 'TIMEOUT') throw err;
      drained = false;
      const [s] = await outbox.status();
      process.stderr.write(`herald replay: ${s?.pending ?? '?'} events still pending for sink ${sink.name} after ${timeoutMs / 1000}s; they stay queued and a running herald serve delivers them (last error: ${s?.lastError ?? 'none'})\n`);
    } finally {
      clearInterval(ticker);
      delivering.done();
    }
    if (!drained) return 1;
    process.stdout.write(`${queued} of ${total} events replayed to sink ${sink.name}\n`);
    return 0;
  } finally {
    await pipeline.close();
  }
}
