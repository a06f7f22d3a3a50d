/**
 * The shapes of Kafka Connect's REST API that the sidecar reads, and of what it reports.
 * Field names follow Connect's JSON (`worker_id`, `trace`) so a status body maps one to one.
 */

/** States a connector can be in (Connect 3.5+ adds STOPPED, for connectors only). */
export const CONNECTOR_STATES = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'FAILED', 'RESTARTING', 'STOPPED'] as const;
/** States a task can be in. */
export const TASK_STATES = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'FAILED', 'RESTARTING'] as const;

/** A connector state Herald knows. */
export type ConnectorState = (typeof CONNECTOR_STATES)[number];
/** A task state Herald knows. */
export type TaskState = (typeof TASK_STATES)[number];

/** One entry of `GET /connectors/{name}/status`: the connector itself or one of its tasks. */
export interface StateInfo {
  /** Kept as a string: a newer Connect may report a state this version does not know. */
  state: string;
  worker_id?: string;
  trace?: string;
}

/** One task in a connector's status; `id` is the task number. */
export interface TaskStatus extends StateInfo {
  id: number;
}

/** The body of `GET /connectors/{name}/status`. */
export interface ConnectorStatus {
  name: string;
  connector: StateInfo;
  tasks: TaskStatus[];
  type?: string;
}

/** One successful look at the worker: the status of every watched connector that exists. */
export interface Snapshot {
  /** When the poll finished (ms since the epoch). */
  at: number;
  statuses: Map<string, ConnectorStatus>;
}

/** Why a connector (or one task of it) counts as failing. */
export interface Reason {
  connector?: string;
  task?: number;
  state?: string;
  /** A sentence for people: what is wrong, with the first line of Connect's trace. */
  message: string;
}

/** What `/health` answers, computed from the cached poll at request time. */
export interface HealthReport {
  healthy: boolean;
  /** Empty when healthy. */
  reasons: Reason[];
  /** ISO time of the last successful poll, if any. */
  lastSuccess?: string;
  connectors: Array<{ name: string; state: string; tasks: Array<{ id: number; state: string }> }>;
}
