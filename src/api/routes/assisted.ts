/**
 * GET /api/assisted-install/v2/events: the Assisted Installer's own list, at its base path, so
 * a generated assisted-service client (operation v2ListEvents) reads Herald's events unchanged.
 * The query is read as the service reads it (../assisted-query.ts), items are models.Event
 * objects (profiles/assisted.ts assistedListEvent), the five count headers are always sent,
 * and errors have the service's bodies: `{"code":400,"message":…}` for a bad parameter,
 * `{"code":401|403,"message":…}` (infra_error) for a missing or refused token, and the `error`
 * model `{"code":"500","href":"","id":500,"kind":"Error","reason":…}` when the store fails.
 * Reads need a read token, as /v2/events does. The plugin is encapsulated: its error handler
 * serves only this route.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../errors.js';
import { assistedListEvent } from '../../profiles/assisted.js';
import { AssistedQueryError, planAssistedList } from '../assisted-query.js';
import type { ApiContext } from '../context.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';
import { named, ref } from '../schemas.js';

/** swagger.yaml basePath. */
export const ASSISTED_BASE_PATH = '/api/assisted-install';

const q = (description: string) => Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description }));

/** The parameters as swagger.yaml declares them (read by planAssistedList, not by the schema). */
const AssistedEventsQuery = Type.Object({
  cluster_id: q('The cluster to return events for (uuid); its hosts\' events included.'),
  host_id: q('A host in the specified cluster to return events for (DEPRECATED. Use `host_ids` instead).'),
  host_ids: q('Hosts in the specified cluster to return events for (comma-separated uuids).'),
  infra_env_id: q('The infra-env to return events for (uuid).'),
  limit: q('The maximum number of records to retrieve (default 5000, -1 unlimited).'),
  offset: q('Number of records to skip before starting to return the records.'),
  order: q('Order by event_time of events retrieved: ascending (default) or descending.'),
  severities: q('Retrieved events severities (comma-separated: info, warning, error, critical).'),
  message: q('Retrieved events message pattern (case-insensitive substring; with cluster_id).'),
  deleted_hosts: q('Deleted hosts flag (Herald keeps no deleted hosts: matches no event).'),
  cluster_level: q('Cluster level events flag.'),
  categories: q('A comma-separated list of event categories (default: user).'),
});

// Components of the OpenAPI document, named after upstream's models.
const ModelsEvent = named('AssistedEvent', Type.Object({
  cluster_id: Type.Optional(Type.String({ format: 'uuid' })),
  event_time: Type.String({ format: 'date-time' }),
  host_id: Type.Optional(Type.String({ format: 'uuid' })),
  infra_env_id: Type.Optional(Type.String({ format: 'uuid' })),
  message: Type.String(),
  name: Type.Optional(Type.String()),
  props: Type.Optional(Type.String()),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error'), Type.Literal('critical')]),
}), "The Assisted Installer's models.Event");
const InfraError = named('AssistedInfraError', Type.Object({ code: Type.Integer(), message: Type.String() }), "The Assisted Installer's infra_error (400, 401, 403)");
const ModelsError = named('AssistedError', Type.Object({ code: Type.String(), href: Type.String(), id: Type.Integer(), kind: Type.String(), reason: Type.String() }), "The Assisted Installer's error model (500)");

/** The named schemas of this route, registered by buildApp (see COMPONENTS in ../schemas.ts). */
export const ASSISTED_COMPONENTS = [ModelsEvent, InfraError, ModelsError];

const count = (description: string) => Type.Integer({ minimum: 0, description });

/** Go's encoding/json escapes U+2028 and U+2029 even with HTML escaping off; the encoder ends with a newline. */
const goBody = (value: unknown) => `${JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}\n`;

export const assistedRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  // Errors of this route (the auth hook's included) in the service's shapes.
  app.setErrorHandler((err, request, reply) => {
    void reply.type('application/json');
    if (err instanceof AssistedQueryError) return reply.code(400).send(goBody({ code: 400, message: err.message }));
    const h = err instanceof HeraldError ? err : new HeraldError('INTERNAL', 'internal error; the server log has the details', { cause: err });
    if (h.status === 401 || h.status === 403) {
      if (h.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
      return reply.code(h.status).send(goBody({ code: h.status, message: h.message }));
    }
    if (h.status < 500) return reply.code(h.status).send(goBody({ code: h.status, message: h.message }));
    request.log.error({ err, url: request.routeOptions.url, code: h.code }, `request failed: ${h.message}`);
    const retryAfter = RETRY_AFTER_SECONDS[h.code];
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    // The service answers a failed database query with 500 and its `error` model.
    return reply.code(500).send(goBody({ code: '500', href: '', id: 500, kind: 'Error', reason: h.message }));
  });

  app.get(`${ASSISTED_BASE_PATH}/v2/events`, {
    config: { access: 'read' },
    schema: {
      summary: 'Lists events for a cluster, as the Assisted Installer does (operationId v2ListEvents)',
      description: 'Upstream-compatible list: models.Event items, Event-Count and Severity-Count-* headers. See docs/api.md.',
      tags: ['assisted-installer'],
      operationId: 'v2ListEvents',
      querystring: AssistedEventsQuery,
      response: {
        200: {
          ...Type.Array(ref(ModelsEvent)),
          'x-response-description': 'The events (models.Event), as the service lists them',
          headers: {
            'Severity-Count-Info': count("Count of events with severity 'info' (with cluster_id; every filter but severities)."),
            'Severity-Count-Warning': count("Count of events with severity 'warning'."),
            'Severity-Count-Error': count("Count of events with severity 'error'."),
            'Severity-Count-Critical': count("Count of events with severity 'critical'."),
            'Event-Count': count('Count of events retrieved (every filter, before limit and offset).'),
          },
        },
        400: ref(InfraError, { description: "A bad parameter, with go-openapi's message for the first one" }),
        401: ref(InfraError, { description: 'No bearer token, and read tokens are configured', headers: { 'WWW-Authenticate': Type.String({ description: 'Always `Bearer`' }) } }),
        403: ref(InfraError, { description: 'The bearer token is not accepted' }),
        500: ref(ModelsError, {
          description: 'The store failed (with Retry-After when it is only unavailable)',
          headers: { 'Retry-After': Type.Integer({ minimum: 0, description: 'Seconds to wait before retrying (a store that is unavailable or closing)' }) },
        }),
      },
    },
  }, async (request, reply) => {
    const plan = planAssistedList(request.query as Record<string, string | string[] | undefined>);
    const page = await ctx.store.query(plan.query);
    const items = page.events.map(assistedListEvent);
    const total = page.total;
    const counts = { info: 0, warning: 0, error: 0, critical: 0 };
    if (plan.severityCounts) {
      const c = page.severityCounts;
      Object.assign(counts, { info: c.debug + c.info, warning: c.warning, error: c.error, critical: c.critical });
    }
    void reply.headers({
      'Event-Count': String(total),
      'Severity-Count-Critical': String(counts.critical),
      'Severity-Count-Error': String(counts.error),
      'Severity-Count-Info': String(counts.info),
      'Severity-Count-Warning': String(counts.warning),
    });
    // The body as the service's JSON producer writes it (a string is sent as is, not re-serialized).
    return reply.type('application/json').send(goBody(items) as never);
  });
};
