/**
 * One validation for every entry point. Reports every problem with its field path in plain
 * words, e.g. `[3].entity.kind: is required`.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ValidationError, type FieldProblem } from '../errors.js';
import { precompiledEventInput } from './precompiled.js';
import { EVENT_INPUT_KEYS, EventInput, SEVERITIES } from './schema.js';

// ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/** A shared Ajv instance with formats, also used by config validation and the API. */
export function createAjv(extra: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, ...extra });
  addFormats(ajv);
  return ajv;
}

// The command-line bundle carries this validator compiled ahead of time (precompiled.ts);
// elsewhere the schema is compiled here, once, at import.
const validateInput: ValidateFunction = precompiledEventInput ?? createAjv().compile(EventInput);

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

/**
 * How deep `data` (and an entity state's `attributes`) may nest: objects and arrays inside
 * each other. Real payloads stay far below it (an Assisted cluster snapshot is under ten);
 * the limit keeps every later step (redaction, encoding, the store) safe from stack exhaustion
 * and makes the answer the same on every store: 400 naming the field.
 */
export const MAX_DATA_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored as is on every store, or undefined. */
function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters: PostgreSQL cannot store them; encode binary data, e.g. as base64';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode text (it holds a lone UTF-16 surrogate)';
  return undefined;
}

const keyPath = (path: string, key: string) => (/^[A-Za-z_$][\w$-]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`);

/**
 * Every string and key of a JSON value that cannot be stored as is (NUL, lone surrogates), and
 * nesting deeper than `maxDepth`, each with its path. Iterative: a hostile depth cannot
 * exhaust the stack here. Stops after 20 problems.
 */
export function textProblems(value: unknown, path: string, maxDepth = MAX_DATA_DEPTH): FieldProblem[] {
  const out: FieldProblem[] = [];
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path, depth: 0 }];
  while (stack.length > 0 && out.length < 20) {
    const { v, path: at, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p !== undefined) out.push({ path: at, message: p });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) {
      out.push({ path: at, message: `nests deeper than ${maxDepth} levels of objects and arrays` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${at}[${i}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, child] = entries[i]!;
      const kp = textProblem(k);
      if (kp !== undefined) out.push({ path: at, message: `has a key that ${kp}` });
      stack.push({ v: child, path: keyPath(at, k), depth: depth + 1 });
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
  // Text and depth first: a value nested thousands deep must not reach the schema validator.
  const record = input as Record<string, unknown>;
  const text: FieldProblem[] = [];
  for (const [k, v] of Object.entries(record)) {
    text.push(...textProblems(v, prefix === '' ? k : `${prefix}.${k}`, k === 'data' ? MAX_DATA_DEPTH : 2));
  }
  if (text.length > 0) return text;
  const ok = validateInput(input);
  const problems = ok ? [] : ajvProblems(validateInput.errors, prefix, (p) => (p === '' ? EVENT_INPUT_KEYS : p === 'entity' ? ['kind', 'id'] : undefined));
  return [...problems, ...extraProblems(record, prefix)];
}

/** Problems of an entity-state request (kind, id, state, source, attributes), with their paths. */
export function stateRequestProblems(request: { kind: string; id: string; state: string; source?: string; attributes?: Record<string, unknown> }): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const key of ['kind', 'id', 'state', 'source'] as const) {
    const v = request[key];
    if (v !== undefined) out.push(...textProblems(v, key));
  }
  if (request.attributes !== undefined) out.push(...textProblems(request.attributes, 'attributes'));
  return out;
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
