import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthorizer } from '../../src/api/auth.js';
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

test('toEventQuery: aliases and their precedence', () => {
  assert.deepEqual(toEventQuery({ cluster_id: 'c1' }).entityIds, ['c1']);
  assert.equal(toEventQuery({ cluster_id: 'c1' }).entityKind, 'cluster');
  const h = toEventQuery({ cluster_id: 'c1', host_ids: ['h1,h2', 'h3'] });
  assert.equal(h.entityKind, 'host');
  assert.deepEqual(h.entityIds, ['h1', 'h2', 'h3']);
  assert.equal(toEventQuery({ infra_env_id: 'ie', cluster_id: 'c' }).entityKind, 'infra-env');
  assert.equal(code(() => toEventQuery({ cluster_id: 'c', entity_id: 'x' })), 'INVALID_REQUEST');
  assert.deepEqual(toEventQuery({ entity_kind: 'node', entity_id: 'a,b' }).entityIds, ['a', 'b']);
  assert.equal(code(() => toEventQuery({ since: '2024-02-01T00:00:00Z', until: '2024-01-01T00:00:00Z' })), 'INVALID_REQUEST');
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
