/** Which sinks carry an event: the enabled flag and each sink's filter (types, severities, entity kinds). */
import type { SinkConfig } from '../config/schema.js';
import type { HeraldEvent } from '../events/schema.js';

/**
 * True when `sink` should deliver `event`. An empty or missing list in the filter means "any";
 * several lists must all match. `entityKinds` only matches events that have an entity.
 */
export function sinkAccepts(sink: Readonly<SinkConfig>, event: HeraldEvent): boolean {
  if (sink.enabled === false) return false;
  const f = sink.filter;
  if (f === undefined) return true;
  if (f.types !== undefined && f.types.length > 0 && !f.types.includes(event.type)) return false;
  if (f.severities !== undefined && f.severities.length > 0 && !f.severities.includes(event.severity)) return false;
  if (f.entityKinds !== undefined && f.entityKinds.length > 0 && (event.entity === undefined || !f.entityKinds.includes(event.entity.kind))) return false;
  return true;
}

/** The names of the sinks that deliver `event`; none when streaming is off. */
export function sinkNamesFor(sinks: readonly Readonly<SinkConfig>[], streaming: boolean, event: HeraldEvent): string[] {
  if (!streaming) return [];
  return sinks.filter((s) => sinkAccepts(s, event)).map((s) => s.name);
}
