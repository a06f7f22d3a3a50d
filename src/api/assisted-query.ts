/**
 * The query string of GET /api/assisted-install/v2/events, read exactly as assisted-service's
 * generated binder reads it (restapi/operations/events/v2_list_events_parameters.go, go-openapi
 * runtime and swag): the last occurrence of a repeated parameter wins, arrays are one
 * comma-separated value (items trimmed, blanks dropped), an empty value counts as absent, ids
 * must be UUIDs (google/uuid Parse forms), integers are Go int64s, booleans are true for
 * true/1/yes/ok/y/on/selected/checked/t/enabled (any case) and false for anything else, and
 * enums are case-sensitive. The first failing parameter, in the binder's order, is the error,
 * with go-openapi's message (the service turns its 422 into a 400 with that message).
 * Unknown parameters are ignored, as there.
 */
import { ENTITY_EVENT_TYPES } from '../events/entity-states.js';
import { CATEGORY_REF } from '../events/refs.js';
import type { Severity } from '../events/schema.js';
import type { EventQuery, RefTerm } from '../store/types.js';
import { assistedScope } from './query.js';

/** A bad parameter: 400 with go-openapi's message. */
export class AssistedQueryError extends Error {
  constructor(message: string, readonly param: string) {
    super(message);
  }
}

type Raw = Record<string, string | string[] | undefined>;

/** assisted-service internal/events/event.go defaultEventLimit. */
export const ASSISTED_DEFAULT_LIMIT = 5000;
/** internal/events/event.go DefaultEventCategories. */
const DEFAULT_CATEGORIES = ['user'];
const ASSISTED_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
type AssistedSeverity = (typeof ASSISTED_SEVERITIES)[number];
/** Herald's severities behind each Assisted one: debug events are listed (and counted) as info, as the stream writes them. */
export const HERALD_SEVERITIES: Readonly<Record<AssistedSeverity, readonly Severity[]>> = {
  info: ['debug', 'info'], warning: ['warning'], error: ['error'], critical: ['critical'],
};

/** go-openapi/swag ConvertBool's true values (anything else is false, never an error). */
const TRUE_VALUES = new Set(['true', '1', 'yes', 'ok', 'y', 'on', 'selected', 'checked', 't', 'enabled']);
const HEX = /^[0-9a-fA-F]{2}$/;

/** google/uuid Parse: 36 chars with dashes, urn:uuid: prefix, one char either side ({...}), or 32 hex digits. */
export function isGoUuid(s: string): boolean {
  let t = s;
  if (s.length === 36 + 9) {
    if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return false;
    t = s.slice(9);
  } else if (s.length === 36 + 2) {
    t = s.slice(1);
  } else if (s.length === 32) {
    return /^[0-9a-fA-F]{32}$/.test(s);
  } else if (s.length !== 36) {
    return false;
  }
  if (t[8] !== '-' || t[13] !== '-' || t[18] !== '-' || t[23] !== '-') return false;
  return [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34].every((x) => HEX.test(t.slice(x, x + 2)));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64), or undefined. */
function goInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

const last = (raw: Raw, name: string): string => {
  const v = raw[name];
  return Array.isArray(v) ? (v[v.length - 1] ?? '') : (v ?? '');
};
/** Go's unicode.IsSpace (strings.TrimSpace): JavaScript's white space without U+FEFF, with U+0085. */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');
/** swag.SplitByFormat(value, ""): comma-separated, items trimmed (strings.TrimSpace), blanks dropped; undefined when none. */
const csv = (raw: Raw, name: string): string[] | undefined => {
  const items = last(raw, name).split(',').map((x) => x.replace(GO_TRIM, '')).filter((x) => x !== '');
  return items.length > 0 ? items : undefined;
};
const GO_ESCAPES: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * A string quoted as Go's %q (strconv.Quote) writes it, the form of the value in go-openapi's
 * messages: printable characters as they are; \a \b \f \n \r \t \v, \" and \\; other control
 * characters below U+0080 as \xNN; other non-printable ones as \uNNNN or \UNNNNNNNN (lower-case hex).
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const escaped = GO_ESCAPES[ch];
    if (escaped !== undefined) { out += escaped; continue; }
    if (GO_PRINTABLE.test(ch)) { out += ch; continue; }
    const cp = ch.codePointAt(0)!;
    out += cp < 0x80 ? `\\x${cp.toString(16).padStart(2, '0')}`
      : cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}`
        : `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

const typeFail = (name: string, type: string, value: string) => new AssistedQueryError(`${name} in query must be of type ${type}: ${goQuote(value)}`, name);
const enumFail = (name: string, values: readonly string[]) => new AssistedQueryError(`${name} in query should be one of [${values.join(' ')}]`, name);

