/**
 * The connect-health sidecar: polls Kafka Connect on an interval, keeps the last answer, and
 * serves /health, /ready and /metrics from that cache, so probes never add load on Connect and
 * always answer fast. With restartFailed it restarts failed connectors and tasks first, and
 * reports them unhealthy only when the restarts do not help.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { ConnectClient, ConnectRequestError } from './client.js';
import { ConnectHealthMetrics } from './metrics.js';
import { MAX_RESTART_BACKOFF_MS, resolveOptions, type ConnectHealthOptions } from './options.js';
import { RestartPolicy } from './restarter.js';
import { evaluate, trackStates, type StateSince } from './rules.js';
import { listenProbeServer, type ProbeServer } from './server.js';
import type { ConnectorStatus, HealthReport, Snapshot } from './types.js';

/** A running sidecar. Create with startConnectHealth(). */
export class ConnectHealth {
  readonly options: Readonly<ConnectHealthOptions>;
  readonly metrics: ConnectHealthMetrics;
  private readonly client: ConnectClient;
  private readonly restarts: RestartPolicy;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private snapshot: Snapshot | undefined;
  private lastError: { at: number; message: string } | undefined;
  private since: StateSince = new Map();
  private probe: ProbeServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastVerdict: string | undefined;
  /** Connectors whose restart limit was already logged (logged once per episode). */
  private readonly limitLogged = new Set<string>();
  private closed = false;

  constructor(options: Partial<ConnectHealthOptions> & { connectUrl: string }, deps: { logger?: Logger } = {}) {
    this.options = resolveOptions(options);
    this.log = deps.logger ?? silentLogger;
    this.client = new ConnectClient(this.options.connectUrl, this.options.timeoutMs);
    this.restarts = new RestartPolicy({
      maxRestarts: this.options.maxRestarts,
      windowMs: this.options.restartWindowMs,
      backoffMs: this.options.restartBackoffMs,
      maxBackoffMs: Math.max(MAX_RESTART_BACKOFF_MS, this.options.restartBackoffMs),
    });
    this.metrics = new ConnectHealthMetrics(() => this.health().healthy, { processMetrics: this.options.processMetrics ?? true });
  }

  /** The probe endpoint's URL (after start()). */
  get url(): string {
    if (this.probe === undefined) throw new Error('connect-health is not listening; call start() first');
    return this.probe.url;
  }

  /** The probe endpoint's port (after start()). */
  get port(): number {
    return this.probe?.port ?? this.options.port;
  }

  /** Listens on host:port and starts the poll loop (the first poll right away). */
  async start(): Promise<this> {
    this.probe = await listenProbeServer(
      {
        connectUrl: this.client.display,
        health: () => this.health(),
        notReady: () => this.notReady(),
        metrics: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
      },
      this.options.host,
      this.options.port,
    );
    this.log.info(
      {
        url: this.probe.url,
        connect: this.client.display,
        connectors: this.options.connectors ?? 'all',
        intervalMs: this.options.intervalMs,
        restartFailed: this.options.restartFailed,
      },
      `connect-health listening on ${this.probe.url} (GET /health, /ready, /metrics)`,
    );
    this.loop();
    return this;
  }

