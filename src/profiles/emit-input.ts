/**
 * Builds a canonical event input from `herald emit` flags for a profile with its own
 * vocabulary (choria: --identity/--component/--version; cloudstack: category fields;
 * assisted: the event name). The cloudevents and aliecs profiles need nothing here: their
 * flags map 1:1 to the event (aliecs carries entity state changes, which come from the store).
 */
import { randomUUID } from 'node:crypto';
import { UsageError, ValidationError } from '../errors.js';
import type { EventInput } from '../events/schema.js';
import { CHORIA_EVENT_KINDS, choriaEventInput, type ChoriaEventKind } from './choria/protocol.js';
import { CLOUDSTACK_CATEGORIES, CLOUDSTACK_FIELDS, CLOUDSTACK_SOURCE, cloudstackFieldProblems, cloudstackType, type CloudStackCategory } from './cloudstack.js';
import { ASSISTED_SOURCE } from './assisted.js';
import type { ProfileName } from './types.js';

/** Flags of `herald emit` as parsed (string values; `data` already parsed JSON). */
export interface EmitFlags {
  type?: string;
  source?: string;
  subject?: string;
  id?: string;
  time?: string;
  severity?: string;
  entity?: { kind: string; id: string };
  key?: string;
  data?: unknown;
  identity?: string;
  component?: string;
  version?: string;
  [flag: string]: unknown;
}

/** Profile-specific flags `herald emit` accepts (besides the common ones), without `--`. */
export const PROFILE_EMIT_FLAGS: Readonly<Record<string, readonly string[]>> = {
  choria: ['identity', 'component', 'version', 'new-version', 'governor', 'sequence', 'event-type', 'machine', 'transition', 'from-state', 'to-state'],
  // --type, --data, --source and --entity carry everything CloudStack needs.
  cloudstack: [],
  // An Assisted event's user-facing text.
  assisted: ['message'],
};

