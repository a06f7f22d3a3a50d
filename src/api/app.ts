/**
 * The REST API as a Fastify app, built separately from listen() so tests use app.inject().
 * Routes carry TypeBox schemas (validation, serialization and the OpenAPI document); one
 * error handler maps every failure to the error catalogue's status and JSON body.
 */
import { isUtf8 } from 'node:buffer';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifySchema } from 'fastify';
import type { Registry } from 'prom-client';
import type { HeraldConfig } from '../config/schema.js';
import { silentLogger, type Logger } from '../log.js';
import type { EventStore } from '../store/types.js';
import { createAuthorizer, type Access, type Authorizer } from './auth.js';
import type { Ingest } from '../pipeline/ingest.js';
import type { ApiContext, SinkStatusSource } from './context.js';
import { RETRY_AFTER_SECONDS, toHeraldError } from './errors.js';
import { createApiMetrics } from './metrics.js';
import { createNotifier, type Notifier } from './notifier.js';
import { streamRoutes } from './routes/stream.js';
import { entitiesRoutes } from './routes/entities.js';
import { eventsRoutes } from './routes/events.js';
import { systemRoutes } from './routes/system.js';
import { DESCRIBE_COMPONENTS, describeRoutes } from './routes/describe.js';
import { ASSISTED_COMPONENTS } from './routes/assisted.js';
import { createValidatorCompiler } from './validation.js';
import { COMPONENTS, errorResponse } from './schemas.js';
import { registerJsonParser } from './body.js';
import { ValidationError } from '../errors.js';
import { summarize, textProblems } from '../events/validate.js';
import { consolePlugin } from '../console/index.js';

export interface AppOptions {
  store: EventStore;
  /** Every write goes through it (the service's durable pipeline). */
  ingest: Ingest;
  config: HeraldConfig;
  logger?: Logger;
  /** The sinks' status (the outbox); without it /v2/sinks is []. */
  sinks?: SinkStatusSource;
  /** Wakes the live streams; the service shares it with the ingest's hand-over. */
  notifier?: Notifier;
  /** Registry for the service metrics (default: a new one with process metrics). */
  metrics?: Registry;
}

const JSON_TYPES = ['application/cloudevents+json', 'application/cloudevents-batch+json'];

/** NUL and lone surrogates in query or path parameters, named `<what> <name>`. */
function parameterProblems(values: unknown, what: string): Array<{ path: string; message: string }> {
  if (values === null || typeof values !== 'object') return [];
  return Object.entries(values as Record<string, unknown>).flatMap(([name, v]) => textProblems(v, name, 2).map((p) => ({ path: p.path, message: `(${what}) ${p.message}` })));
}

/**
 * True when the request target's percent-escapes (or raw bytes) are not UTF-8, e.g. `%ED%A0%80`
 * (an encoded surrogate) or `%FF`: the query parser would turn them into U+FFFD silently, so a
 * filter would match nothing instead of saying why. The raw target reaches us as latin1 text.
 */
function targetIsNotUtf8(url: string): boolean {
  if (!/%[89a-fA-F][0-9a-fA-F]|[^\x00-\x7f]/.test(url)) return false;
  const bytes = Buffer.from(url.replace(/%[0-9a-fA-F]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(1), 16))), 'latin1');
  return !isUtf8(bytes);
}

/** The document's tags, in the order the docs UI shows them. */
const DOCUMENT_TAGS = [
  { name: 'events', description: 'Ingest, list, get and stream events' },
  { name: 'entities', description: 'The entity state registry' },
  { name: 'sinks', description: 'Delivery status of the configured sinks (the outbox)' },
  { name: 'describe', description: 'What Herald publishes: the AsyncAPI document and the payload schemas' },
  { name: 'assisted-installer', description: "The Assisted Installer's own events list, at its base path" },
  { name: 'health', description: 'Liveness, readiness and metrics' },
  { name: 'console', description: "The web console's live feed" },
];

/**
 * The document's servers: `/` first, the server that serves the document (right behind a proxy
 * too), then the configured listen address when a client could use it as it is (not a
 * wildcard address, not an ephemeral port).
 */
function documentServers(server: { host: string; port: number }): Array<{ url: string; description: string }> {
  const servers = [{ url: '/', description: 'The server that serves this document' }];
  if (!['0.0.0.0', '::', '[::]', ''].includes(server.host) && server.port !== 0) {
    const host = server.host.includes(':') && !server.host.startsWith('[') ? `[${server.host}]` : server.host;
    servers.push({ url: `http://${host}:${server.port}`, description: 'The configured listen address (server.host, server.port)' });
  }
  return servers;
}

/**
 * A route's schema as the OpenAPI document shows it: its security requirement (none for open
 * routes; `bearer`, and `{}` too while no token is required), and the answers of the hooks that
 * run before every handler when the route does not describe them itself: 400 (a parameter with
 * NUL or a lone surrogate, percent-escapes that are not UTF-8) and, on token routes, 401 and 403.
 */
