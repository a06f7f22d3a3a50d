/**
 * Turning GET /v2/events query parameters into an EventQuery. The route schema has already
 * checked types and ranges; this adds list splitting, severity names and the Assisted
 * Installer aliases, whose scope is the one of the Assisted Installer's own list
 * (assistedScope, shared with GET /api/assisted-install/v2/events). Errors name the parameter.
 */
import type { Static } from 'typebox';
import { ValidationError } from '../errors.js';
import { REF_KINDS } from '../events/refs.js';
import { SEVERITIES, type Severity } from '../events/schema.js';
import type { EventQuery, RefTerm } from '../store/types.js';
import { DEFAULT_LIMIT, type EventsQuery } from './schemas.js';

/** Ref kinds the Assisted Installer aliases stand for (see events/refs.ts for how an event gets them). */
export const ALIAS_KINDS = { cluster_id: REF_KINDS.cluster, host_ids: REF_KINDS.host, infra_env_id: REF_KINDS.infraEnv } as const;

const bad = (param: string, message: string) =>
  new ValidationError(`invalid query parameter ${param}: ${message}`, [{ path: param, message }], 'INVALID_REQUEST');

/** `a,b` and repeated parameters both give a list; blanks are dropped. */
export function splitList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  return list;
}

/** The Assisted Installer's scope parameters, already parsed. */
export interface AssistedScopeParams {
  clusterId?: string | undefined;
  /** host_ids with the deprecated host_id already folded in; undefined when neither was given. */
  hostIds?: readonly string[] | undefined;
  infraEnvId?: string | undefined;
  clusterLevel?: boolean | undefined;
  deletedHosts?: boolean | undefined;
}

/**
 * The ref conditions of the Assisted Installer's scope, as assisted-service selects events
 * (internal/events/event.go filterEvents and buildDisjunctiveQuery): `cluster_id` wins over
 * `host_ids`, which wins over `infra_env_id`.
 * - cluster_id C: every event whose cluster is C (its hosts' events included); then, when any
 *   of cluster_level, host_ids, deleted_hosts is given, only events matching one of them:
 *   cluster_level → no host, host_ids → one of those hosts, deleted_hosts → a deleted host.
 *   Herald keeps no record of deleted hosts, so deleted_hosts matches no event (alone it
 *   leaves nothing; with the others it adds nothing).
 * - host_ids (no cluster_id): the events of those hosts (cluster_level, deleted_hosts ignored).
 * - infra_env_id alone: the events whose infra-env is I (its hosts' events included).
 * Undefined: no scope was given.
 */
export function assistedScope(p: AssistedScopeParams): RefTerm[][] | undefined {
  if (p.clusterId !== undefined) {
    const groups: RefTerm[][] = [[{ kind: REF_KINDS.cluster, ids: [p.clusterId] }]];
    if (p.clusterLevel === true || p.deletedHosts === true || p.hostIds !== undefined) {
      const any: RefTerm[] = [];
      if (p.clusterLevel === true) any.push({ kind: REF_KINDS.host, none: true });
      if (p.hostIds !== undefined) any.push({ kind: REF_KINDS.host, ids: p.hostIds });
      groups.push(any);
    }
    return groups;
  }
  if (p.hostIds !== undefined) return [[{ kind: REF_KINDS.host, ids: p.hostIds }]];
  if (p.infraEnvId !== undefined) return [[{ kind: REF_KINDS.infraEnv, ids: [p.infraEnvId] }]];
  return undefined;
}

/**
 * Builds the store query. The Assisted aliases (cluster_id, host_ids, the deprecated host_id
 * folded into host_ids, infra_env_id, cluster_level) select by the events' refs with the
 * Assisted Installer's scope (assistedScope); an alias together with entity_kind/entity_id is
 * an error.
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

  const listed = splitList(q.host_ids);
  if (listed !== undefined && listed.length === 0) throw bad('host_ids', 'must name at least one host id');
  // The deprecated single host_id joins host_ids, as upstream merges it before anything else.
  const hostIds = q.host_id !== undefined ? [...(listed ?? []), q.host_id] : listed;
  const alias = q.cluster_id !== undefined ? 'cluster_id'
    : hostIds !== undefined ? (listed !== undefined ? 'host_ids' : 'host_id')
    : q.infra_env_id !== undefined ? 'infra_env_id' : undefined;
  const entityIds = splitList(q.entity_id);
  if (alias !== undefined && (q.entity_kind !== undefined || entityIds !== undefined)) {
    throw bad(alias, 'give either entity_kind/entity_id or one of cluster_id, host_ids, host_id, infra_env_id');
  }
  const refs = assistedScope({ clusterId: q.cluster_id, hostIds, infraEnvId: q.infra_env_id, clusterLevel: q.cluster_level });
  if (refs !== undefined) {
    out.refs = refs;
  } else {
    if (q.entity_kind !== undefined) out.entityKind = q.entity_kind;
    if (entityIds !== undefined) {
      if (entityIds.length === 0) throw bad('entity_id', 'must not be empty');
      out.entityIds = entityIds;
    }
  }
  return out;
}
