/**
 * `herald tally`'s aggregation: Choria's tally (choria-io/go-choria lifecycle/tally/ @
 * 58e80bab, run by choria-io/tally) rebuilt metric for metric — the same names, help texts,
 * label names in the same order (each ending in `active`) and the same counting rules, so
 * Choria's dashboards work unchanged — plus two counters for the other profiles' events.
 * Pure (no I/O): the command feeds it what a Source delivered.
 *
 * Which input a message is comes from its topic, as Choria's from its NATS subject:
 * `choria.lifecycle.event.<type>.<component>`, `choria.machine.transition`,
 * `choria.machine.watcher.exec.state`. A message on a topic of another name (a sink with a
 * topic of its own) is recognised by its content instead.
 */
import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import { EXEC_WATCHER_SUBJECT, LIFECYCLE_SUBJECT_PREFIX, MACHINE_SUBJECT, choriaKindOfType, lifecycleSubject, type LifecycleType } from '../profiles/choria/protocol.js';
import type { DecodedMessage, IncomingMessage } from '../profiles/types.js';
import { TallyInputError, choriaInputOf, readExecState, readLifecycle, readTransition, type LifecycleInput } from './choria-input.js';

export interface TallyOptions {
  /** Metric name prefix (default `lifecycle_tally`, the go-choria library's; `herald tally` uses `choria_tally`, the tally command's). */
  prefix?: string;
  /**
   * The component whose lifecycle events are counted (Choria's `--component`): undefined or
   * `*` every component; `''` none (lifecycle tallies disabled, as upstream with no component).
   * Transitions and exec watcher states are counted whatever it is.
   */
  component?: string;
  /** A node not seen for this long is dropped from the versions gauge (default 80 min, as upstream). */
  expiryMs?: number;
  /** Registry to register on (default: a new one with the standard process metrics). */
  registry?: Registry;
  /** Clock for tests. */
  now?: () => number;
  /** Told why a message counted as a processing error (upstream logs these). */
  onError?: (topic: string, reason: string) => void;
}

/** What became of one message. */
export type TallyOutcome = 'counted' | 'ignored' | 'error';

/**
 * The `active` label. Upstream sets it from leader election (`Election`), and without one —
 * how choria-io/tally runs — it is always "1". Herald has no election: instances in one
 * consumer group share the partitions instead of standing by, so every instance is active.
 */
export const ACTIVE = '1';

interface Node {
  version: string;
  lastSeen: number;
}

/** A valid `component`: undefined, `*`, `''` or one subject token (no dots, spaces, `*` or `>`). */
export const isTallyComponent = (c: string | undefined): boolean => c === undefined || c === '*' || c === '' || /^[^.\s*>]+$/.test(c);

/** The last dot-separated token (Choria's `componentFromSubject`). */
const lastToken = (topic: string): string => topic.slice(topic.lastIndexOf('.') + 1);

export class Tally {
  readonly registry: Registry;
  /** Nodes per component, then per identity (upstream's `observed[component].hosts[identity]`). */
  private readonly nodes = new Map<string, Map<string, Node>>();
  private readonly entityStates = new Map<string, { kind: string; state: string }>();
  private readonly component: string | undefined;
  private readonly expiryMs: number;
  private readonly now: () => number;
  private readonly onError: ((topic: string, reason: string) => void) | undefined;

  private readonly goodEvents: Counter<'component' | 'active'>;
  private readonly processErrors: Counter<'component' | 'active'>;
  private readonly eventTypes: Counter<'component' | 'type' | 'active'>;
  private readonly versions: Gauge<'component' | 'version' | 'active'>;
  private readonly processingTime: Summary<'component' | 'active'>;
  private readonly machineTransition: Counter<'machine' | 'version' | 'transition' | 'from' | 'to' | 'active'>;
  private readonly execSuccess: Counter<'machine' | 'version' | 'watcher' | 'active'>;
  private readonly execFailures: Counter<'machine' | 'version' | 'watcher' | 'active'>;
  private readonly execRuntime: Summary<'machine' | 'version' | 'watcher' | 'active'>;
  private readonly nodesExpired: Counter<'component' | 'active'>;
  private readonly governor: Counter<'component' | 'governor' | 'event' | 'active'>;
  private readonly events: Counter<'profile' | 'type' | 'severity' | 'active'>;
  private readonly entities: Gauge<'kind' | 'state' | 'active'>;

