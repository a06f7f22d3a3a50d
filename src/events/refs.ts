/**
 * The entities an event refers to, beyond the one it is about: the one rule Herald uses to give
 * an event the Assisted Installer's `cluster_id`, `host_id` and `infra_env_id` (and its
 * `category`). The store indexes what `eventRefs` returns (herald_event_refs), the REST list
 * and its aliases query that index, and the assisted profile writes the same ids on the stream,
 * so a host event found by `cluster_id=C` also carries `"cluster_id":"C"` on the wire.
 *
 * The rule, per id: the event's entity when its kind is that id's kind (`cluster`, `host`,
 * `infra-env`; `infra_env` and `infraenv` are read as `infra-env`), otherwise the string in
 * `data.cluster_id` / `data.host_id` / `data.infra_env_id`. The entity wins over data. Upstream
 * host events carry the host's cluster and infra-env (assisted-service
 * internal/events/event.go SendHostEventAtTime passes all three ids), so a Herald host event
 * names them in data: `{entity: {kind: host, id: H}, data: {cluster_id: C, infra_env_id: I}}`.
 * Ids longer than an entity id may be (255) are ignored, as are empty and non-string values:
 * an index key must stay small, and such a value is not an id.
 */
import { asRecord } from '../shared/json.js';
import type { HeraldEvent } from './schema.js';

/** The ref kinds of the three ids (also the entity kinds they come from). */
export const REF_KINDS = { cluster: 'cluster', host: 'host', infraEnv: 'infra-env' } as const;
/** The ref kind of an event's non-default category (only `metrics` exists upstream). */
export const CATEGORY_REF = 'category';

/** Entity kinds read as each ref kind. */
const KIND_ALIASES: Readonly<Record<string, string>> = {
  cluster: REF_KINDS.cluster, host: REF_KINDS.host,
  'infra-env': REF_KINDS.infraEnv, infra_env: REF_KINDS.infraEnv, infraenv: REF_KINDS.infraEnv,
};

const MAX_ID = 255;

/** An entity an event refers to. */
export interface EventRef {
  readonly kind: string;
  readonly id: string;
}

/** The Assisted Installer ids of an event (absent when it has none). */
export interface AssistedIds {
  cluster_id?: string;
  host_id?: string;
  infra_env_id?: string;
}

/** The kind an entity kind stands for in refs (cluster, host, infra-env), or undefined. */
export function refKindOf(entityKind: string | undefined): string | undefined {
  return entityKind === undefined ? undefined : KIND_ALIASES[entityKind];
}

const idValue = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= MAX_ID ? v : undefined);

/** The event's cluster_id, host_id and infra_env_id by the rule above. */
export function assistedIds(event: HeraldEvent): AssistedIds {
  const data = asRecord(event.data);
  const own = refKindOf(event.entity?.kind);
  const pick = (kind: string, key: keyof AssistedIds) => (own === kind ? idValue(event.entity!.id) : undefined) ?? idValue(data?.[key]);
  const out: AssistedIds = {};
  const c = pick(REF_KINDS.cluster, 'cluster_id');
  const h = pick(REF_KINDS.host, 'host_id');
  const i = pick(REF_KINDS.infraEnv, 'infra_env_id');
  if (c !== undefined) out.cluster_id = c;
  if (h !== undefined) out.host_id = h;
  if (i !== undefined) out.infra_env_id = i;
  return out;
}

/** The event's Assisted category: `metrics` when data.category says so, else `user` (upstream's default). */
export function assistedCategory(event: HeraldEvent): 'user' | 'metrics' {
  return asRecord(event.data)?.category === 'metrics' ? 'metrics' : 'user';
}

/**
 * What the store indexes for an event: one ref per id it has, and `category: metrics` for a
 * metrics event (the default `user` is the absence of that ref, so ordinary events cost no row).
 */
export function eventRefs(event: HeraldEvent): EventRef[] {
  const ids = assistedIds(event);
  const refs: EventRef[] = [];
  if (ids.cluster_id !== undefined) refs.push({ kind: REF_KINDS.cluster, id: ids.cluster_id });
  if (ids.host_id !== undefined) refs.push({ kind: REF_KINDS.host, id: ids.host_id });
  if (ids.infra_env_id !== undefined) refs.push({ kind: REF_KINDS.infraEnv, id: ids.infra_env_id });
  if (assistedCategory(event) === 'metrics') refs.push({ kind: CATEGORY_REF, id: 'metrics' });
  return refs;
}