/** Choria document field → the emit flag that sets it. */
const CHORIA_FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  identity: 'identity', component: 'component', version: 'version', new_version: 'new-version',
  governor: 'governor', sequence: 'sequence', event_type: 'event-type', machine: 'machine',
  transition: 'transition', from_state: 'from-state', to_state: 'to-state',
};

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const flagString = (flags: EmitFlags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

/** Common attributes every profile passes through (createEvent validates them). */
function common(flags: EmitFlags): Partial<EventInput> {
  return {
    ...(flags.id !== undefined && { id: flags.id }),
    ...(flags.time !== undefined && { time: flags.time }),
    ...(flags.severity !== undefined && { severity: flags.severity as EventInput['severity'] }),
    ...(flags.subject !== undefined && { subject: flags.subject }),
  };
}

function choriaFromFlags(flags: EmitFlags): EventInput {
  const kinds = CHORIA_EVENT_KINDS.join(', ');
  if (flags.type === undefined || flags.type === '') {
    throw new UsageError(`--type is required for --profile choria: one of ${kinds}`, [{ path: '--type', message: `must be one of ${kinds}` }]);
  }
  if (!(CHORIA_EVENT_KINDS as readonly string[]).includes(flags.type)) {
    throw new UsageError(`--type must be one of ${kinds} for --profile choria, got "${flags.type}"`, [{ path: '--type', message: `must be one of ${kinds}` }]);
  }
  const kind = flags.type as ChoriaEventKind;
  const where = `for --profile choria --type ${kind}`;
  const fields: Record<string, unknown> = { ...(asRecord(flags.data) ?? {}) };
  for (const [field, flag] of Object.entries(CHORIA_FLAG_OF_FIELD)) {
    const v = flagString(flags, flag);
    if (v !== undefined) fields[field] = v;
  }
  if (fields.identity === undefined && flags.subject !== undefined) fields.identity = flags.subject;
  if (typeof fields.sequence === 'string') {
    if (!/^\d+$/.test(fields.sequence)) throw new UsageError(`--sequence must be a whole number >= 0 ${where}, got "${fields.sequence}"`, [{ path: '--sequence', message: 'must be a whole number >= 0' }]);
    fields.sequence = Number(fields.sequence);
  }
  const time = flags.time === undefined ? new Date() : new Date(flags.time);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--time must be an RFC 3339 time, e.g. 2024-05-01T12:00:00Z, got "${flags.time}"`, [{ path: '--time', message: 'must be an RFC 3339 time' }]);
  try {
    // Choria's lifecycle format defines `id` as a UUID v4.
    const input = choriaEventInput(kind, fields, { id: flags.id ?? randomUUID(), time });
    return { ...input, ...(flags.severity !== undefined && { severity: flags.severity as EventInput['severity'] }) };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const details = err.details.map((d) => ({ path: `--${CHORIA_FLAG_OF_FIELD[d.path] ?? d.path}`, message: d.message }));
    const first = details[0]!;
    throw new UsageError(`${first.path} ${first.message === 'is required' ? 'is required' : first.message} ${where}`, details);
  }
}

function cloudstackFromFlags(flags: EmitFlags): EventInput {
  const cats = CLOUDSTACK_CATEGORIES.join(', ');
  if (flags.type === undefined || flags.type === '') {
    throw new UsageError(`--type is required for --profile cloudstack: the category, one of ${cats}`, [{ path: '--type', message: `must be one of ${cats}` }]);
  }
  if (!(CLOUDSTACK_CATEGORIES as readonly string[]).includes(flags.type)) {
    throw new UsageError(`--type must be a CloudStack category for --profile cloudstack: one of ${cats}, got "${flags.type}"`, [{ path: '--type', message: `must be one of ${cats}` }]);
  }
  const category = flags.type as CloudStackCategory;
  const fieldList = CLOUDSTACK_FIELDS[category].join(', ');
  if (flags.data === undefined) {
    throw new UsageError(`--data is required for --profile cloudstack --type ${category}: a JSON object with its flat fields (${fieldList})`, [{ path: '--data', message: 'is required' }]);
  }
  const problems = cloudstackFieldProblems(category, flags.data, '');
  if (problems.length > 0) {
    const details = problems.map((p) => ({ path: p.path === '' ? '--data' : `--data.${p.path}`, message: p.message }));
    const first = problems[0]!;
    const what = first.path === '' ? `--data ${first.message}` : `--data field "${first.path}" ${first.message}`;
    throw new UsageError(`${what} (--profile cloudstack --type ${category})`, details);
  }
  return {
    ...common(flags),
    source: flags.source ?? CLOUDSTACK_SOURCE,
    type: cloudstackType(category),
    ...(flags.entity !== undefined && { entity: { kind: flags.entity.kind, id: flags.entity.id } }),
    data: flags.data,
  };
}

const ASSISTED_KINDS = ['cluster', 'host', 'infra-env'];

function assistedFromFlags(flags: EmitFlags): EventInput {
  if (flags.type === undefined || flags.type === '') {
    throw new UsageError('--type is required for --profile assisted: the event name, e.g. host_registration_succeeded', [{ path: '--type', message: 'is required' }]);
  }
  if (flags.entity !== undefined && !ASSISTED_KINDS.includes(flags.entity.kind)) {
    throw new UsageError(`--entity must be cluster:ID, host:ID or infra-env:ID for --profile assisted, got kind "${flags.entity.kind}"`, [{ path: '--entity', message: 'kind must be cluster, host or infra-env' }]);
  }
  const message = flagString(flags, 'message');
  return {
    ...common(flags),
    source: flags.source ?? ASSISTED_SOURCE,
    type: flags.type,
    ...(flags.entity !== undefined && { entity: { kind: flags.entity.kind, id: flags.entity.id } }),
    ...(message !== undefined && { message }),
    ...(flags.data !== undefined && { data: flags.data }),
  };
}

/**
 * Returns the canonical event input for `profile`, or undefined when the profile uses the
 * common flags as they are (cloudevents, aliecs). Throws UsageError (exit 2) naming the flag
 * when a required one is missing or wrong, e.g. "--component is required for --profile choria
 * --type startup".
 */
export function eventInputFromFlags(profile: ProfileName, flags: EmitFlags): EventInput | undefined {
  switch (profile) {
    case 'choria': return choriaFromFlags(flags);
    case 'cloudstack': return cloudstackFromFlags(flags);
    case 'assisted': return assistedFromFlags(flags);
    default: return undefined;
  }
}