  constructor(options: TallyOptions = {}) {
    const prefix = options.prefix ?? 'lifecycle_tally';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new Error(`invalid metric prefix "${prefix}"`);
    if (!isTallyComponent(options.component)) {
      throw new Error(`invalid component "${options.component}": one subject token (no dots, spaces, * or >), * for every component`);
    }
    this.component = options.component === '*' ? undefined : options.component;
    this.expiryMs = options.expiryMs ?? 80 * 60_000;
    this.now = options.now ?? Date.now;
    this.onError = options.onError;
    if (options.registry) {
      this.registry = options.registry;
    } else {
      this.registry = new Registry();
      collectDefaultMetrics({ register: this.registry });
    }
    const registers = [this.registry];
    // Names, help texts and label names (in order) as lifecycle/tally/stats.go registers them.
    // Summaries without objectives, as upstream: only _sum and _count.
    this.goodEvents = new Counter({ name: `${prefix}_good_events`, help: 'The number of successfully parsed events received', labelNames: ['component', 'active'], registers });
    this.processErrors = new Counter({ name: `${prefix}_process_errors`, help: 'The number of events received that failed to process', labelNames: ['component', 'active'], registers });
    this.eventTypes = new Counter({ name: `${prefix}_event_types`, help: 'The number events received by type', labelNames: ['component', 'type', 'active'], registers });
    this.versions = new Gauge({ name: `${prefix}_versions`, help: 'The number of observations for a specific version and component', labelNames: ['component', 'version', 'active'], registers });
    this.processingTime = new Summary({ name: `${prefix}_processing_time`, help: 'The time taken to process events', labelNames: ['component', 'active'], percentiles: [], registers });
    this.machineTransition = new Counter({ name: `${prefix}_machine_transition`, help: 'Machine state transition', labelNames: ['machine', 'version', 'transition', 'from', 'to', 'active'], registers });
    this.execSuccess = new Counter({ name: `${prefix}_exec_watcher_success`, help: 'Machine exec watcher success runs', labelNames: ['machine', 'version', 'watcher', 'active'], registers });
    this.execFailures = new Counter({ name: `${prefix}_exec_watcher_failures`, help: 'Machine exec watcher failure runs', labelNames: ['machine', 'version', 'watcher', 'active'], registers });
    this.execRuntime = new Summary({ name: `${prefix}_exec_watcher_runtime`, help: 'Machine exec watcher runtimes', labelNames: ['machine', 'version', 'watcher', 'active'], percentiles: [], registers });
    this.nodesExpired = new Counter({ name: `${prefix}_nodes_expired`, help: 'The number of nodes that were expired after not receiving alive events', labelNames: ['component', 'active'], registers });
    this.governor = new Counter({ name: `${prefix}_governor`, help: 'Choria Governor events', labelNames: ['component', 'governor', 'event', 'active'], registers });
    // Herald's own, for the other profiles; no upstream metric has these names.
    this.events = new Counter({ name: `${prefix}_events`, help: 'Events of the other profiles (not Choria) by profile, type and severity', labelNames: ['profile', 'type', 'severity', 'active'], registers });
    this.entities = new Gauge({ name: `${prefix}_entities`, help: 'Entities per current state (AliECS environments and other entity state notifications)', labelNames: ['kind', 'state', 'active'], registers });
  }

