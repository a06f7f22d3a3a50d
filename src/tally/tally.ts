/**
 * `herald tally`'s aggregation: turns decoded lifecycle events into Prometheus metrics with
 * exactly the names and labels of Choria's tally, so its dashboards work unchanged, plus
 * counters for the other profiles. Pure (no I/O): the command feeds it messages from a Source.
 */
import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import { choriaDocument } from '../profiles/choria.js';
import type { DecodedMessage } from '../profiles/types.js';

export interface TallyOptions {
  /** Metric name prefix (default `lifecycle_tally`). */
  prefix?: string;
  /** Only count events of this component (default: all). */
  component?: string;
  /** A node not seen for this long is dropped from the versions gauge (default 80 min). */
  expiryMs?: number;
  /** Registry to register on (default: a new one with the standard process metrics). */
  registry?: Registry;
  /** Clock for tests. */
  now?: () => number;
}

interface Node {
  component: string;
  version: string;
  lastSeen: number;
}

/** Lifecycle type from a protocol: `io.choria.lifecycle.v1.startup` or legacy `choria:lifecycle:startup:1`. */
export function lifecycleType(protocol: unknown): string | undefined {
  if (typeof protocol !== 'string') return undefined;
  const m = /^io\.choria\.lifecycle\.v\d+\.([a-z_]+)$/.exec(protocol) ?? /^choria:lifecycle:([a-z_]+):\d+$/.exec(protocol);
  return m?.[1];
}

const isMachineTransition = (protocol: unknown) => typeof protocol === 'string' && /^io\.choria\.machine\.v\d+\.transition$/.test(protocol);

export class Tally {
  readonly registry: Registry;
  private readonly nodes = new Map<string, Node>();
  private readonly entityStates = new Map<string, { kind: string; state: string }>();
  private readonly component: string | undefined;
  private readonly expiryMs: number;
  private readonly now: () => number;

  private readonly goodEvents: Counter<'component'>;
  private readonly processErrors: Counter<'component'>;
  private readonly eventTypes: Counter<'component' | 'type'>;
  private readonly versions: Gauge<'component' | 'version'>;
  private readonly maintenanceTime: Summary;
  private readonly processingTime: Summary;
  private readonly machineTransition: Counter<'machine' | 'version' | 'transition' | 'from_state' | 'to_state'>;
  private readonly events: Counter<'profile' | 'type' | 'severity'>;
  private readonly entities: Gauge<'kind' | 'state'>;

  constructor(options: TallyOptions = {}) {
    const prefix = options.prefix ?? 'lifecycle_tally';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new Error(`invalid metric prefix "${prefix}"`);
    this.component = options.component;
    this.expiryMs = options.expiryMs ?? 80 * 60_000;
    this.now = options.now ?? Date.now;
    if (options.registry) {
      this.registry = options.registry;
    } else {
      this.registry = new Registry();
      collectDefaultMetrics({ register: this.registry });
    }
    const registers = [this.registry];
    this.goodEvents = new Counter({ name: `${prefix}_good_events`, help: 'Events processed successfully', labelNames: ['component'], registers });
    this.processErrors = new Counter({ name: `${prefix}_process_errors`, help: 'Events that could not be processed', labelNames: ['component'], registers });
    this.eventTypes = new Counter({ name: `${prefix}_event_types`, help: 'Events received by type', labelNames: ['component', 'type'], registers });
    this.versions = new Gauge({ name: `${prefix}_versions`, help: 'Running components per version', labelNames: ['component', 'version'], registers });
    this.maintenanceTime = new Summary({ name: `${prefix}_maintenance_time`, help: 'Time spent in periodic maintenance (seconds)', registers });
    this.processingTime = new Summary({ name: `${prefix}_processing_time`, help: 'Time taken to process an event (seconds)', registers });
    this.machineTransition = new Counter({
      name: `${prefix}_machine_transition`, help: 'Autonomous agent state transitions',
      labelNames: ['machine', 'version', 'transition', 'from_state', 'to_state'], registers,
    });
    this.events = new Counter({ name: `${prefix}_events`, help: 'Events of other profiles by type and severity', labelNames: ['profile', 'type', 'severity'], registers });
    this.entities = new Gauge({ name: `${prefix}_entities`, help: 'Entities per current state (AliECS environments and other entity state notifications)', labelNames: ['kind', 'state'], registers });
  }

