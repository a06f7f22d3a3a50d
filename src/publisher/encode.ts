/** Encoding an event for one configured sink: its profile, topic, mode and transport. */
import type { SinkConfig } from '../config/schema.js';
import type { HeraldEvent } from '../events/schema.js';
import { getProfile } from '../profiles/index.js';
import type { EncodeContext, OutgoingMessage } from '../profiles/types.js';

/** Default topic when a sink names none (CloudStack's own default is `cloudstack`). */
export const DEFAULT_TOPIC = 'herald.events';

/** Profiles whose ecosystem has a topic of its own (its consumers expect it there). */
export const PROFILE_DEFAULT_TOPICS: Readonly<Record<string, string>> = { cloudstack: 'cloudstack', assisted: 'events-stream' };

/** The encode context of a sink. `fallbackTopic` is e.g. the `topic` of its producer properties. */
export function encodeContext(config: Readonly<SinkConfig>, fallbackTopic?: string): EncodeContext {
  const profile = config.profile ?? 'cloudevents';
  const topic = config.topic ?? fallbackTopic ?? PROFILE_DEFAULT_TOPICS[profile] ?? DEFAULT_TOPIC;
  return {
    transport: config.type,
    topic,
    ...(config.mode !== undefined && { mode: config.mode }),
    ...(config.profileOptions !== undefined && { options: config.profileOptions }),
  };
}

/** The messages one event becomes on one sink (zero when its profile does not carry the event). */
export function encodeForSink(config: Readonly<SinkConfig>, event: HeraldEvent, fallbackTopic?: string): OutgoingMessage[] {
  return encodeAllForSink(config, [event], fallbackTopic);
}

/** The messages a batch of events becomes on one sink, in order (profile and context looked up once). */
export function encodeAllForSink(config: Readonly<SinkConfig>, events: readonly HeraldEvent[], fallbackTopic?: string): OutgoingMessage[] {
  const profile = getProfile(config.profile ?? 'cloudevents', `sinks.${config.name}.profile`);
  const ctx = encodeContext(config, fallbackTopic);
  const out: OutgoingMessage[] = [];
  for (const event of events) for (const m of profile.encode(event, ctx)) out.push(m);
  return out;
}
