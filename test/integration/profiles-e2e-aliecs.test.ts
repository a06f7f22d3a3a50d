/**
 * The aliecs profile end to end: entity states set through the REST API, relayed by the
 * outbox to the real Kafka broker (HERALD_TEST_KAFKA), read back with a Kafka consumer and
 * decoded with protobufjs from proto/aliecs.proto (independently of the profile's own
 * decoder), keys and headers checked with kcat, then decodeMessage and `herald view`.
 * Expectations from AliceO2Group/Control core/integration/kafka/plugin.go @ 9770b1f5.
 * AliECS topics have fixed names shared by every run and its records carry no key, so what
 * is read is told apart by environment ids unique to this test, and lists by their timestamp
 * (AliECS stamps a list with the timestamp of the enter notification it follows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { decodeMessage } from '../../src/profiles/decode.js';
import { ROOT, kafkaBrokers, runCli, uniqueName } from '../helpers/env.js';
import { sinkStatus, startTestService, waitFor } from './outbox-helpers.js';
import { api, assertRecordsValid, hhmmss, readUntil, type Rec } from './profiles-e2e-helpers.js';
import { kcatMeta } from './upstream-wire-helpers.js';

const root = protobuf.loadSync(join(ROOT, 'proto', 'aliecs.proto'));
const NewStateNotification = root.lookupType('kafka.NewStateNotification');
const ActiveRunsList = root.lookupType('kafka.ActiveRunsList');

interface Env { environmentId: string; runNumber?: number; runType?: string; state: string; detectors?: string[]; enterStateTimestamp: number }
const asObject = (t: protobuf.Type, bytes: Buffer) => t.toObject(t.decode(bytes), { longs: Number, defaults: false, arrays: true });
const notification = (r: Rec) => asObject(NewStateNotification, r.value!) as { envInfo: Env; timestamp: number };
const runsList = (r: Rec) => asObject(ActiveRunsList, r.value!) as { activeRuns?: Env[]; timestamp?: number };
// Other writers share these topics: a record that does not decode is simply not ours.
const safe = <T>(f: () => T): T | undefined => { try { return f(); } catch { return undefined; } };

const STATE_TOPICS = ['aliecs.env_state.CONFIGURED', 'aliecs.env_state.RUNNING', 'aliecs.env_state.ERROR', 'aliecs.env_state.UNKNOWN', 'aliecs.env_state.DONE',
  'aliecs.env_leave_state.CONFIGURED', 'aliecs.env_leave_state.RUNNING', 'aliecs.env_leave_state.ERROR'];
const LIST_TOPIC = 'aliecs.env_list.RUNNING';

test('aliecs through the REST API: notifications and lists as AliECS sends them (no key, no headers, list order and timing), view and decode', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-aliecs-'));
  const brokers = kafkaBrokers().split(',');
  const run = uniqueName('e2e').replace(/-/g, '');
  // A sorts before B by id, but B has ITS among two detectors: AliECS lists B first.
  const A = `${run}a`;
  const B = `${run}b`;
  const C = `${run}c`; // opted out with kafka_enabled=false
  const mine = new Set([A, B, C]);
  const runNumber = 100000 + Math.floor(Math.random() * 800000);

  const t0 = Date.now();
  const service = await startTestService({
    store: { url: `sqlite:${join(dir, 'h.db')}` },
    sinks: [{ name: 'aliecs', type: 'kafka', brokers, profile: 'aliecs' }],
  });
  t.after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor('the aliecs sink to connect', async () => (await sinkStatus(service.address))[0]!.connected === true, 30_000);
  const t1 = Date.now();

  const put = async (id: string, state: string, attributes?: Record<string, unknown>) => {
    const r = await api(service.address, 'PUT', `/v2/entities/environment/${id}/state`, { state, ...(attributes !== undefined && { attributes }) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { previous: unknown; current: { state: string; enteredAt: string }; events: string[] };
  };
  await put(A, 'RUNNING', { runNumber: 7, runType: 'TECHNICAL', detectors: 'TPC' });
  const configured = await put(B, 'CONFIGURED', { detectors: ['TPC', 'ITS'], runType: 'PHYSICS' });
  const running = await put(B, 'RUNNING', { runNumber, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] });
  // Attributes change while RUNNING: AliECS has no such notification — nothing, not even a list.
  await put(B, 'RUNNING', { runNumber, runType: 'PHYSICS', detectors: ['TPC', 'ITS', 'MFT'] });
  await put(C, 'CONFIGURED', { kafka_enabled: false });
  await put(C, 'RUNNING', { kafka_enabled: false, runNumber: 9, runType: 'PHYSICS', detectors: ['MCH'] });
  await put(B, 'ERROR');
  const destroyed = await put(B, 'DESTROY');
  assert.equal(destroyed.current.state, 'UNKNOWN');
  await put(A, 'DONE');
  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address))[0]!.pending === 0, 60_000);

  // Everything is on the broker now. Read until A's DONE notification was seen.
  const envOf = (r: Rec) => safe(() => notification(r).envInfo.environmentId);
  // Our notifications are validated as they are read (by environment id); lists are told ours below.
  const records = await readUntil([...STATE_TOPICS, LIST_TOPIC], (r) => (r.topic !== LIST_TOPIC && mine.has(envOf(r) ?? '') ? 'aliecs' : undefined), (rs) => {
    const doneAt = rs.find((r) => r.topic === 'aliecs.env_state.DONE' && envOf(r) === A);
    return doneAt !== undefined && rs.some((r) => r.topic === LIST_TOPIC && safe(() => runsList(r))?.timestamp === notification(doneAt).timestamp);
  }, 45_000);
  const states = records.filter((r) => r.topic !== LIST_TOPIC && mine.has(envOf(r) ?? ''));
  const ofEnv = (id: string, topic: string) => states.filter((r) => r.topic === topic && envOf(r) === id);

  // plugin.go produceMessage: kafka.Message{Topic, Value} — no key on any record.
  for (const r of states) assert.equal(r.key, null, `key on ${r.topic}`);
  assert.deepEqual(states.filter((r) => envOf(r) === C).map((r) => r.topic), [], 'kafka_enabled=false must publish nothing');

  // Start of run: env_state.RUNNING with the run's fields; the detectors as given (AliECS sorts only the list's).
  const [start, ...moreStarts] = ofEnv(B, 'aliecs.env_state.RUNNING');
  assert.ok(start, 'no aliecs.env_state.RUNNING record for the environment');
  assert.equal(moreStarts.length, 0, 'an attribute update is no second start of run');
  const startMsg = notification(start);
  assert.deepEqual(startMsg.envInfo, {
    environmentId: B, runNumber, runType: 'PHYSICS', state: 'RUNNING', detectors: ['TPC', 'ITS'],
    enterStateTimestamp: Date.parse(running.current.enteredAt),
  });
  assert.ok(startMsg.timestamp >= t1 && startMsg.timestamp <= Date.now(), `timestamp ${startMsg.timestamp} is the event time in ms`);

  // CONFIGURED: neither run number nor run type outside RUNNING (newEnvStateObject); leaving CONFIGURED carries CONFIGURED.
  const [conf] = ofEnv(B, 'aliecs.env_state.CONFIGURED');
  assert.ok(conf);
  assert.deepEqual(notification(conf).envInfo, { environmentId: B, state: 'CONFIGURED', detectors: ['TPC', 'ITS'], enterStateTimestamp: Date.parse(configured.current.enteredAt) });
  const [leaveConf] = ofEnv(B, 'aliecs.env_leave_state.CONFIGURED');
  assert.ok(leaveConf);
  assert.equal(notification(leaveConf).envInfo.state, 'CONFIGURED');

  // End of run: env_leave_state.RUNNING carries RUNNING (and the run); then ERROR, DESTROY → UNKNOWN, EXIT → DONE.
  const [end] = ofEnv(B, 'aliecs.env_leave_state.RUNNING');
  assert.ok(end, 'no aliecs.env_leave_state.RUNNING record');
  assert.equal(notification(end).envInfo.state, 'RUNNING');
  assert.equal(notification(end).envInfo.runNumber, runNumber);
  assert.equal(ofEnv(B, 'aliecs.env_state.ERROR').length, 1);
  const [gone] = ofEnv(B, 'aliecs.env_state.UNKNOWN');
  assert.ok(gone, 'no aliecs.env_state.UNKNOWN record after DESTROY');
  assert.equal(notification(gone).envInfo.runNumber, undefined);
  assert.equal(notification(gone).envInfo.enterStateTimestamp, Date.parse(destroyed.current.enteredAt));
  const [done] = ofEnv(A, 'aliecs.env_state.DONE');
  assert.ok(done, 'DONE is published as DONE (environment.go: EXIT → DONE)');

  // Lists: one right after each enter notification AliECS sends, stamped with its timestamp
  // (createNewStateCallback), none after a leave, an attribute update or the opted-out C.
  const enters = states.filter((r) => r.topic.startsWith('aliecs.env_state.'));
  assert.equal(enters.length, 6, 'A RUNNING, B CONFIGURED, B RUNNING, B ERROR, B UNKNOWN, A DONE');
  const stamps = new Set(enters.map((r) => notification(r).timestamp));
  const lists = records.filter((r) => r.topic === LIST_TOPIC);
  const ids = (r: Rec) => (safe(() => runsList(r))?.activeRuns ?? []).map((e) => e.environmentId);
  const myLists = lists.filter((r) => stamps.has(safe(() => runsList(r))?.timestamp ?? -1) && ids(r).every((id) => mine.has(id)));
  for (const r of myLists) assert.equal(r.key, null, 'lists carry no key either');
  assert.deepEqual(myLists.map(ids), [[A], [A], [B, A], [A], [A], []]);
  assert.deepEqual([...new Set(myLists.map((r) => runsList(r).timestamp))].sort(), [...stamps].sort(), 'each list has its enter notification\'s timestamp');
  // SortRunningEnvList: the ITS run with two detectors first; SortDetectorsOfRunningEnvs: sorted.
  assert.deepEqual(runsList(myLists[2]!).activeRuns, [
    { environmentId: B, runNumber, runType: 'PHYSICS', state: 'RUNNING', detectors: ['ITS', 'TPC'], enterStateTimestamp: Date.parse(running.current.enteredAt) },
    { environmentId: A, runNumber: 7, runType: 'TECHNICAL', state: 'RUNNING', detectors: ['TPC'], enterStateTimestamp: runsList(myLists[2]!).activeRuns![1]!.enterStateTimestamp },
  ]);

  // The relay's start-up list (plugin.go Init): empty (only field 2, the timestamp), stamped
  // after the service was started and before the first list of this test.
  const firstMine = myLists[0]!;
  const startLists = lists.filter((r) => r.partition === firstMine.partition && BigInt(r.offset) < BigInt(firstMine.offset) && r.value !== null && r.value.length > 0 && r.value[0] === 0x10)
    .filter((r) => (safe(() => runsList(r))?.timestamp ?? 0) >= t0);
  assert.ok(startLists.length >= 1, 'no empty ActiveRunsList published at relay start');
  const empty = startLists[startLists.length - 1]!;
  const ts = runsList(empty).timestamp!;
  assert.deepEqual(runsList(empty).activeRuns ?? [], []);
  assert.equal(empty.value!.toString('hex'), Buffer.from(ActiveRunsList.encode(ActiveRunsList.fromObject({ timestamp: ts })).finish()).toString('hex'));

  // An independent client sees the same: null keys (kcat %K = -1) and no headers on every record of ours.
  const ours = new Set([...states, ...myLists, empty].map((r) => `${r.topic}/${r.partition}/${r.offset}`));
  let checked = 0;
  for (const topic of [...new Set([...states, ...myLists].map((r) => r.topic))]) {
    for (const k of await kcatMeta(topic)) {
      if (!ours.has(`${topic}/${k.partition}/${k.offset}`)) continue;
      assert.equal(k.keyLength, -1, `kcat: null key on ${topic}@${k.offset}`);
      assert.equal(k.headers, '', `kcat: no headers on ${topic}@${k.offset}`);
      checked++;
    }
  }
  assert.equal(checked, states.length + myLists.length + 1, 'kcat saw every record of this test');
  // The lists and the start-up list decode with the served .proto too (the notifications were checked when read).
  assert.equal(assertRecordsValid([...myLists, empty], 'aliecs'), myLists.length + 1);

  // Round trip through decodeMessage (by topic and content; the records carry nothing else).
  const decoded = decodeMessage(start);
  assert.equal(decoded.profile, 'aliecs');
  assert.equal(decoded.event.type, 'dev.herald.entity.state.enter');
  assert.deepEqual(decoded.event.entity, { kind: 'environment', id: B });
  assert.deepEqual(decoded.event.data, { kind: 'environment', id: B, state: 'RUNNING', enteredAt: running.current.enteredAt, attributes: { runNumber, runType: 'PHYSICS', detectors: ['TPC', 'ITS'] } });
  assert.equal(decodeMessage(start).event.id, decoded.event.id, 'the same bytes decode to the same id');
  assert.equal(decodeMessage(end).event.type, 'dev.herald.entity.state.leave');
  const decodedList = decodeMessage(myLists[2]!);
  assert.equal(decodedList.event.type, 'dev.herald.entity.state.list');
  assert.deepEqual((decodedList.event.data as { entities: { id: string }[] }).entities.map((e) => e.id), [B, A]);
  assert.deepEqual((decodeMessage(empty).event.data as { entities: unknown[] }).entities, []);

  // herald view prints a readable line for the start of run.
  const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', 'aliecs.env_state.RUNNING', '--from-beginning',
    '--entity', `environment:${B}`, '--max', '1', '--format', 'pretty', '--timeout', '20s']);
  assert.equal(view.code, 0, view.stderr);
  assert.equal(view.stdout, `${hhmmss(startMsg.timestamp)} [env_state.RUNNING] ${B}: run ${runNumber} PHYSICS TPC,ITS\n`);
});