function documentedSchema(schema: FastifySchema | undefined, access: Access, authorizer: Authorizer): FastifySchema {
  const base = (schema ?? {}) as FastifySchema & { response?: Record<string, unknown>; security?: unknown };
  let anonymous = true;
  try {
    authorizer.check(access, undefined);
  } catch {
    anonymous = false;
  }
  const security = access === 'open' ? [] : anonymous ? [{ bearer: [] }, {}] : [{ bearer: [] }];
  const response: Record<string, unknown> = { ...base.response };
  const add = (status: number) => {
    if (!(String(status) in response)) response[status] = errorResponse(status);
  };
  add(400);
  if (access !== 'open') [401, 403].forEach(add);
  return { ...base, security, response } as FastifySchema;
}

/** Builds the app (routes, auth, metrics, OpenAPI, docs); does not listen. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { store, config } = options;
  const logger = options.logger ?? silentLogger;
  const app = Fastify({
    loggerInstance: logger,
    // GET requests are not worth an info line each; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimit,
    ajv: { customOptions: { strict: false } },
    // Long path parameters reach the routes, which answer 400 (an id over 255 characters) or 404,
    // in the catalogue's shape, instead of the router's bare 414.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  // text/plain is not an event format: a body in it is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app as unknown as FastifyInstance, JSON_TYPES);

  const metrics = createApiMetrics(options.metrics);
  const ctx: ApiContext = {
    store,
    ingest: options.ingest,
    config,
    logger,
    sinks: options.sinks,
    metrics,
    notifier: options.notifier ?? createNotifier(),
  };

  const authorizer = createAuthorizer(config.auth);
  app.addHook('onRequest', async (request) => {
    authorizer.check(request.routeOptions.config.access ?? 'open', request.headers.authorization);
  });
  // Query and path parameters reach SQL filters: text that no store can hold (NUL, lone
  // surrogates) is a 400 naming the parameter, on every route, before any handler runs.
  app.addHook('preValidation', async (request) => {
    const problems = [
      ...(targetIsNotUtf8(request.raw.url ?? '') ? [{ path: 'url', message: 'has percent-escapes that are not UTF-8' }] : []),
      ...parameterProblems(request.query, 'query parameter'),
      ...parameterProblems(request.params, 'path parameter'),
    ];
    if (problems.length > 0) throw new ValidationError(summarize(problems, 'invalid request'), problems, 'INVALID_REQUEST');
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, request, reply) => {
    const h = toHeraldError(err, config.server.bodyLimit);
    if (h.status >= 500) {
      request.log.error({ err, method: request.method, url: request.routeOptions.url, code: h.code }, `request failed: ${h.message}`);
    } else {
      request.log.debug({ method: request.method, url: request.routeOptions.url, code: h.code }, h.message);
    }
    if (h.code === 'UNAUTHORIZED') void reply.header('WWW-Authenticate', 'Bearer');
    const retryAfter = RETRY_AFTER_SECONDS[h.code];
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    return reply.code(h.status).send(h.toJSON());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}; see /docs`, code: 'NOT_FOUND' }));

  // The named schemas (components.schemas of the document; the serializer resolves the same refs),
  // all on this instance: see COMPONENTS.
  for (const schema of [...COMPONENTS, ...ASSISTED_COMPONENTS, ...DESCRIBE_COMPONENTS]) app.addSchema(schema);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Herald',
        description: 'Lifecycle and state-change events: store, query and stream. Errors have the body `Error`, except on the Assisted Installer\'s list, which answers in its own shapes.',
        version: '0.1.0',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      servers: documentServers(config.server),
      tags: DOCUMENT_TAGS,
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An `Authorization: Bearer <token>` header, checked only when tokens are configured. Writes need one of the API tokens '
              + '(auth.apiTokens, HERALD_API_TOKENS) when any is configured; reads need a read token or an API token when read tokens '
              + '(auth.readTokens, HERALD_READ_TOKENS) are configured. While a route\'s tokens are not configured it is open, and its '
              + '`security` lists the empty requirement `{}` beside `bearer`.',
          },
        },
      },
    },
    // Shared schemas appear under their own names (`#/components/schemas/Event`), not def-0, def-1...
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // Security and the errors of the hooks above come from the route's `access`, the same field the
    // auth hook reads, so the document cannot claim a token check that does not happen (or miss one).
    transform: ({ schema, url, route }) => ({ schema: documentedSchema(schema, route.config?.access ?? 'open', authorizer), url }),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  await app.register(streamRoutes, { ctx });
  await app.register(eventsRoutes, { ctx });
  await app.register(entitiesRoutes, { ctx });
  await app.register(systemRoutes, { ctx });
  await app.register(describeRoutes, { ctx });
  app.get('/openapi.json', { config: { access: 'open' }, schema: { hide: true } }, async () => app.swagger());
  // The web console at / (its live feed is a read route, so the auth hook above covers it).
  await app.register(consolePlugin, { store, wakeup: ctx.notifier, stallMs: config.server.streamStallMs, ...(options.sinks !== undefined && { sinks: options.sinks }) });

  await app.ready();
  return app as unknown as FastifyInstance;
}
