import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthorizer } from '../../src/api/auth.js';
import { AssistedQueryError, goQuote, isGoUuid, planAssistedList } from '../../src/api/assisted-query.js';
import { splitList, toEventQuery } from '../../src/api/query.js';
import { HeraldError } from '../../src/errors.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as HeraldError).code;
  }
};

test('toEventQuery: defaults, lists, severities', () => {
  assert.deepEqual(toEventQuery({}), { limit: 100, offset: 0, order: 'ascending' });
  const q = toEventQuery({ severities: ['ERROR,critical', 'error'], types: 'a, b', limit: 5, offset: 10, order: 'descending', message: '', source: 'x' });
  assert.deepEqual(q, { limit: 5, offset: 10, order: 'descending', severities: ['error', 'critical'], types: ['a', 'b'], source: 'x' });
  assert.deepEqual(splitList(['a,,b', ' c ']), ['a', 'b', 'c']);
  assert.equal(code(() => toEventQuery({ severities: 'info,loud' })), 'INVALID_REQUEST');
  assert.equal(code(() => toEventQuery({ types: ',' })), 'INVALID_REQUEST');
});

// Upstream: openshift/assisted-service @ 063b257950f726d6b291dc94b806bc243a1b56de,
// internal/events/events_api.go (host_id merged into host_ids) and internal/events/event.go
// (filterEvents: cluster_id first, then host_ids, then infra_env_id; buildDisjunctiveQuery).
test('toEventQuery: the Assisted aliases select by refs with upstream\'s scope', () => {
  // cluster_id: every event whose cluster is c1, hosts' events included.
  assert.deepEqual(toEventQuery({ cluster_id: 'c1' }).refs, [[{ kind: 'cluster', ids: ['c1'] }]]);
  assert.equal(toEventQuery({ cluster_id: 'c1' }).entityKind, undefined);
  // host_ids within the cluster: the cluster's events of those hosts.
  assert.deepEqual(toEventQuery({ cluster_id: 'c1', host_ids: ['h1,h2', 'h3'] }).refs, [
    [{ kind: 'cluster', ids: ['c1'] }], [{ kind: 'host', ids: ['h1', 'h2', 'h3'] }],
  ]);
  // cluster_level alone: the events without a host; with host_ids: either.
  assert.deepEqual(toEventQuery({ cluster_id: 'c1', cluster_level: true }).refs, [[{ kind: 'cluster', ids: ['c1'] }], [{ kind: 'host', none: true }]]);
  assert.deepEqual(toEventQuery({ cluster_id: 'c1', cluster_level: true, host_ids: 'h1' }).refs, [
    [{ kind: 'cluster', ids: ['c1'] }], [{ kind: 'host', none: true }, { kind: 'host', ids: ['h1'] }],
  ]);
  assert.deepEqual(toEventQuery({ cluster_id: 'c1', cluster_level: false }).refs, [[{ kind: 'cluster', ids: ['c1'] }]]);
  // The deprecated host_id joins host_ids.
  assert.deepEqual(toEventQuery({ host_id: 'h9' }).refs, [[{ kind: 'host', ids: ['h9'] }]]);
  assert.deepEqual(toEventQuery({ host_ids: 'h1', host_id: 'h9' }).refs, [[{ kind: 'host', ids: ['h1', 'h9'] }]]);
  // Without cluster_id, host_ids win over infra_env_id, and cluster_level is ignored.
  assert.deepEqual(toEventQuery({ infra_env_id: 'ie', host_ids: 'h1', cluster_level: true }).refs, [[{ kind: 'host', ids: ['h1'] }]]);
  assert.deepEqual(toEventQuery({ infra_env_id: 'ie' }).refs, [[{ kind: 'infra-env', ids: ['ie'] }]]);
  assert.deepEqual(toEventQuery({ infra_env_id: 'ie', cluster_id: 'c' }).refs, [[{ kind: 'cluster', ids: ['c'] }]]);
  assert.equal(toEventQuery({ cluster_level: true }).refs, undefined);
  // An alias with entity_kind/entity_id is an error naming the alias.
  assert.equal(code(() => toEventQuery({ cluster_id: 'c', entity_id: 'x' })), 'INVALID_REQUEST');
  assert.equal(code(() => toEventQuery({ host_id: 'h', entity_kind: 'host' })), 'INVALID_REQUEST');
  assert.equal(code(() => toEventQuery({ host_ids: ',' })), 'INVALID_REQUEST');
  assert.deepEqual(toEventQuery({ entity_kind: 'node', entity_id: 'a,b' }).entityIds, ['a', 'b']);
  assert.equal(code(() => toEventQuery({ since: '2024-02-01T00:00:00Z', until: '2024-01-01T00:00:00Z' })), 'INVALID_REQUEST');
});

