/**
 * The health rules: pure functions from the cached Connect status to a verdict. No network and
 * no clock of their own (the time is passed in), so every rule is unit-tested directly.
 */
import type { ConnectorStatus, HealthReport, Reason, Snapshot } from './types.js';
import { redactSecretsInText } from '../shared/redact.js';

/** What makes a state acceptable. */
export interface RuleOptions {
  /** PAUSED (and, for connectors, STOPPED) count as healthy: an operator paused them on purpose. */
  allowPaused: boolean;
  /**
   * How long UNASSIGNED or RESTARTING may last before it counts as failing. Both are normal for
   * a while (a rebalance, a restart in progress); only when they stick is something wrong.
   */
  graceMs: number;
  /**
   * Judge only what runs on this worker (`worker_id`, the worker's advertised host:port). In a
   * distributed cluster every worker reports every connector; without this filter one failed
   * task would make every pod unhealthy and Kubernetes would restart them all.
   */
  workerId?: string;
}

/** Since when each connector (`name`) and task (`name/0`) has been in its current state. */
export type StateSince = Map<string, { state: string; since: number }>;

/** Key of a connector or of one of its tasks in a StateSince map. */
export function stateKey(connector: string, task?: number): string {
  return task === undefined ? connector : `${connector}/${task}`;
}

/**
 * Carries the "in this state since" times over to a new poll: an unchanged state keeps its
 * time, a new state starts at `at`. Connectors and tasks that are gone are dropped.
 */
export function trackStates(previous: StateSince, statuses: Iterable<ConnectorStatus>, at: number): StateSince {
  const next: StateSince = new Map();
  const carry = (key: string, state: string): void => {
    const prev = previous.get(key);
    next.set(key, prev !== undefined && prev.state === state ? prev : { state, since: at });
  };
  for (const s of statuses) {
    carry(stateKey(s.name), s.connector.state);
    for (const t of s.tasks) carry(stateKey(s.name, t.id), t.state);
  }
  return next;
}

/** The verdict on one state: undefined when acceptable, else why not (without the subject). */
export function judgeState(
  kind: 'connector' | 'task',
  state: string,
  inStateMs: number,
  options: RuleOptions,
  trace?: string,
): string | undefined {
  switch (state) {
    case 'RUNNING':
      return undefined;
    case 'PAUSED':
      return options.allowPaused ? undefined : 'is PAUSED (--allow-paused accepts paused connectors)';
    case 'STOPPED':
      if (kind === 'task') break;
      return options.allowPaused ? undefined : 'is STOPPED (--allow-paused accepts stopped connectors)';
    case 'FAILED': {
      const line = firstLine(trace);
      return line === '' ? 'is FAILED' : `is FAILED: ${line}`;
    }
    case 'UNASSIGNED':
    case 'RESTARTING':
      return inStateMs < options.graceMs
        ? undefined
        : `has been ${state} for ${seconds(inStateMs)} (longer than the grace period of ${seconds(options.graceMs)})`;
  }
  return `is in an unknown state ${JSON.stringify(state)}`;
}

/** What `evaluate` looks at: the cache the poller keeps. */
export interface HealthInput {
  /** The last successful poll, if any. */
  snapshot?: Snapshot;
  /** The last failed poll, if it is newer than the snapshot (a later success clears it). */
  lastError?: { at: number; message: string };
  since: StateSince;
  /** Named connectors to watch; undefined watches whatever the worker has. */
  watch?: readonly string[];
  /** The time of the question (ms since the epoch). */
  now: number;
  /** A snapshot older than this is stale: the poll loop has stopped making progress. */
  staleAfterMs: number;
}

/** Computes the health verdict. Every reason names its connector and task where there is one. */
export function evaluate(input: HealthInput, options: RuleOptions): HealthReport {
  const { snapshot, lastError, now } = input;
  const reasons: Reason[] = [];
  const connectors: HealthReport['connectors'] = [];
  const report = (): HealthReport => ({
    healthy: reasons.length === 0,
    reasons,
    ...(snapshot ? { lastSuccess: new Date(snapshot.at).toISOString() } : {}),
    connectors,
  });

  if (lastError !== undefined && (snapshot === undefined || lastError.at >= snapshot.at)) {
    reasons.push({ message: lastError.message });
    return report();
  }
  if (snapshot === undefined) {
    reasons.push({ message: 'no poll of the Kafka Connect REST API has completed yet' });
    return report();
  }
  const age = now - snapshot.at;
  if (age > input.staleAfterMs) {
    reasons.push({
      message: `the last successful poll of Kafka Connect was ${seconds(age)} ago (stale after ${seconds(input.staleAfterMs)}); the poll loop is stuck`,
    });
  }

  const names = input.watch ?? [...snapshot.statuses.keys()].sort();
  for (const name of names) {
    const status = snapshot.statuses.get(name);
    if (status === undefined) {
      reasons.push({ connector: name, message: `connector ${name} does not exist on the Connect worker` });
      continue;
    }
    connectors.push({ name, state: status.connector.state, tasks: status.tasks.map((t) => ({ id: t.id, state: t.state })) });
    const inState = (task?: number): number => now - (input.since.get(stateKey(name, task))?.since ?? snapshot.at);
    const mine = (workerId: string | undefined): boolean => options.workerId === undefined || workerId === options.workerId;
    const c = mine(status.connector.worker_id) ? judgeState('connector', status.connector.state, inState(), options, status.connector.trace) : undefined;
    if (c !== undefined) reasons.push({ connector: name, state: status.connector.state, message: `connector ${name} ${c}` });
    for (const task of [...status.tasks].sort((a, b) => a.id - b.id)) {
      if (!mine(task.worker_id)) continue;
      const t = judgeState('task', task.state, inState(task.id), options, task.trace);
      if (t !== undefined) reasons.push({ connector: name, task: task.id, state: task.state, message: `connector ${name} task ${task.id} ${t}` });
    }
  }
  return report();
}

/** The first line of a Java stack trace (the exception and its message), secrets masked. */
export function firstLine(trace: string | undefined): string {
  if (trace === undefined) return '';
  const line = trace.split('\n', 1)[0]!.trim();
  return redactSecrets(line.length > 500 ? `${line.slice(0, 500)}...` : line);
}

/**
 * Masks what looks like a credential in text that comes from elsewhere (a connector's trace
 * can quote a JDBC URL or a config value): URL user-info and `password=...`-style pairs.
 */
export function redactSecrets(text: string): string {
  return redactSecretsInText(text);
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}