  /** Counts one decoded message. Returns false when it was ignored (another component). */
  observe(decoded: DecodedMessage): boolean {
    const end = this.processingTime.startTimer();
    try {
      if (decoded.profile === 'choria') {
        // The plain document, whichever form (plain, legacy, CloudEvents) the message had; a
        // document missing required fields (e.g. an empty component) is a processing error.
        let plain: unknown;
        try {
          plain = choriaDocument(decoded.event)?.document;
        } catch {
          this.error();
          return false;
        }
        return this.observeChoria(plain ?? decoded.document);
      }
      return this.observeOther(decoded);
    } finally {
      end();
    }
  }

  /** Counts a message that could not be decoded or processed. */
  error(component?: string): void {
    this.processErrors.inc({ component: component ?? this.component ?? '' });
  }

  private observeChoria(doc: unknown): boolean {
    const d = (doc ?? {}) as Record<string, unknown>;
    if (isMachineTransition(d.protocol)) {
      const labels = {
        machine: String(d.machine ?? ''), version: String(d.version ?? ''), transition: String(d.transition ?? ''),
        from_state: String(d.from_state ?? ''), to_state: String(d.to_state ?? ''),
      };
      this.machineTransition.inc(labels);
      return true;
    }
    const type = lifecycleType(d.protocol);
    const component = typeof d.component === 'string' ? d.component : '';
    if (type === undefined || component === '') {
      this.error(component || undefined);
      return false;
    }
    if (this.component !== undefined && this.component !== component) return false;
    this.goodEvents.inc({ component });
    this.eventTypes.inc({ component, type });
    const identity = typeof d.identity === 'string' ? d.identity : '';
    switch (type) {
      case 'startup':
      case 'alive':
        if (identity && typeof d.version === 'string') this.setNode(identity, component, d.version);
        break;
      case 'upgraded':
        if (identity && typeof d.new_version === 'string') this.setNode(identity, component, d.new_version);
        break;
      case 'shutdown':
        if (identity) this.removeNode(identity);
        break;
      default:
        // provisioned, governor: counted above; they say nothing about the running version.
        break;
    }
    return true;
  }

  private observeOther(decoded: DecodedMessage): boolean {
    const e = decoded.event;
    this.events.inc({ profile: decoded.profile, type: e.type, severity: e.severity });
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.type === 'dev.herald.entity.state.enter' && typeof data.kind === 'string' && typeof data.id === 'string' && typeof data.state === 'string') {
      const key = `${data.kind}\u0000${data.id}`;
      const before = this.entityStates.get(key);
      if (before) this.entities.dec({ kind: before.kind, state: before.state });
      this.entityStates.set(key, { kind: data.kind, state: data.state });
      this.entities.inc({ kind: data.kind, state: data.state });
    }
    return true;
  }

  private setNode(identity: string, component: string, version: string): void {
    const prev = this.nodes.get(identity);
    if (prev && (prev.version !== version || prev.component !== component)) {
      this.versions.dec({ component: prev.component, version: prev.version });
    }
    if (!prev || prev.version !== version || prev.component !== component) {
      this.versions.inc({ component, version });
    }
    this.nodes.set(identity, { component, version, lastSeen: this.now() });
  }

  private removeNode(identity: string): void {
    const prev = this.nodes.get(identity);
    if (!prev) return;
    this.nodes.delete(identity);
    this.versions.dec({ component: prev.component, version: prev.version });
  }

  /** Drops nodes not seen within the expiry; its duration feeds `maintenance_time`. Returns how many expired. */
  sweep(): number {
    const end = this.maintenanceTime.startTimer();
    const cutoff = this.now() - this.expiryMs;
    let expired = 0;
    for (const [identity, node] of this.nodes) {
      if (node.lastSeen < cutoff) {
        this.removeNode(identity);
        expired++;
      }
    }
    end();
    return expired;
  }

  /** Nodes currently counted (for logs and tests). */
  get nodeCount(): number {
    return this.nodes.size;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
