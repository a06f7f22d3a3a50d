/**
 * The aliecs profile end to end: entity states set through the REST API, relayed by the
 * outbox to the real broker, read back with a Kafka consumer and decoded with protobufjs from
 * proto/aliecs.proto (independently of the profile's own decoder), then with decodeMessage and
 * `herald view`. AliECS topics have fixed names shared by every run, so everything read is
 * filtered by environment ids unique to this test (and the start-up list by time).
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
import { api, hhmmss, readUntil, type Rec } from './profiles-e2e-helpers.js';

const root = protobuf.loadSync(join(ROOT, 'proto', 'aliecs.proto'));
const NewStateNotification = root.lookupType('kafka.NewStateNotification');
const ActiveRunsList = root.lookupType('kafka.ActiveRunsList');

interface Env { environmentId: string; runNumber?: number; runType?: string; state: string; detectors?: string[]; enterStateTimestamp: number }
const asObject = (t: protobuf.Type, bytes: Buffer) => t.toObject(t.decode(bytes), { longs: Number, defaults: false, arrays: true });
const notification = (r: Rec) => asObject(NewStateNotification, r.value!) as { envInfo: Env; timestamp: number };
const runsList = (r: Rec) => asObject(ActiveRunsList, r.value!) as { activeRuns: Env[]; timestamp?: number };

const STATE_TOPICS = ['aliecs.env_state.CONFIGURED', 'aliecs.env_state.RUNNING', 'aliecs.env_state.UNKNOWN', 'aliecs.env_leave_state.CONFIGURED', 'aliecs.env_leave_state.RUNNING'];
const LIST_TOPIC = 'aliecs.env_list.RUNNING';

test('aliecs through the REST API: enter/leave/list notifications, start-up list, opt-out, view and decode', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-aliecs-'));
  const brokers = kafkaBrokers().split(',');
  const run = uniqueName('e2e').replace(/-/g, '');
  // A sorts before B, but B is started first: lists must come out sorted by id.
  const A = `${run}a`;
  const B = `${run}b`;
  const C = `${run}c`; // opted out with kafka_enabled=false
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
  await put(B, 'RUNNING', { runNumber: 7, runType: 'TECHNICAL', detectors: 'TPC' });
  const configured = await put(A, 'CONFIGURED', { detectors: ['ITS', 'TPC'] });
  const running = await put(A, 'RUNNING', { runNumber, runType: 'PHYSICS', detectors: ['ITS', 'TPC'] });
  // Attributes change while RUNNING: a list follows, but no second start of run.
  await put(A, 'RUNNING', { runNumber, runType: 'PHYSICS', detectors: ['ITS', 'TPC', 'MFT'] });
  await put(C, 'CONFIGURED', { kafka_enabled: false });
  await put(C, 'RUNNING', { kafka_enabled: false, runNumber: 9, runType: 'PHYSICS', detectors: ['MCH'] });
  const destroyed = await put(A, 'DESTROY');
  assert.equal(destroyed.current.state, 'UNKNOWN');
  await waitFor('the outbox to drain', async () => (await sinkStatus(service.address))[0]!.pending === 0, 60_000);

  // Everything is on the broker now. Read until A's last list (only B left) was seen.
  const mine = (r: Rec) => r.key === A || r.key === B || r.key === C;
  // Other writers share these topics: a record that does not decode is simply not ours.
  const safeList = (r: Rec) => { try { return runsList(r); } catch { return undefined; } };
  const listIds = (r: Rec) => safeList(r)?.activeRuns.map((e) => e.environmentId) ?? [];
  const records = await readUntil([...STATE_TOPICS, LIST_TOPIC], (rs) => {
    const lists = rs.filter((r) => r.topic === LIST_TOPIC && listIds(r).some((id) => id === A || id === B));
    return rs.some((r) => r.topic === 'aliecs.env_state.UNKNOWN' && r.key === A) && lists.length >= 7;
  }, 45_000);
  const states = records.filter((r) => r.topic !== LIST_TOPIC && mine(r));

  // No headers and a key = the environment id on every notification; C never appears.
  for (const r of states) assert.deepEqual(r.headers, {}, `headers on ${r.topic}`);
  assert.deepEqual(states.filter((r) => r.key === C).map((r) => r.topic), [], 'kafka_enabled=false must publish nothing');
  const ofA = (topic: string) => states.filter((r) => r.topic === topic && r.key === A);

  // Start of run: env_state.RUNNING, keyed by A, with the run's fields.
  const [start, ...moreStarts] = ofA('aliecs.env_state.RUNNING');
  assert.ok(start, 'no aliecs.env_state.RUNNING record for the environment');
  assert.equal(moreStarts.length, 0);
  const startMsg = notification(start);
  assert.deepEqual(startMsg.envInfo, {
    environmentId: A, runNumber, runType: 'PHYSICS', state: 'RUNNING', detectors: ['ITS', 'TPC'],
    enterStateTimestamp: Date.parse(running.current.enteredAt),
  });
  assert.ok(startMsg.timestamp >= t1 && startMsg.timestamp <= Date.now(), `timestamp ${startMsg.timestamp} is the event time in ms`);

  // CONFIGURED: no run number outside RUNNING; leaving CONFIGURED carries CONFIGURED.
  const [conf] = ofA('aliecs.env_state.CONFIGURED');
  assert.ok(conf);
  assert.deepEqual(notification(conf).envInfo, { environmentId: A, state: 'CONFIGURED', detectors: ['ITS', 'TPC'], enterStateTimestamp: Date.parse(configured.current.enteredAt) });
  const [leaveConf] = ofA('aliecs.env_leave_state.CONFIGURED');
  assert.ok(leaveConf);
  assert.equal(notification(leaveConf).envInfo.state, 'CONFIGURED');

  // End of run: env_leave_state.RUNNING carries RUNNING (and the run); DESTROY enters UNKNOWN.
  const [end] = ofA('aliecs.env_leave_state.RUNNING');
  assert.ok(end, 'no aliecs.env_leave_state.RUNNING record');
  const endMsg = notification(end);
  assert.equal(endMsg.envInfo.state, 'RUNNING');
  assert.equal(endMsg.envInfo.runNumber, runNumber);
  assert.equal(endMsg.envInfo.enterStateTimestamp, Date.parse(running.current.enteredAt));
  const [gone] = ofA('aliecs.env_state.UNKNOWN');
  assert.ok(gone, 'no aliecs.env_state.UNKNOWN record after DESTROY');
  const goneMsg = notification(gone);
  assert.equal(goneMsg.envInfo.state, 'UNKNOWN');
  assert.equal(goneMsg.envInfo.runNumber, undefined);
  assert.equal(goneMsg.envInfo.enterStateTimestamp, Date.parse(destroyed.current.enteredAt));

  // Active lists (keyed RUNNING, one partition, in order): the relay's empty list first, then
  // after every enter: [B], [B] (A configured), [A, B] (sorted), [A, B] three times (A's
  // attributes, C configured, C running but opted out), [B] (A destroyed).
  const lists = records.filter((r) => r.topic === LIST_TOPIC);
  for (const r of lists) assert.equal(r.key, 'RUNNING');
  const myLists = lists.filter((r) => listIds(r).some((id) => id === A || id === B || id === C));
  assert.deepEqual(myLists.map(listIds), [[B], [B], [A, B], [A, B], [A, B], [A, B], [B]]);
  const [, , withA, updated] = myLists;
  assert.deepEqual(runsList(updated!).activeRuns[0]!.detectors, ['ITS', 'TPC', 'MFT']);
  assert.deepEqual(runsList(withA!).activeRuns, [
    { environmentId: A, runNumber, runType: 'PHYSICS', state: 'RUNNING', detectors: ['ITS', 'TPC'], enterStateTimestamp: Date.parse(running.current.enteredAt) },
    { environmentId: B, runNumber: 7, runType: 'TECHNICAL', state: 'RUNNING', detectors: ['TPC'], enterStateTimestamp: runsList(withA!).activeRuns[1]!.enterStateTimestamp },
  ]);

  // The relay's start-up list: empty (only field 2, the timestamp), stamped after the service
  // was started and before the first list of this test on the same partition.
  const firstMine = myLists[0]!;
  const startLists = lists.filter((r) => r.partition === firstMine.partition && BigInt(r.offset) < BigInt(firstMine.offset) && r.value !== null && r.value.length > 0 && r.value[0] === 0x10)
    .filter((r) => (safeList(r)?.timestamp ?? 0) >= t0);
  assert.ok(startLists.length >= 1, 'no empty ActiveRunsList published at relay start');
  const empty = startLists[startLists.length - 1]!;
  const ts = runsList(empty).timestamp!;
  assert.deepEqual(runsList(empty).activeRuns, []);
  assert.equal(empty.value!.toString('hex'), Buffer.from(ActiveRunsList.encode(ActiveRunsList.fromObject({ timestamp: ts })).finish()).toString('hex'));

  // Round trip through decodeMessage: the registry's data shape, stable ids (the format has none).
  const decoded = decodeMessage(start);
  assert.equal(decoded.profile, 'aliecs');
  assert.equal(decoded.event.type, 'dev.herald.entity.state.enter');
  assert.deepEqual(decoded.event.entity, { kind: 'environment', id: A });
  assert.deepEqual(decoded.event.data, { kind: 'environment', id: A, state: 'RUNNING', enteredAt: running.current.enteredAt, attributes: { runNumber, runType: 'PHYSICS', detectors: ['ITS', 'TPC'] } });
  assert.equal(decodeMessage(start).event.id, decoded.event.id, 'the same bytes decode to the same id');
  assert.equal(decodeMessage(end).event.type, 'dev.herald.entity.state.leave');
  const decodedList = decodeMessage(myLists[6]!);
  assert.equal(decodedList.event.type, 'dev.herald.entity.state.list');
  assert.deepEqual((decodedList.event.data as { entities: { id: string }[] }).entities.map((e) => e.id), [B]);
  assert.deepEqual((decodeMessage(empty).event.data as { entities: unknown[] }).entities, []);

  // herald view prints a readable line for the start of run.
  const view = await runCli(['view', '--brokers', kafkaBrokers(), '--topic', 'aliecs.env_state.RUNNING', '--from-beginning',
    '--entity', `environment:${A}`, '--max', '1', '--format', 'pretty', '--timeout', '20s']);
  assert.equal(view.code, 0, view.stderr);
  assert.equal(view.stdout, `${hhmmss(startMsg.timestamp)} [env_state.RUNNING] ${A}: run ${runNumber} PHYSICS ITS,TPC\n`);
});
