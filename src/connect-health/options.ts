/**
 * Options of the connect-health sidecar, their defaults and validation. The CLI turns flags
 * into these; programmatic users (and the tests) pass them directly.
 */
import { ConfigError, type FieldProblem } from '../errors.js';

/** Everything the sidecar needs to know. */
export interface ConnectHealthOptions {
  /** The Connect worker's REST API, e.g. `http://127.0.0.1:8083`; user-info becomes Basic auth. */
  connectUrl: string;
  /** Connectors to watch; empty or undefined watches every connector the worker has. */
  connectors?: string[];
  /** Address of the probe endpoint. Loopback by default; in a pod the kubelet needs 0.0.0.0. */
  host: string;
  /** Port of the probe endpoint; 0 picks a free one. */
  port: number;
  /** Time between two polls of Connect. */
  intervalMs: number;
  /** Time limit of one request to Connect. */
  timeoutMs: number;
  /** How long UNASSIGNED or RESTARTING may last before it counts as failing. */
  graceMs: number;
  /**
   * This worker's id (its advertised `host:port`): judge and restart only connectors and tasks
   * running here. For distributed Connect with more than one replica; unset judges everything.
   */
  workerId?: string;
  /** PAUSED and STOPPED count as healthy. */
  allowPaused: boolean;
  /** Restart failed connectors and tasks through the REST API. */
  restartFailed: boolean;
  /** At most this many restarts of one connector per restartWindowMs. */
  maxRestarts: number;
  restartWindowMs: number;
  /** First wait between restarts of a connector that keeps failing; doubles, up to 5 minutes. */
  restartBackoffMs: number;
  /** A cache older than this answers 500 (default: 3 intervals plus one timeout). */
  staleAfterMs?: number;
  /** Register the default Node.js process metrics (default true). */
  processMetrics?: boolean;
}

/** Defaults for everything but the URL (whose default suits a sidecar next to Connect). */
export const DEFAULT_OPTIONS = {
  connectUrl: 'http://127.0.0.1:8083',
  host: '127.0.0.1',
  port: 8081,
  intervalMs: 10_000,
  timeoutMs: 5_000,
  graceMs: 60_000,
  allowPaused: false,
  restartFailed: false,
  maxRestarts: 5,
  restartWindowMs: 3_600_000,
  restartBackoffMs: 10_000,
} as const satisfies Partial<ConnectHealthOptions>;

/** The longest wait between two restarts of one connector. */
export const MAX_RESTART_BACKOFF_MS = 300_000;

/** Fills in defaults and checks the result; throws ConfigError naming every bad option. */
export function resolveOptions(input: Partial<ConnectHealthOptions>): Readonly<ConnectHealthOptions> {
  const o: ConnectHealthOptions = { ...DEFAULT_OPTIONS, ...stripUndefined(input) };
  const problems: FieldProblem[] = [];
  try {
    const url = new URL(o.connectUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push({ path: 'connectUrl', message: 'must be an http:// or https:// URL' });
  } catch {
    problems.push({ path: 'connectUrl', message: 'must be an http:// or https:// URL' });
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) problems.push({ path: 'port', message: 'must be a port number from 0 to 65535' });
  if (typeof o.host !== 'string' || o.host.trim() === '') problems.push({ path: 'host', message: 'must be a host name or address' });
  for (const key of ['intervalMs', 'timeoutMs', 'restartBackoffMs', 'restartWindowMs'] as const) {
    if (!Number.isFinite(o[key]) || o[key] <= 0) problems.push({ path: key, message: 'must be a positive duration' });
  }
  if (!Number.isFinite(o.graceMs) || o.graceMs < 0) problems.push({ path: 'graceMs', message: 'must be a duration of 0 or more' });
  if (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 1) problems.push({ path: 'maxRestarts', message: 'must be a whole number of 1 or more' });
  if (o.workerId !== undefined && !/^[^\s:]+:\d+$/.test(o.workerId)) problems.push({ path: 'workerId', message: 'must be the worker\'s advertised HOST:PORT' });
  if (o.connectors?.some((c) => typeof c !== 'string' || c.trim() === '')) problems.push({ path: 'connectors', message: 'names must not be empty' });
  if (problems.length > 0) {
    throw new ConfigError(`invalid connect-health options: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  }
  const connectors = o.connectors && o.connectors.length > 0 ? [...new Set(o.connectors)] : undefined;
  return Object.freeze({ ...o, connectors, staleAfterMs: o.staleAfterMs ?? 3 * o.intervalMs + o.timeoutMs });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
