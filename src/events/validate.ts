/**
 * One validation for every entry point. Reports every problem with its field path in plain
 * words, e.g. `[3].entity.kind: is required`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ValidationError, type FieldProblem } from '../errors.js';
import { EVENT_INPUT_KEYS, EventInput, SEVERITIES } from './schema.js';

// ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/** A shared Ajv instance with formats, also used by config validation and the API. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
  addFormats(ajv);
  return ajv;
}

const ajv = createAjv();
const validateInput: ValidateFunction = ajv.compile(EventInput);

/** Joins an Ajv instance path (`/entity/kind`, `/0/id`) into Herald's form (`entity.kind`, `[0].id`). */
export function joinPath(prefix: string, instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = prefix;
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else out += out === '' ? p : `.${p}`;
  }
  return out;
}

const describeType = (t: unknown): string => {
  const types = Array.isArray(t) ? t : [t];
  return types.map((x) => (x === 'object' ? 'an object' : x === 'array' ? 'an array' : x === 'integer' ? 'a whole number' : `a ${String(x)}`)).join(' or ');
};

/** Turns Ajv errors into plain-words problems. `allowedKeys` names the fields for unknown-field errors. */
export function ajvProblems(errors: ErrorObject[] | null | undefined, prefix = '', allowedKeys?: (path: string) => string[] | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let path = joinPath(prefix, e.instancePath);
    let message: string;
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        path = joinPath(prefix, e.instancePath, String(p.missingProperty));
        message = 'is required';
        break;
      case 'additionalProperties': {
        path = joinPath(prefix, e.instancePath, String(p.additionalProperty));
        const allowed = allowedKeys?.(joinPath('', e.instancePath));
        message = allowed ? `is not a known field (allowed: ${allowed.join(', ')})` : 'is not a known field';
        break;
      }
      case 'type':
        message = `must be ${describeType(p.type)}`;
        break;
      case 'enum':
        message = `must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
        break;
      case 'const':
        message = `must be ${JSON.stringify(p.allowedValue)}`;
        break;
      case 'minLength':
        message = p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`;
        break;
      case 'maxLength':
        message = `must be at most ${String(p.limit)} characters`;
        break;
      case 'format':
        message = p.format === 'date-time'
          ? 'must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z'
          : `must be a valid ${String(p.format)}`;
        break;
      case 'pattern':
        message = path.endsWith('kind') || path.endsWith('entitykind')
          ? 'must start with a letter and hold only letters, digits, _ . - (at most 64 characters)'
          : /\\S/.test(String(p.pattern)) ? 'must not contain spaces' : `must match ${String(p.pattern)}`;
        break;
      case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
        message = `must be ${e.keyword.startsWith('min') || e.keyword === 'exclusiveMinimum' ? '>=' : '<='} ${String(p.limit)}`;
        break;
      case 'maxItems':
        message = `must hold at most ${String(p.limit)} items`;
        break;
      case 'minItems':
        message = `must hold at least ${String(p.limit)} items`;
        break;
      case 'anyOf': case 'oneOf':
        continue; // the branch errors already say what is wrong
      default:
        message = e.message ?? 'is invalid';
    }
    const key = `${path}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path, message });
    }
  }
  return out;
}

/** Checks beyond what a JSON schema can say. */
function extraProblems(input: Record<string, unknown>, prefix: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const hasFlatKind = input.entitykind !== undefined;
  const hasFlatId = input.entityid !== undefined;
  if (hasFlatKind !== hasFlatId) {
    out.push({ path: at(hasFlatKind ? 'entityid' : 'entitykind'), message: 'is required when ' + (hasFlatKind ? 'entitykind' : 'entityid') + ' is given' });
  }
  if (input.entity !== undefined && (hasFlatKind || hasFlatId)) {
    out.push({ path: at('entity'), message: 'give either entity or entitykind/entityid, not both' });
  }
  return out;
}

/** Returns every problem of one event input; an empty list means it is valid. */
export function eventProblems(input: unknown, prefix = ''): FieldProblem[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return [{ path: prefix, message: 'must be a JSON object with at least source and type' }];
  }
  const ok = validateInput(input);
  const problems = ok ? [] : ajvProblems(validateInput.errors, prefix, (p) => (p === '' ? EVENT_INPUT_KEYS : p === 'entity' ? ['kind', 'id'] : undefined));
  return [...problems, ...extraProblems(input as Record<string, unknown>, prefix)];
}

/** Throws a ValidationError listing every problem unless `input` is a valid event input. */
export function assertEventInput(input: unknown): asserts input is EventInput {
  const problems = eventProblems(input);
  if (problems.length > 0) throw new ValidationError(summarize(problems, 'invalid event'), problems);
}

/** Validates a batch; paths are prefixed with the index (`[2].type`). */
export function batchProblems(inputs: unknown[], max = 1000): FieldProblem[] {
  if (inputs.length === 0) return [{ path: '', message: 'a batch must hold at least one event' }];
  if (inputs.length > max) return [{ path: '', message: `a batch holds at most ${max} events, got ${inputs.length}` }];
  return inputs.flatMap((e, i) => eventProblems(e, `[${i}]`));
}

export function summarize(problems: FieldProblem[], what: string): string {
  const first = problems[0];
  if (!first) return what;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return `${what}: ${first.path || '(root)'} ${first.message}${more}`;
}

export const isSeverity = (s: unknown): s is (typeof SEVERITIES)[number] => typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