  /**
   * Counts one message as delivered. Choria's inputs are read from the bytes by Choria's own
   * rules; any other message counts by `decoded` (the decode chain's result; undefined when
   * it could not be decoded, which is a processing error).
   */
  observeMessage(message: IncomingMessage, decoded?: DecodedMessage): TallyOutcome {
    const topic = message.topic;
    if (topic === MACHINE_SUBJECT) return this.transition(message);
    if (topic === EXEC_WATCHER_SUBJECT) return this.execState(message);
    if (topic.startsWith(LIFECYCLE_SUBJECT_PREFIX)) {
      // Upstream subscribes to choria.lifecycle.event.*.<component>: other components are never seen.
      if (!this.wants(lastToken(topic))) return 'ignored';
      return this.lifecycle(message, false);
    }
    switch (choriaInputOf(message.value)) {
      case 'transition': return this.transition(message);
      case 'exec': return this.execState(message);
      case 'lifecycle': return this.lifecycle(message, true);
      default: break;
    }
    if (decoded === undefined || decoded.profile === 'choria') return this.reject(lastToken(topic), topic, 'not in any known format');
    return this.other(decoded);
  }

  /**
   * Counts one decoded message (for callers without the delivered bytes): a Choria message
   * is counted from its document as if it had arrived on its Choria subject. Returns true
   * when it was counted.
   */
  observe(decoded: DecodedMessage): boolean {
    if (decoded.profile !== 'choria') return this.other(decoded) === 'counted';
    const kind = choriaKindOfType(decoded.event.type);
    const doc = (decoded.event.data ?? {}) as Record<string, unknown>;
    const topic = kind === 'transition' ? MACHINE_SUBJECT
      : kind !== undefined && typeof doc.component === 'string' && doc.component !== '' ? lifecycleSubject(kind as LifecycleType, doc.component) : 'choria.unknown';
    return this.observeMessage({ topic, value: Buffer.from(JSON.stringify(decoded.document)), headers: {} }) === 'counted';
  }

  /** Counts a message that could not be read, under `component` (Choria: the subject's last token). */
  error(component = ''): void {
    this.processErrors.inc({ component, active: ACTIVE });
  }

  private reject(component: string, topic: string, reason: unknown): 'error' {
    if (!(reason instanceof TallyInputError) && typeof reason !== 'string') throw reason;
    this.processErrors.inc({ component, active: ACTIVE });
    this.onError?.(topic, typeof reason === 'string' ? reason : reason.message);
    return 'error';
  }

  private wants(component: string): boolean {
    return this.component === undefined || this.component === component;
  }

  /** `Run`'s lifecycle branch and `process()`. */
  private lifecycle(message: IncomingMessage, filterByContent: boolean): TallyOutcome {
    if (this.component === '') return 'ignored';
    let e: LifecycleInput;
    try {
      e = readLifecycle(message.value);
    } catch (err) {
      return this.reject(lastToken(message.topic), message.topic, err);
    }
    if (filterByContent && !this.wants(e.component)) return 'ignored';
    const end = this.processingTime.startTimer({ component: e.component, active: ACTIVE });
    this.eventTypes.inc({ component: e.component, type: e.type, active: ACTIVE });
    switch (e.type) {
      case 'alive': this.alive(e); break;
      case 'startup': this.startup(e); break;
      case 'shutdown': this.shutdown(e); break;
      case 'governor': this.governor.inc({ component: e.component, governor: e.governor, event: e.eventType, active: ACTIVE }); break;
      default: break; // provisioned, upgraded: counted above, the versions gauge is left alone
    }
    this.goodEvents.inc({ component: e.component, active: ACTIVE });
    end();
    return 'counted';
  }

  private hosts(component: string): Map<string, Node> {
    let hosts = this.nodes.get(component);
    if (hosts === undefined) this.nodes.set(component, (hosts = new Map()));
    return hosts;
  }