  /** The verdict now, from the cached poll. */
  health(now = Date.now()): HealthReport {
    const report = evaluate(
      {
        ...(this.snapshot ? { snapshot: this.snapshot } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
        since: this.since,
        ...(this.options.connectors ? { watch: this.options.connectors } : {}),
        now,
        staleAfterMs: this.options.staleAfterMs!,
      },
      this.options,
    );
    if (this.options.restartFailed) {
      for (const r of report.reasons) {
        if (r.state !== 'FAILED' || r.connector === undefined) continue;
        const d = this.restarts.decide(r.connector, now);
        const done = this.restarts.attempts(r.connector);
        if (!d.restart && d.why === 'limit') r.message += ` (restart limit reached: ${this.options.maxRestarts} restarts within ${this.options.restartWindowMs / 1000}s)`;
        else if (done > 0) r.message += ` (restarted ${done} time${done === 1 ? '' : 's'}; still failing)`;
      }
    }
    return report;
  }

  /**
   * undefined when the last poll succeeded: Connect's REST API answers (whatever the connectors'
   * states). Not sticky on purpose: after the Connect container restarts, a startup probe on
   * /ready then waits for Connect again instead of letting liveness kill it while it boots.
   */
  notReady(): string | undefined {
    if (this.lastError !== undefined) return this.lastError.message;
    if (this.snapshot !== undefined) return undefined;
    return 'the first poll of the Kafka Connect REST API has not completed yet';
  }

  /** Polls Connect once (the loop does this on its own; tests call it to avoid waiting). */
  pollOnce(): Promise<void> {
    this.inFlight ??= this.poll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Stops polling, aborts a request in flight and closes the endpoint. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.inFlight?.catch(() => undefined);
    await this.probe?.close();
    this.log.info('connect-health stopped');
  }

  private loop(): void {
    if (this.closed) return;
    const started = Date.now();
    void this.pollOnce().finally(() => {
      if (this.closed) return;
      // Keep a steady rhythm: a slow poll shortens the wait before the next one.
      this.timer = setTimeout(() => this.loop(), Math.max(0, this.options.intervalMs - (Date.now() - started)));
    });
  }

  private async poll(): Promise<void> {
    const t0 = performance.now();
    try {
      let statuses = await this.client.statuses(this.abort.signal);
      if (this.options.connectors) {
        const watched = new Map<string, ConnectorStatus>();
        for (const name of this.options.connectors) {
          const s = statuses.get(name);
          if (s !== undefined) watched.set(name, s);
        }
        statuses = watched;
      }
      if (this.options.restartFailed) await this.restartFailed(statuses);
      const at = Date.now();
      this.since = trackStates(this.since, statuses.values(), at);
      this.snapshot = { at, statuses };
      this.lastError = undefined;
      this.metrics.setStatuses(statuses.values(), at);
      this.metrics.observePoll((performance.now() - t0) / 1000);
    } catch (err) {
      if (this.closed) return;
      const kind = err instanceof ConnectRequestError ? err.kind : 'invalid_response';
      const message = err instanceof ConnectRequestError ? err.message : `polling Kafka Connect failed: ${(err as Error).message}`;
      this.lastError = { at: Date.now(), message };
      this.metrics.observePoll((performance.now() - t0) / 1000, kind);
      this.log.debug({ kind }, message);
    }
    this.logVerdict();
  }

  /**
   * Restarts every watched connector that has failed (itself or a task), when its backoff and
   * limit allow. Connect answers with the new status (the restarted parts RESTARTING), which
   * replaces the polled one, so a restart in progress gets the grace period rather than a 500.
   */
  private async restartFailed(statuses: Map<string, ConnectorStatus>): Promise<void> {
    for (const [name, status] of statuses) {
      // With a worker id, restart only what failed here; another worker's sidecar sees to the rest.
      const mine = (workerId: string | undefined): boolean => this.options.workerId === undefined || workerId === this.options.workerId;
      const failedTasks = status.tasks.filter((t) => t.state === 'FAILED' && mine(t.worker_id)).map((t) => t.id);
      const connectorFailed = status.connector.state === 'FAILED' && mine(status.connector.worker_id);
      if (!connectorFailed && failedTasks.length === 0) {
        if (status.connector.state === 'RUNNING' && status.tasks.every((t) => t.state === 'RUNNING')) {
          this.restarts.healthy(name);
          this.limitLogged.delete(name);
        }
        continue;
      }
      const now = Date.now();
      const decision = this.restarts.decide(name, now);
      const what = [connectorFailed ? 'connector' : undefined, failedTasks.length > 0 ? `task${failedTasks.length > 1 ? 's' : ''} ${failedTasks.join(', ')}` : undefined]
        .filter(Boolean)
        .join(' and ');
      if (!decision.restart) {
        if (decision.why === 'limit' && !this.limitLogged.has(name)) {
          this.limitLogged.add(name);
          this.log.warn(
            { connector: name, tasks: failedTasks, maxRestarts: this.options.maxRestarts, retryAt: new Date(decision.retryAt).toISOString() },
            `not restarting ${name} ${what} again: ${this.options.maxRestarts} restarts within ${this.options.restartWindowMs / 1000}s; reporting unhealthy`,
          );
        }
        continue;
      }
      const attempt = this.restarts.record(name, now);
      this.metrics.countRestart(name);
      this.log.info(
        { connector: name, connectorFailed, tasks: failedTasks, attempt, maxRestarts: this.options.maxRestarts },
        `restarting failed connector ${name} ${what} (attempt ${attempt})`,
      );
      try {
        const after = await this.client.restartFailed(name, this.abort.signal);
        if (after !== undefined) statuses.set(name, after);
      } catch (err) {
        if (this.closed) throw err;
        this.log.warn({ connector: name, attempt }, `restart of ${name} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Logs when the verdict changes (not at every poll, so a long outage is not a log flood). */
  private logVerdict(): void {
    const report = this.health();
    const verdict = report.healthy ? 'healthy' : report.reasons.map((r) => r.message).join('; ');
    if (verdict === this.lastVerdict) return;
    this.lastVerdict = verdict;
    if (report.healthy) this.log.info({ connectors: report.connectors.length }, 'Kafka Connect is healthy');
    else this.log.warn({ reasons: report.reasons }, `Kafka Connect is unhealthy: ${verdict}`);
  }
}

/** Creates a sidecar, starts listening and polling; close() it when done. */
export async function startConnectHealth(
  options: Partial<ConnectHealthOptions> & { connectUrl: string },
  deps: { logger?: Logger } = {},
): Promise<ConnectHealth> {
  return new ConnectHealth(options, deps).start();
}
