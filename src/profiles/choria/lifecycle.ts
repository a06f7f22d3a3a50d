/**
 * Domain helpers that read like Choria's own API: `lifecycle.startup({identity, component,
 * version})`, `machine.transition({...})`. Each call returns a new, validated canonical event
 * with a fresh id (UUID v4, as Choria's util.UniqueID) and the current time cut to whole
 * seconds (Choria's timestamps are Unix seconds); hand it to a sink, the store or `herald serve`.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError, type FieldProblem } from '../../errors.js';
import { createEvent, type CreateEventOptions } from '../../events/event.js';
import type { HeraldEvent } from '../../events/schema.js';
import { choriaEventInput, type ChoriaEventKind, type GovernorEventType } from './protocol.js';

/** Fields every lifecycle event carries. */
export interface LifecycleBase {
  /** The node, e.g. its host name. */
  identity: string;
  /** The component, e.g. `server`; must not be empty (it is part of the subject). */
  component: string;
}

export interface VersionedLifecycle extends LifecycleBase {
  version: string;
}

export interface UpgradedLifecycle extends VersionedLifecycle {
  newVersion: string;
}

export interface GovernorLifecycle extends LifecycleBase {
  /** The governor's name. */
  governor: string;
  sequence: number;
  /** Choria's governor event types: enter, exit, timeouts, eviction (anything else is refused). */
  eventType: GovernorEventType;
}

export interface MachineTransition {
  identity: string;
  machine: string;
  /** The machine's version. */
  version: string;
  transition: string;
  fromState: string;
  toState: string;
  /**
   * The machine instance id (the document's `id`), the same for every transition of one
   * running machine; default: derived from identity and machine, so it is stable too.
   */
  instanceId?: string;
}

// Problem paths name the helper's own (camelCase) options, not the document's keys.
const CAMEL: Record<string, string> = { new_version: 'newVersion', event_type: 'eventType', from_state: 'fromState', to_state: 'toState' };
const CAMEL_TRANSITION: Record<string, string> = { ...CAMEL, id: 'instanceId' };

function build(kind: ChoriaEventKind, fields: Record<string, unknown>, options: CreateEventOptions): HeraldEvent {
  // Choria's lifecycle format defines `id` as a UUID v4 (consumers may check it): not newEventId's v7.
  const id = (options.newId ?? randomUUID)();
  const time = options.now?.() ?? new Date();
  try {
    return createEvent(choriaEventInput(kind, fields, { id, time }));
  } catch (err) {
    if (err instanceof ValidationError) {
      const names = kind === 'transition' ? CAMEL_TRANSITION : CAMEL;
      const details: FieldProblem[] = err.details.map((d) => ({ path: names[d.path] ?? d.path, message: d.message }));
      const first = details[0]!;
      throw new ValidationError(`choria ${kind}: ${first.path} ${first.message}`, details);
    }
    throw err;
  }
}

const base = (o: LifecycleBase) => ({ identity: o.identity, component: o.component });

/** Lifecycle events of a Choria component. */
export const lifecycle = {
  /** A component started (version required). */
  startup: (o: VersionedLifecycle, options: CreateEventOptions = {}): HeraldEvent => build('startup', { ...base(o), version: o.version }, options),
  /** A component is shutting down. */
  shutdown: (o: LifecycleBase, options: CreateEventOptions = {}): HeraldEvent => build('shutdown', base(o), options),
  /** A node finished provisioning. */
  provisioned: (o: LifecycleBase, options: CreateEventOptions = {}): HeraldEvent => build('provisioned', base(o), options),
  /** A periodic sign of life (see startAliveTicker). */
  alive: (o: VersionedLifecycle, options: CreateEventOptions = {}): HeraldEvent => build('alive', { ...base(o), version: o.version }, options),
  /** A component was upgraded from `version` to `newVersion`. */
  upgraded: (o: UpgradedLifecycle, options: CreateEventOptions = {}): HeraldEvent =>
    build('upgraded', { ...base(o), version: o.version, new_version: o.newVersion }, options),
  /** A governor (concurrency limiter) event: enter, exit, timeouts, eviction. */
  governor: (o: GovernorLifecycle, options: CreateEventOptions = {}): HeraldEvent =>
    build('governor', { ...base(o), governor: o.governor, sequence: o.sequence, event_type: o.eventType }, options),
} as const;

/** Autonomous-agent (machine) events. */
export const machine = {
  /** A machine moved from one state to another. */
  transition: (o: MachineTransition, options: CreateEventOptions = {}): HeraldEvent =>
    build('transition', {
      ...(o.instanceId !== undefined && { id: o.instanceId }),
      identity: o.identity, machine: o.machine, version: o.version,
      transition: o.transition, from_state: o.fromState, to_state: o.toState,
    }, options),
} as const;