const C = '3f1c8a5e-0b2d-4c7e-9a61-2d5b7e8f9a01';
const H = '1e45d128-4a69-4e71-9b50-b7e289a09d9a';
const H2 = '2a635bca-29ac-34bc-12ad-ac38475abc12';
const IE = 'b9a4c0de-7f3e-4a1b-8c2d-5e6f7a8b9c0d';
const planned = (raw: Record<string, string | string[]>) => {
  const p = planAssistedList(raw);
  assert.equal(p.kind, 'query');
  return p as Extract<ReturnType<typeof planAssistedList>, { kind: 'query' }>;
};
const fails = (raw: Record<string, string | string[]>): string => {
  try {
    planAssistedList(raw);
  } catch (err) {
    assert.ok(err instanceof AssistedQueryError);
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(raw)}`);
};

test('assisted list: defaults as V2GetEvents and preparePaginationParams (limit 5000, categories user, ascending)', () => {
  const p = planned({ cluster_id: C });
  assert.deepEqual(p.query, {
    refs: [[{ kind: 'cluster', ids: [C] }], [{ kind: 'category', none: true }]],
    excludeTypes: ['dev.herald.entity.state.leave', 'dev.herald.entity.state.enter', 'dev.herald.entity.state.list'],
    limit: 5000, offset: 0, order: 'ascending',
  });
  assert.equal(p.severityCounts, true);
  // limit -1 unlimited, any value below -1 too; 0 stays 0 (an empty page with counts); negative offset → 0.
  assert.equal(planned({ cluster_id: C, limit: '-1' }).query.limit, Number.MAX_SAFE_INTEGER);
  assert.equal(planned({ cluster_id: C, limit: '-10' }).query.limit, Number.MAX_SAFE_INTEGER);
  assert.equal(planned({ cluster_id: C, limit: '0' }).query.limit, 0);
  assert.equal(planned({ cluster_id: C, offset: '-2' }).query.offset, 0);
  assert.equal(planned({ cluster_id: C, limit: '+7', offset: '4' }).query.limit, 7);
  assert.equal(planned({ cluster_id: C, order: 'descending' }).query.order, 'descending');
});

test('assisted list: no scope is what an admin gets (prepareEventsTable allEvents, filterEvents adds nothing; pkg/auth/none_authz_handler.go IsAdmin)', () => {
  // openshift/assisted-service internal/events/event.go and event_test.go "with admin role" / "gets all events".
  const all = planned({});
  assert.deepEqual(all.query.refs, [[{ kind: 'category', none: true }]], 'only the default category');
  assert.equal(all.query.limit, 5000);
  assert.equal(all.severityCounts, false, 'countEventsBySeverity counts only with a cluster_id');
  const filtered = planned({ severities: 'info', limit: '-1', cluster_level: 'true', message: 'x', categories: 'metrics' });
  assert.deepEqual(filtered.query.refs, [[{ kind: 'category', ids: ['metrics'] }]], 'cluster_level needs cluster_id');
  assert.equal(filtered.query.message, undefined, 'message applies only within a cluster');
  assert.deepEqual(filtered.query.severities, ['debug', 'info']);
  assert.equal(filtered.query.limit, Number.MAX_SAFE_INTEGER);
  assert.deepEqual(planned({ cluster_id: '', host_ids: ' , ' }).query.refs, [[{ kind: 'category', none: true }]], 'empty values count as absent');
});

test('assisted list: scope, deprecated host_id, cluster_level, deleted_hosts, categories, message only with cluster_id', () => {
  assert.deepEqual(planned({ host_id: H, host_ids: H2 }).query.refs![0], [{ kind: 'host', ids: [H2, H] }]);
  assert.equal(planned({ host_ids: H }).severityCounts, false, 'Severity-Count-* only with cluster_id');
  assert.deepEqual(planned({ cluster_id: C, cluster_level: 'TRUE', host_ids: H }).query.refs!.slice(0, 2), [
    [{ kind: 'cluster', ids: [C] }], [{ kind: 'host', none: true }, { kind: 'host', ids: [H] }],
  ]);
  // swag.ConvertBool: true for a fixed set, false for anything else (never an error).
  assert.equal(planned({ cluster_id: C, cluster_level: 'enabled' }).query.refs!.length, 3);
  assert.equal(planned({ cluster_id: C, cluster_level: 'banana' }).query.refs!.length, 2);
  // deleted_hosts alone within a cluster: FALSE OR (deleted host) — Herald knows no deleted host.
  assert.deepEqual(planned({ cluster_id: C, deleted_hosts: 'true' }).query.refs![1], []);
  assert.deepEqual(planned({ cluster_id: C, deleted_hosts: 'true', cluster_level: 'true' }).query.refs![1], [{ kind: 'host', none: true }]);
  assert.deepEqual(planned({ infra_env_id: IE, deleted_hosts: 'true' }).query.refs![0], [{ kind: 'infra-env', ids: [IE] }]);
  // categories: user = no category ref, metrics = the metrics ref, both = no condition, unknown = nothing.
  assert.deepEqual(planned({ cluster_id: C, categories: 'metrics' }).query.refs![1], [{ kind: 'category', ids: ['metrics'] }]);
  assert.equal(planned({ cluster_id: C, categories: 'user, metrics' }).query.refs!.length, 1);
  assert.deepEqual(planned({ cluster_id: C, categories: 'other' }).query.refs![1], []);
  assert.equal(planned({ cluster_id: C, message: 'failed' }).query.message, 'failed');
  assert.equal(planned({ host_ids: H, message: 'failed' }).query.message, undefined, 'message is applied only with cluster_id');
  // severities: csv; Herald's debug is listed as info.
  assert.deepEqual(planned({ cluster_id: C, severities: 'info,critical' }).query.severities, ['debug', 'info', 'critical']);
});

test('assisted list: repeated parameters — the last occurrence wins (go-openapi binder: rawData[len(rawData)-1])', () => {
  assert.deepEqual(planned({ cluster_id: C, severities: ['error', 'warning'] }).query.severities, ['warning']);
  assert.deepEqual(planned({ cluster_id: [IE, C] }).query.refs![0], [{ kind: 'cluster', ids: [C] }]);
  assert.equal(planned({ cluster_id: C, limit: ['x', '3'] }).query.limit, 3);
});

test('assisted list: validation errors carry go-openapi\'s messages, first in the binder\'s order', () => {
  assert.equal(fails({ cluster_id: 'c1' }), 'cluster_id in query must be of type uuid: "c1"');
  assert.equal(fails({ host_id: 'nope' }), 'host_id in query must be of type uuid: "nope"');
  assert.equal(fails({ host_ids: `${H},bad` }), 'host_ids.1 in query must be of type uuid: "bad"');
  assert.equal(fails({ infra_env_id: 'x' }), 'infra_env_id in query must be of type uuid: "x"');
  assert.equal(fails({ cluster_id: C, limit: 'ten' }), 'limit in query must be of type int64: "ten"');
  assert.equal(fails({ cluster_id: C, limit: '9223372036854775808' }), 'limit in query must be of type int64: "9223372036854775808"');
  assert.equal(fails({ cluster_id: C, offset: '1.5' }), 'offset in query must be of type int64: "1.5"');
  assert.equal(fails({ cluster_id: C, order: 'Descending' }), 'order in query should be one of [ascending descending]');
  // Severities are case-sensitive (validate.EnumCase(..., true)).
  assert.equal(fails({ cluster_id: C, severities: 'info,INFO' }), 'severities.1 in query should be one of [info warning error critical]');
  assert.equal(fails({ cluster_id: C, severities: 'debug' }), 'severities.0 in query should be one of [info warning error critical]');
  // The binder's order: cluster_id before limit before order before severities.
  assert.equal(fails({ severities: 'loud', order: 'up', limit: 'x', cluster_id: 'y' }), 'cluster_id in query must be of type uuid: "y"');
  assert.equal(fails({ severities: 'loud', order: 'up', limit: 'x' }), 'limit in query must be of type int64: "x"');
});

// The value in go-openapi's messages is Go's %q (errors/schema.go typeFailWithData "%s in %s must be of
// type %s: %q"); the first vector is the example of Go's strconv.Quote (strconv/example_test.go).
test('assisted list: values in messages quoted as Go\'s %q', () => {
  assert.equal(goQuote('"Fran & Freddie\'s Diner\t☺"'), '"\\"Fran & Freddie\'s Diner\\t☺\\""');
  assert.equal(goQuote('a\x01b\x7f\u00a0\u2028é😀\u{e0001}\\'), '"a\\x01b\\x7f\\u00a0\\u2028é😀\\U000e0001\\\\"');
  assert.equal(fails({ cluster_id: 'a\nb' }), 'cluster_id in query must be of type uuid: "a\\nb"');
  assert.equal(fails({ host_ids: `${H},\u00ad` }), 'host_ids.1 in query must be of type uuid: "\\u00ad"');
  // Items are trimmed as strings.TrimSpace does: U+0085 is Go white space, U+FEFF is not.
  assert.deepEqual(planned({ host_ids: `\u0085${H}\u2028,\u3000` }).query.refs![0], [{ kind: 'host', ids: [H] }]);
  assert.equal(fails({ host_ids: `\ufeff${H}` }), `host_ids.0 in query must be of type uuid: "\\ufeff${H}"`);
});

test('assisted list: uuids as google/uuid Parse accepts them', () => {
  for (const ok of [C, C.toUpperCase(), C.replace(/-/g, ''), `urn:uuid:${C}`, `URN:UUID:${C}`, `{${C}}`]) assert.equal(isGoUuid(ok), true, ok);
  for (const bad of ['', 'c1', `${C}x`, C.replace(/-/g, '_'), `urn:uuix:${C}`, C.replace('3', 'g')]) assert.equal(isGoUuid(bad), false, bad);
});

test('authorizer: open without tokens; 401 vs 403; read tokens', () => {
  const open = createAuthorizer({ apiTokens: [], readTokens: [] });
  assert.equal(code(() => open.check('write', undefined)), undefined);
  assert.equal(code(() => open.check('read', undefined)), undefined);

  const a = createAuthorizer({ apiTokens: ['write-0123456789'], readTokens: [] });
  assert.equal(code(() => a.check('write', undefined)), 'UNAUTHORIZED');
  assert.equal(code(() => a.check('write', 'Token write-0123456789')), 'UNAUTHORIZED');
  assert.equal(code(() => a.check('write', 'Bearer write-01234567')), 'FORBIDDEN');
  assert.equal(code(() => a.check('write', 'Bearer write-0123456789')), undefined);
  assert.equal(code(() => a.check('read', undefined)), undefined); // reads open without read tokens
  assert.equal(code(() => a.check('open', 'Bearer junk')), undefined);

  const r = createAuthorizer({ apiTokens: ['write-0123456789'], readTokens: ['read-0123456789'] });
  assert.equal(code(() => r.check('read', undefined)), 'UNAUTHORIZED');
  assert.equal(code(() => r.check('read', 'Bearer read-0123456789')), undefined);
  assert.equal(code(() => r.check('read', 'Bearer write-0123456789')), undefined);
  assert.equal(code(() => r.check('write', 'Bearer read-0123456789')), 'FORBIDDEN');
  try {
    r.check('write', 'Bearer secret-guess-123');
  } catch (err) {
    assert.ok(!(err as Error).message.includes('secret-guess'));
  }
});