function uuidParam(raw: Raw, name: string): string | undefined {
  const v = last(raw, name);
  if (v === '') return undefined;
  if (!isGoUuid(v)) throw typeFail(name, 'uuid', v);
  return v;
}
function boolParam(raw: Raw, name: string): boolean | undefined {
  const v = last(raw, name);
  return v === '' ? undefined : TRUE_VALUES.has(v.toLowerCase());
}
function intParam(raw: Raw, name: string): bigint | undefined {
  const v = last(raw, name);
  if (v === '') return undefined;
  const n = goInt64(v);
  if (n === undefined) throw typeFail(name, 'int64', v);
  return n;
}

/** What the route runs: a store query, and whether the Severity-Count-* headers are counted. */
export type AssistedListPlan = { kind: 'query'; query: EventQuery; severityCounts: boolean };

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const toNumber = (n: bigint) => Number(n > MAX ? MAX : n);

/** The category condition: `user` is the absence of a category ref, `metrics` its presence; other names match nothing. */
function categoryGroup(categories: readonly string[]): RefTerm[] | undefined {
  const user = categories.includes('user');
  const metrics = categories.includes('metrics');
  if (user && metrics) return undefined;
  const terms: RefTerm[] = [];
  if (user) terms.push({ kind: CATEGORY_REF, none: true });
  if (metrics) terms.push({ kind: CATEGORY_REF, ids: ['metrics'] });
  return terms;
}

/**
 * Reads the query (throws AssistedQueryError) and plans the list as assisted-service's
 * V2ListEvents/queryEvents does. Every caller Herald lets read is what upstream calls an admin
 * (Herald has no users and no ownership; its reader may list every event on /v2/events, and
 * upstream's `none` authorizer, pkg/auth/none_authz_handler.go, says IsAdmin too): a request
 * without cluster_id, host_ids/host_id or infra_env_id lists all events (prepareEventsTable's
 * allEvents branch), within categories, severities, order and paging; message is ignored and
 * every Severity-Count-* is 0 there, as upstream.
 */
export function planAssistedList(raw: Raw): AssistedListPlan {
  // The binder's order: the first failure is the one reported.
  const categories = csv(raw, 'categories');
  const clusterId = uuidParam(raw, 'cluster_id');
  const clusterLevel = boolParam(raw, 'cluster_level');
  const deletedHosts = boolParam(raw, 'deleted_hosts');
  const hostId = uuidParam(raw, 'host_id');
  const hostIdsRaw = csv(raw, 'host_ids');
  hostIdsRaw?.forEach((h, i) => {
    // validate.FormatOf names the item by its index.
    if (!isGoUuid(h)) throw new AssistedQueryError(`host_ids.${i} in query must be of type uuid: ${goQuote(h)}`, 'host_ids');
  });
  const infraEnvId = uuidParam(raw, 'infra_env_id');
  let limit = intParam(raw, 'limit');
  const messageRaw = last(raw, 'message');
  let offset = intParam(raw, 'offset');
  const order = last(raw, 'order') || 'ascending';
  if (order !== 'ascending' && order !== 'descending') throw enumFail('order', ['ascending', 'descending']);
  const severities = csv(raw, 'severities');
  severities?.forEach((s, i) => {
    if (!(ASSISTED_SEVERITIES as readonly string[]).includes(s)) throw enumFail(`severities.${i}`, ASSISTED_SEVERITIES);
  });

  // events_api.go V2ListEvents: the deprecated host_id is merged into host_ids first.
  const hostIds = hostId !== undefined ? [...(hostIdsRaw ?? []), hostId] : hostIdsRaw;
  // No scope: all events (the admin branch of prepareEventsTable; filterEvents adds nothing).
  const scope = assistedScope({ clusterId, hostIds, infraEnvId, clusterLevel, deletedHosts }) ?? [];

  const refs: RefTerm[][] = [...scope];
  const category = categoryGroup(categories ?? DEFAULT_CATEGORIES);
  if (category !== undefined) refs.push(category);

  // preparePaginationParams: no limit → 5000, below -1 → -1, -1 → unlimited; no or negative offset → 0.
  if (limit === undefined) limit = BigInt(ASSISTED_DEFAULT_LIMIT);
  else if (limit < -1n) limit = -1n;
  if (offset === undefined || offset < 0n) offset = 0n;

  const query: EventQuery = {
    refs,
    // Herald's entity notifications are the stream's snapshots, not events of the list.
    excludeTypes: Object.values(ENTITY_EVENT_TYPES),
    limit: limit === -1n ? Number.MAX_SAFE_INTEGER : toNumber(limit),
    offset: toNumber(offset),
    order,
  };
  // The message filter applies only within a cluster (filterEvents' cluster branch).
  if (clusterId !== undefined && messageRaw !== '') query.message = messageRaw;
  if (severities !== undefined) query.severities = [...new Set(severities.flatMap((s) => HERALD_SEVERITIES[s as AssistedSeverity]))];
  // countEventsBySeverity counts only with a cluster_id; otherwise every Severity-Count-* is 0.
  return { kind: 'query', query, severityCounts: clusterId !== undefined };
}
