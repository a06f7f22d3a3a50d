/**
 * Turning GET /v2/events query parameters into an EventQuery. The route schema has already
 * checked types and ranges; this adds list splitting, severity names and the Assisted
 * Installer aliases. Errors name the parameter.
 */
import type { Static } from 'typebox';
import { ValidationError } from '../errors.js';
import { SEVERITIES, type Severity } from '../events/schema.js';
import type { EventQuery } from '../store/types.js';
import { DEFAULT_LIMIT, type EventsQuery } from './schemas.js';

/** Entity kinds the Assisted Installer aliases stand for. */
export const ALIAS_KINDS = { cluster_id: 'cluster', host_ids: 'host', infra_env_id: 'infra-env' } as const;

const bad = (param: string, message: string) =>
  new ValidationError(`invalid query parameter ${param}: ${message}`, [{ path: param, message }], 'INVALID_REQUEST');

/** `a,b` and repeated parameters both give a list; blanks are dropped. */
export function splitList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  return list;
}

/**
 * Builds the store query. Aliases: `host_ids` (most specific) wins over `infra_env_id`, which
 * wins over `cluster_id`: Herald's events have one entity each, so "the hosts of this cluster"
 * are simply those hosts. An alias together with entity_kind/entity_id is an error.
 */
export function toEventQuery(q: Static<typeof EventsQuery>): EventQuery {
  const out: EventQuery = {
    limit: q.limit ?? DEFAULT_LIMIT,
    offset: q.offset ?? 0,
    order: q.order ?? 'ascending',
  };
  const severities = splitList(q.severities);
  if (severities !== undefined) {
    const unknown = severities.filter((s) => !(SEVERITIES as readonly string[]).includes(s.toLowerCase()));
    if (unknown.length > 0) throw bad('severities', `unknown severity "${unknown[0]}"; allowed: ${SEVERITIES.join(', ')}`);
    if (severities.length === 0) throw bad('severities', `must name at least one of ${SEVERITIES.join(', ')}`);
    out.severities = [...new Set(severities.map((s) => s.toLowerCase() as Severity))];
  }
  const types = splitList(q.types);
  if (types !== undefined) {
    if (types.length === 0) throw bad('types', 'must name at least one event type');
    out.types = types;
  }
  if (q.source !== undefined) out.source = q.source;
  if (q.message !== undefined && q.message !== '') out.message = q.message;
  if (q.since !== undefined) out.since = q.since;
  if (q.until !== undefined) out.until = q.until;
  if (out.since !== undefined && out.until !== undefined && Date.parse(out.since) > Date.parse(out.until)) {
    throw bad('since', 'must not be after until');
  }

  const hostIds = splitList(q.host_ids);
  const alias = hostIds !== undefined ? 'host_ids' : q.infra_env_id !== undefined ? 'infra_env_id' : q.cluster_id !== undefined ? 'cluster_id' : undefined;
  const entityIds = splitList(q.entity_id);
  if (alias !== undefined && (q.entity_kind !== undefined || entityIds !== undefined)) {
    throw bad(alias, 'give either entity_kind/entity_id or one of cluster_id, host_ids, infra_env_id');
  }
  if (alias === 'host_ids') {
    if (hostIds!.length === 0) throw bad('host_ids', 'must name at least one host id');
    out.entityKind = ALIAS_KINDS.host_ids;
    out.entityIds = hostIds!;
  } else if (alias === 'infra_env_id') {
    out.entityKind = ALIAS_KINDS.infra_env_id;
    out.entityIds = [q.infra_env_id!];
  } else if (alias === 'cluster_id') {
    out.entityKind = ALIAS_KINDS.cluster_id;
    out.entityIds = [q.cluster_id!];
  } else {
    if (q.entity_kind !== undefined) out.entityKind = q.entity_kind;
    if (entityIds !== undefined) {
      if (entityIds.length === 0) throw bad('entity_id', 'must not be empty');
      out.entityIds = entityIds;
    }
  }
  return out;
}
