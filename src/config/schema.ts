/**
 * The configuration schema: one definition for the file form, validated once at start.
 * Unknown keys are errors. Sinks have a schema per transport (sinks.ts); defaults, loading and
 * merging are in load.ts.
 */
import { Type, type Static } from 'typebox';
import type { SinkConfig } from './sinks.js';

export type { SinkConfig, CommonSinkConfig } from './sinks.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const HeraldConfigSchema = Type.Object(
  {
    server: Type.Optional(Type.Object({
      host: Type.Optional(Type.String({ minLength: 1 })),
      port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      bodyLimit: Type.Optional(Type.Integer({ minimum: 1024 })),
      /** How long a live-stream client may leave its buffer full before it is cut off (it resumes with Last-Event-ID). */
      streamStallMs: Type.Optional(Type.Integer({ minimum: 100 })),
    }, { additionalProperties: false })),
    store: Type.Optional(Type.Object({
      url: Type.Optional(Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$' })),
    }, { additionalProperties: false })),
    streaming: Type.Optional(Type.Boolean()),
    auth: Type.Optional(Type.Object({
      apiTokens: Type.Optional(Type.Array(Type.String({ minLength: 8 }))),
      readTokens: Type.Optional(Type.Array(Type.String({ minLength: 8 }))),
      /**
       * Refuse to serve without an API token, instead of accepting open writes. For images and
       * manifests that bind beyond loopback (the container image sets it).
       */
      requireTokens: Type.Optional(Type.Boolean()),
    }, { additionalProperties: false })),
    redact: Type.Optional(Type.Object({
      keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    }, { additionalProperties: false })),
    retention: Type.Optional(Type.Object({
      days: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    }, { additionalProperties: false })),
    entities: Type.Optional(Type.Object({
      watchedStates: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    }, { additionalProperties: false })),
    logLevel: Type.Optional(Type.Enum(LOG_LEVELS)),
    /** Each sink is validated against its transport's schema (sinks.ts). */
    sinks: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);
export type HeraldConfigInput = Omit<Static<typeof HeraldConfigSchema>, 'sinks'> & { sinks?: SinkConfig[] };

/** The validated, defaulted, frozen configuration every component receives. */
export interface HeraldConfig {
  readonly server: { readonly host: string; readonly port: number; readonly bodyLimit: number; readonly streamStallMs: number };
  readonly store: { readonly url: string };
  readonly streaming: boolean;
  readonly auth: { readonly apiTokens: readonly string[]; readonly readTokens: readonly string[]; readonly requireTokens: boolean };
  readonly redact: { readonly keys: readonly string[] };
  readonly retention: { readonly days: number };
  readonly entities: { readonly watchedStates: readonly string[] };
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly sinks: readonly Readonly<SinkConfig>[];
}
