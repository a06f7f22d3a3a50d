/**
 * Entity state notifications. A state change in the registry produces up to three canonical
 * events, which the profiles map to their wire formats (aliecs: env_leave_state, env_state,
 * env_list topics; cloudevents: plain CloudEvents of these types).
 */
import type { HeraldEvent } from './schema.js';

export const ENTITY_EVENT_TYPES = {
  /** About to leave a state; carries the OLD state (e.g. RUNNING at end of run). */
  leave: 'dev.herald.entity.state.leave',
  /** Entered a new state. */
  enter: 'dev.herald.entity.state.enter',
  /** The entities of one kind currently in a watched state (e.g. RUNNING), sorted by id. */
  list: 'dev.herald.entity.state.list',
} as const;

export const ENTITY_EVENT_SOURCE = 'herald/entities';

/** States whose outcome is not known yet (e.g. a DESTROY request) are recorded as UNKNOWN. */
export const UNKNOWN_STATE = 'UNKNOWN';

export interface EntityState {
  kind: string;
  id: string;
  /** Upper case, e.g. RUNNING, CONFIGURED, ERROR, UNKNOWN. */
  state: string;
  previous: string | null;
  /** RFC 3339: when the current state was entered. */
  enteredAt: string;
  updatedAt: string;
  /** E.g. runNumber, runType, detectors, kafka_enabled. */
  attributes: Record<string, unknown>;
}

/** `data` of a leave or enter event. */
export interface EntityTransitionData {
  kind: string;
  id: string;
  /** leave: the state being left; enter: the state entered. */
  state: string;
  /** enter: the state before (null for a new entity); leave: the state about to be entered. */
  previous?: string | null;
  next?: string;
  /** When `state` was entered. */
  enteredAt: string;
  attributes: Record<string, unknown>;
  /** enter: false when only the attributes changed (the state stayed the same). */
  changed?: boolean;
}

/** `data` of a list event. */
export interface EntityListData {
  kind: string;
  state: string;
  entities: Array<{ id: string; state: string; enteredAt: string; attributes: Record<string, unknown> }>;
  /**
   * The enter notification this list follows: its entity, the state entered, whether the state
   * changed (false: only attributes) and the entity's attributes. Lets a profile publish the
   * list exactly when it publishes that enter (aliecs: AliECS sends its active list right
   * after each enter-state notification it sends, and at no other time).
   */
  cause?: { id: string; state: string; changed: boolean; attributes: Record<string, unknown> };
}

export const isEntityEvent = (e: HeraldEvent): boolean =>
  e.type === ENTITY_EVENT_TYPES.enter || e.type === ENTITY_EVENT_TYPES.leave || e.type === ENTITY_EVENT_TYPES.list;

/** The default watched states of the entity registry. */
export const DEFAULT_WATCHED_STATES = ['RUNNING'] as const;

/**
 * Normalises a requested state: upper case; DESTROY (its outcome is not known yet) and an
 * empty state are recorded as UNKNOWN.
 */
export function normalizeState(state: string | null | undefined): string {
  const s = (state ?? '').trim().toUpperCase();
  return s === '' || s === 'DESTROY' ? UNKNOWN_STATE : s;
}

/** A requested state change of one entity (already validated and redacted). */
export interface StateRequest {
  kind: string;
  id: string;
  state: string;
  /** Replaces the attributes; undefined keeps the previous ones. */
  attributes?: Record<string, unknown>;
  /** Source of the notifications (default herald/entities). */
  source?: string;
}

/** What a state change does: the entity's new record, and whether it changed state or only attributes. */
export interface StateChangePlan {
  previous: EntityState | null;
  current: EntityState;
  /** The state changed (or the entity is new). */
  changed: boolean;
  /** Only the attributes changed. */
  attributesChanged: boolean;
}

/** Plans a state change at `now`: pure, so the store only reads the previous record and writes the new one. */
export function planStateChange(previous: EntityState | null, request: StateRequest, now: Date): StateChangePlan {
  const state = normalizeState(request.state);
  const attributes = request.attributes ?? previous?.attributes ?? {};
  const changed = previous === null || previous.state !== state;
  const attributesChanged = previous !== null && JSON.stringify(previous.attributes) !== JSON.stringify(attributes);
  const at = now.toISOString();
  const current: EntityState = {
    kind: request.kind,
    id: request.id,
    state,
    previous: changed ? (previous?.state ?? null) : (previous?.previous ?? null),
    enteredAt: changed || previous === null ? at : previous.enteredAt,
    updatedAt: at,
    attributes,
  };
  return { previous, current, changed, attributesChanged };
}

/** The event inputs of one notification (leave, enter or list), before id and time are assigned. */
export interface NotificationInput {
  source: string;
  type: string;
  time: string;
  entity: { kind: string; id: string };
  partitionkey?: string;
  message: string;
  data: EntityTransitionData | EntityListData;
}

/**
 * The notifications of a planned change, in order: leave (the old state, when the state
 * changed), enter (on a change of state or attributes), then the list of every watched state
 * (`lists`: the kind's entities in each watched state after the change). AliECS dashboards
 * expect the active list after each enter-state notification, whatever state was entered.
 */
export function stateNotifications(plan: StateChangePlan, lists: ReadonlyArray<{ state: string; members: readonly EntityState[] }>, source = ENTITY_EVENT_SOURCE): NotificationInput[] {
  const { previous, current, changed, attributesChanged } = plan;
  const { kind, id, state } = current;
  const time = current.updatedAt;
  const entity = { kind, id };
  const out: NotificationInput[] = [];
  if (changed && previous !== null) {
    out.push({ source, type: ENTITY_EVENT_TYPES.leave, time, entity, message: `${kind} ${id} leaves ${previous.state} for ${state}`,
      data: { kind, id, state: previous.state, next: state, enteredAt: previous.enteredAt, attributes: previous.attributes } });
  }
  if (!changed && !attributesChanged) return out;
  // `changed: false` marks an attribute-only update: profiles that announce transitions
  // (aliecs: env_state.RUNNING = start of run) must not treat it as entering the state.
  out.push({ source, type: ENTITY_EVENT_TYPES.enter, time, entity,
    message: changed ? `${kind} ${id} entered ${state}${previous ? ` (was ${previous.state})` : ''}` : `${kind} ${id} in ${state}: attributes updated`,
    data: { kind, id, state, previous: changed ? (previous?.state ?? null) : previous!.previous, enteredAt: current.enteredAt, attributes: current.attributes, changed } });
  for (const { state: w, members } of lists) {
    const data: EntityListData = { kind, state: w, entities: members.map((m) => ({ id: m.id, state: m.state, enteredAt: m.enteredAt, attributes: m.attributes })),
      cause: { id, state, changed, attributes: current.attributes } };
    out.push({ source, type: ENTITY_EVENT_TYPES.list, time, entity: { kind, id: '*' }, partitionkey: `${kind}:list`,
      message: `${members.length} ${kind}${members.length === 1 ? '' : 's'} in ${w}`, data });
  }
  return out;
}

/** True when a plan produces notifications with lists (an enter happens). */
export const announces = (plan: StateChangePlan): boolean => plan.changed || plan.attributesChanged;
