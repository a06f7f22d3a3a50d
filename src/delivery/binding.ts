/**
 * A sink binding: one configured sink with everything that decides what reaches its broker —
 * the resolved topic, the filter, the profile's encoding and the size limit. The direct
 * publisher and the outbox relay both deliver through bindings, so one configuration can never
 * publish to two places, and every entry point's events are encoded the same way.
 */
import type { FieldProblem } from '../errors.js';
import type { HeraldEvent } from '../events/schema.js';
import { DEFAULT_TOPIC, resolveSinks, type ResolvedSink, type SinkConfig, type SinkKeyNamer } from '../config/sinks.js';
import type { EncodeContext, Profile } from '../profiles/types.js';
import type { OutgoingMessage, Sink, SinkDeps, TransportDefinition } from '../transports/types.js';

export { messageBytes } from '../messages.js';

export class SinkBinding {
  readonly name: string;
  readonly config: Readonly<SinkConfig>;
  readonly transport: TransportDefinition<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly profile: Profile;
  /**
   * Where messages go when the profile has no topic scheme of its own: the sink's `topic`, else
   * the topic its transport settings name (a producer properties `topic`), else the profile's
   * default (cloudstack, assisted), else herald.events.
   */
  readonly topic: string;
  /** The largest message the sink's broker takes (the sink's maxMessageBytes, else its transport's). */
  readonly maxMessageBytes: number | undefined;
  /** True when an event larger than maxMessageBytes is refused at ingest (the default), false when it is parked. */
  readonly rejectsOversized: boolean;
  readonly enabled: boolean;
  readonly ctx: EncodeContext;
  readonly #resolved: unknown;

  constructor(r: ResolvedSink) {
    const c = r.config;
    this.name = c.name;
    this.config = c;
    this.transport = r.transport;
    this.profile = r.profile;
    this.#resolved = r.resolved;
    this.topic = c.topic ?? r.transport.settingsTopic?.(r.resolved) ?? r.profile.defaultTopic ?? DEFAULT_TOPIC;
    this.maxMessageBytes = c.maxMessageBytes ?? r.transport.maxMessageBytes(r.resolved);
    this.rejectsOversized = c.oversized !== 'park';
    this.enabled = c.enabled !== false;
    this.ctx = Object.freeze({
      transport: c.type,
      topic: this.topic,
      ...(c.mode !== undefined && { mode: c.mode }),
      ...(c.profileOptions !== undefined && { options: c.profileOptions }),
    });
  }

  /** True when this sink carries `event`: enabled, and the filter matches (empty lists match anything). */
  accepts(event: HeraldEvent): boolean {
    if (!this.enabled) return false;
    const f = this.config.filter;
    if (f === undefined) return true;
    if (f.types !== undefined && f.types.length > 0 && !f.types.includes(event.type)) return false;
    if (f.severities !== undefined && f.severities.length > 0 && !f.severities.includes(event.severity)) return false;
    if (f.entityKinds !== undefined && f.entityKinds.length > 0 && (event.entity === undefined || !f.entityKinds.includes(event.entity.kind))) return false;
    return true;
  }

  /** What keeps `event` from being encoded for this sink (its profile's check); empty when nothing does. */
  problems(event: HeraldEvent): FieldProblem[] {
    return this.profile.check?.(event, this.ctx) ?? [];
  }

  /** The messages one event becomes on this sink (none when its profile does not carry it); throws when it cannot be encoded. */
  encode(event: HeraldEvent): OutgoingMessage[] {
    return this.profile.encode(event, this.ctx);
  }

  /** What the profile announces when delivery to this sink starts (aliecs: an empty list). */
  startMessages(): OutgoingMessage[] {
    return this.profile.onStart?.(this.ctx) ?? [];
  }

  /** Builds the sink (loading its transport's client library on first use); not connected yet. */
  async createSink(deps: SinkDeps): Promise<Sink> {
    const createSink = await this.transport.loadSink();
    return createSink({ name: this.name, topic: this.topic, profile: this.profile.name, ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }) }, this.#resolved, deps);
  }
}

/** Bindings of valid sinks (resolving them, or reusing what config loading resolved). */
export function createBindings(sinks: readonly Readonly<SinkConfig>[], options: { env?: NodeJS.ProcessEnv; at?: SinkKeyNamer } = {}): SinkBinding[] {
  return resolveSinks(sinks, options).map((r) => new SinkBinding(r));
}
