/**
 * A small client for the parts of the Kafka Connect REST API the sidecar needs: the status of
 * every connector, and restarting failed ones. Every request carries a time limit
 * (AbortSignal.timeout), so a hung worker turns into a timeout error, never a hung probe.
 */
import { HeraldError } from '../errors.js';
import { redactSecrets } from './rules.js';
import type { ConnectorStatus, TaskStatus } from './types.js';
import { REDACTED } from '../shared/redact.js';

/** How a request to Connect went wrong; a bounded label for the poll-error metric. */
export type ConnectErrorKind = 'unreachable' | 'timeout' | 'http' | 'invalid_response';

/** A request to the Connect REST API failed. The message never contains the URL's credentials. */
export class ConnectRequestError extends HeraldError {
  readonly kind: ConnectErrorKind;
  /** The HTTP status for kind `http`. */
  readonly httpStatus: number | undefined;

  constructor(kind: ConnectErrorKind, message: string, options: { cause?: unknown; httpStatus?: number } = {}) {
    super(kind === 'timeout' ? 'TIMEOUT' : 'BROKER_UNAVAILABLE', message, { cause: options.cause });
    this.name = 'ConnectRequestError';
    this.kind = kind;
    this.httpStatus = options.httpStatus;
  }
}

/** Splits `http://user:pass@host:8083/prefix` into a base URL without credentials and a Basic auth header. */
export function parseConnectUrl(raw: string): { base: string; display: string; authorization?: string } {
  const url = new URL(raw);
  const authorization =
    url.username !== '' || url.password !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  const base = url.toString().replace(/\/+$/, '');
  const display = authorization === undefined ? base : base.replace('://', `://${REDACTED}@`);
  return authorization === undefined ? { base, display } : { base, display, authorization };
}

/** Talks to one Connect worker (or, in distributed mode, to any worker of the cluster). */
export class ConnectClient {
  /** The worker's URL with credentials masked, for logs and health answers. */
  readonly display: string;
  private readonly base: string;
  private readonly authorization: string | undefined;

  constructor(connectUrl: string, private readonly timeoutMs: number) {
    const parsed = parseConnectUrl(connectUrl);
    this.base = parsed.base;
    this.display = parsed.display;
    this.authorization = parsed.authorization;
  }

  /**
   * The status of every connector on the worker, by name. Uses `GET /connectors?expand=status`
   * (one request, Connect 2.3+); an older worker answers that with a plain list of names, and
   * then each connector's status is fetched on its own.
   */
  async statuses(signal?: AbortSignal): Promise<Map<string, ConnectorStatus>> {
    const body = await this.request('GET', '/connectors?expand=status', signal);
    const out = new Map<string, ConnectorStatus>();
    if (Array.isArray(body)) {
      // Pre-2.3 worker: list, then status each. A connector deleted in between is simply absent.
      const names = body.filter((n): n is string => typeof n === 'string');
      const each = await Promise.all(
        names.map((name) =>
          this.request('GET', `/connectors/${encodeURIComponent(name)}/status`, signal, [404]).then((s) =>
            s === undefined ? undefined : toStatus(s, name),
          ),
        ),
      );
      for (const s of each) if (s !== undefined) out.set(s.name, s);
      return out;
    }
    if (typeof body !== 'object' || body === null) throw invalid('GET /connectors?expand=status', 'not a JSON object');
    for (const [name, entry] of Object.entries(body as Record<string, unknown>)) {
      const status = (entry as { status?: unknown } | null)?.status;
      // Connect leaves out the status of a connector deleted while it answered; so do we.
      if (status === undefined || status === null) continue;
      out.set(name, toStatus(status, name));
    }
    return out;
  }

  /**
   * Restarts a connector's failed instance and failed tasks
   * (`POST /connectors/{name}/restart?includeTasks=true&onlyFailed=true`). Connect answers 202
   * with the new status (the restarted parts RESTARTING), which is returned when present.
   */
  async restartFailed(name: string, signal?: AbortSignal): Promise<ConnectorStatus | undefined> {
    const body = await this.request('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`, signal);
    try {
      return body === undefined ? undefined : toStatus(body, name);
    } catch {
      return undefined;
    }
  }

  /** One request; `allowed` lists non-2xx statuses that resolve to undefined instead of failing. */
  private async request(method: 'GET' | 'POST', path: string, outer: AbortSignal | undefined, allowed: number[] = []): Promise<unknown> {
    const what = `${method} ${path.split('?')[0]}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    try {
      const res = await fetch(this.base + path, { method, headers, signal });
      const text = await res.text();
      if (allowed.includes(res.status)) return undefined;
      if (!res.ok) {
        throw new ConnectRequestError('http', `Kafka Connect REST API at ${this.display} answered ${what} with HTTP ${res.status}${errorText(text)}`, {
          httpStatus: res.status,
        });
      }
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new ConnectRequestError('invalid_response', `Kafka Connect REST API at ${this.display} answered ${what} with a body that is not JSON`, { cause: err });
      }
    } catch (err) {
      if (err instanceof ConnectRequestError) throw err;
      if (timeout.aborted) {
        throw new ConnectRequestError('timeout', `Kafka Connect REST API at ${this.display} did not answer ${what} within ${this.timeoutMs}ms`, { cause: err });
      }
      if (outer?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ConnectRequestError('unreachable', `Kafka Connect REST API at ${this.display} is unreachable (${what}): ${detail}`, { cause: err });
    }
  }
}

function invalid(what: string, why: string): ConnectRequestError {
  return new ConnectRequestError('invalid_response', `Kafka Connect answered ${what} with an unexpected body: ${why}`);
}

/** Checks the shape of one connector status; the state strings are kept as Connect sent them. */
function toStatus(value: unknown, name: string): ConnectorStatus {
  const v = value as Partial<ConnectorStatus> | null | undefined;
  if (typeof v !== 'object' || v === null || typeof v.connector?.state !== 'string' || !Array.isArray(v.tasks)) {
    throw invalid(`the status of connector ${name}`, 'no connector.state or tasks');
  }
  const tasks: TaskStatus[] = v.tasks.map((t) => ({
    id: Number(t.id),
    state: String(t.state),
    ...(t.worker_id !== undefined ? { worker_id: String(t.worker_id) } : {}),
    ...(typeof t.trace === 'string' ? { trace: t.trace } : {}),
  }));
  return {
    name: typeof v.name === 'string' ? v.name : name,
    connector: {
      state: v.connector.state,
      ...(v.connector.worker_id !== undefined ? { worker_id: String(v.connector.worker_id) } : {}),
      ...(typeof v.connector.trace === 'string' ? { trace: v.connector.trace } : {}),
    },
    tasks,
    ...(typeof v.type === 'string' ? { type: v.type } : {}),
  };
}

/** Connect's error bodies are `{"error_code":..,"message":..}`; keep the message, short. */
function errorText(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string' && m !== '') return `: ${redactSecrets(m.slice(0, 300))}`;
  } catch {
    /* not JSON: fall through */
  }
  return '';
}
