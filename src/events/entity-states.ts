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
}

export const isEntityEvent = (e: HeraldEvent): boolean =>
  e.type === ENTITY_EVENT_TYPES.enter || e.type === ENTITY_EVENT_TYPES.leave || e.type === ENTITY_EVENT_TYPES.list;
