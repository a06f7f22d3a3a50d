/**
 * The SQLite dialect prepares each statement once per SQL text (Kysely's driver prepares
 * every query it runs; better-sqlite3 compiles on every prepare). A real in-memory database.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { preparingOnce, STATEMENT_CACHE } from '../../src/store/dialects/sqlite/dialect.js';

function counted(): { sqlite: BetterSqlite3.Database; prepares: () => number } {
  const sqlite = new BetterSqlite3(':memory:');
  let n = 0;
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    n++;
    return prepare(text);
  }) as typeof sqlite.prepare;
  return { sqlite, prepares: () => n };
}

test('the same SQL text is prepared once and gives the same statement, which still runs with new parameters', () => {
  const { sqlite, prepares } = counted();
  const db = preparingOnce(sqlite);
  db.prepare('create table t (a integer)').run([]);
  const insert = 'insert into t (a) values (?)';
  const first = db.prepare(insert);
  for (let i = 0; i < 50; i++) db.prepare(insert).run([i]);
  assert.equal(db.prepare(insert), first);
  assert.equal(prepares(), 2, 'the create and the insert, each once');
  assert.deepEqual(db.prepare('select count(*) as n, sum(a) as s from t').all([]), [{ n: 50, s: 1225 }]);
  db.close();
});

test('a statement under an open iteration is not handed out again: a second one is prepared', () => {
  const { sqlite, prepares } = counted();
  const db = preparingOnce(sqlite);
  db.prepare('create table t (a integer)').run([]);
  for (let i = 0; i < 3; i++) db.prepare('insert into t (a) values (?)').run([i]);
  const select = 'select a from t order by a';
  const outer = db.prepare(select);
  const seen: number[] = [];
  for (const row of outer.iterate([]) as IterableIterator<{ a: number }>) {
    // Kysely's stream() iterates; a query of the same text meanwhile must not get the busy statement.
    const inner = db.prepare(select);
    assert.notEqual(inner, outer);
    assert.deepEqual((inner.all([]) as { a: number }[]).map((r) => r.a), [0, 1, 2]);
    seen.push(row.a);
  }
  assert.deepEqual(seen, [0, 1, 2]);
  // The inner one, prepared while the outer was busy, is kept in its place and reused.
  assert.equal(prepares(), 4, 'create, insert, the outer select and one inner select');
  db.close();
});

test(`past ${STATEMENT_CACHE} texts the least recently used statement is let go and prepared again when asked for`, () => {
  const { sqlite, prepares } = counted();
  const db = preparingOnce(sqlite);
  const text = (i: number) => `select ${i} as v`;
  const kept = db.prepare(text(0));
  for (let i = 1; i <= STATEMENT_CACHE; i++) db.prepare(text(i));
  assert.equal(prepares(), STATEMENT_CACHE + 1);
  // text(0) was the least recently used: let go, so asking again prepares a new one.
  const again = db.prepare(text(0));
  assert.notEqual(again, kept);
  assert.equal(prepares(), STATEMENT_CACHE + 2);
  assert.deepEqual(again.all([]), [{ v: 0 }]);
  // A recently used one is still kept.
  const recent = db.prepare(text(STATEMENT_CACHE));
  assert.equal(prepares(), STATEMENT_CACHE + 2);
  assert.deepEqual(recent.all([]), [{ v: STATEMENT_CACHE }]);
  db.close();
});