  /** processAlive: a new node counts its version; a known one is refreshed and moves if its version changed. */
  private alive(e: LifecycleInput): void {
    const hosts = this.hosts(e.component);
    const node = hosts.get(e.identity);
    if (node === undefined) {
      hosts.set(e.identity, { version: e.version, lastSeen: this.now() });
      this.versions.inc({ component: e.component, version: e.version, active: ACTIVE });
      return;
    }
    node.lastSeen = this.now();
    if (node.version !== e.version) {
      this.versions.dec({ component: e.component, version: node.version, active: ACTIVE });
      node.version = e.version;
      this.versions.inc({ component: e.component, version: node.version, active: ACTIVE });
    }
  }

  /** processStartup: a known node's old version is decremented, then the new one counted. */
  private startup(e: LifecycleInput): void {
    const hosts = this.hosts(e.component);
    const node = hosts.get(e.identity);
    if (node !== undefined) this.versions.dec({ component: e.component, version: node.version, active: ACTIVE });
    hosts.set(e.identity, { version: e.version, lastSeen: this.now() });
    this.versions.inc({ component: e.component, version: e.version, active: ACTIVE });
  }

  /** processShutdown: a known node is removed and its version decremented; an unknown one changes nothing. */
  private shutdown(e: LifecycleInput): void {
    const hosts = this.nodes.get(e.component);
    const node = hosts?.get(e.identity);
    if (hosts === undefined || node === undefined) return;
    hosts.delete(e.identity);
    this.versions.dec({ component: e.component, version: node.version, active: ACTIVE });
  }

  /** processStateTransition; errors count under component "transition". */
  private transition(message: IncomingMessage): TallyOutcome {
    try {
      const t = readTransition(message.value);
      this.machineTransition.inc({ machine: t.machine, version: t.version, transition: t.transition, from: t.from, to: t.to, active: ACTIVE });
      return 'counted';
    } catch (err) {
      return this.reject('transition', message.topic, err);
    }
  }

  /** processExecWatcherState: success and error outcomes count with their run time; others are ignored. Errors count under "exec_watcher". */
  private execState(message: IncomingMessage): TallyOutcome {
    let s;
    try {
      s = readExecState(message.value);
    } catch (err) {
      return this.reject('exec_watcher', message.topic, err);
    }
    const labels = { machine: s.machine, version: s.version, watcher: s.watcher, active: ACTIVE };
    if (s.outcome === 'success') this.execSuccess.inc(labels);
    else if (s.outcome === 'error') this.execFailures.inc(labels);
    else return 'ignored';
    this.execRuntime.observe(labels, s.runTimeNs / 1e9);
    return 'counted';
  }

  private other(decoded: DecodedMessage): TallyOutcome {
    const e = decoded.event;
    this.events.inc({ profile: decoded.profile, type: e.type, severity: e.severity, active: ACTIVE });
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.type === 'dev.herald.entity.state.enter' && typeof data.kind === 'string' && typeof data.id === 'string' && typeof data.state === 'string') {
      const key = `${data.kind}\u0000${data.id}`;
      const before = this.entityStates.get(key);
      if (before) this.entities.dec({ kind: before.kind, state: before.state, active: ACTIVE });
      this.entityStates.set(key, { kind: data.kind, state: data.state });
      this.entities.inc({ kind: data.kind, state: data.state, active: ACTIVE });
    }
    return 'counted';
  }

  /**
   * Upstream's `maintenance` (every minute there): nodes not seen within the expiry leave the
   * versions gauge and count in `nodes_expired`. Returns how many expired.
   */
  sweep(): number {
    const cutoff = this.now() - this.expiryMs;
    let expired = 0;
    for (const [component, hosts] of this.nodes) {
      for (const [identity, node] of hosts) {
        if (node.lastSeen >= cutoff) continue;
        this.versions.dec({ component, version: node.version, active: ACTIVE });
        hosts.delete(identity);
        this.nodesExpired.inc({ component, active: ACTIVE });
        expired++;
      }
    }
    return expired;
  }

  /** Nodes currently counted, over all components (for logs and tests). */
  get nodeCount(): number {
    let n = 0;
    for (const hosts of this.nodes.values()) n += hosts.size;
    return n;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
