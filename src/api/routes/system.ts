/** Sinks status, health, readiness and metrics. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { errors, ref, SinkStatusSchema, Status } from '../schemas.js';

export const systemRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/v2/sinks', {
    config: { access: 'read' },
    schema: {
      summary: 'Each sink: enabled, connected, pending (outbox lag), delivered, failed, last error',
      operationId: 'listSinks',
      tags: ['sinks'],
      response: {
        200: { ...Type.Array(ref(SinkStatusSchema)), 'x-response-description': 'Every configured sink, in configuration order; [] without an outbox' },
        ...errors(400, 401, 403, 503),
      },
    },
  }, async () => (ctx.sinks === undefined ? [] : ctx.sinks.status()));

  app.get('/healthz', {
    config: { access: 'open' },
    schema: {
      summary: 'Liveness: the process is up',
      operationId: 'getHealth',
      tags: ['health'],
      response: { 200: ref(Status, { description: '{"status":"ok"}' }), ...errors(400) },
    },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: { access: 'open' },
    schema: {
      summary: 'Readiness: the store answers and takes writes (a broker outage does not make Herald unready)',
      operationId: 'getReadiness',
      tags: ['health'],
      response: {
        200: ref(Status, { description: '{"status":"ready","store":"sqlite"} (or "postgres")' }),
        ...errors(400, [503, 'The event store does not answer, or answers but cannot write (a full disk): STORE_UNAVAILABLE, with Retry-After']),
      },
    },
  }, async () => {
    if (!(await ctx.store.ping())) {
      throw new HeraldError('STORE_UNAVAILABLE', `the event store (${ctx.store.dialect}) does not answer; check the database is running and reachable`);
    }
    // Answering reads is not enough: a store whose writes fail (a full disk) is not ready.
    const problem = ctx.store.writeProblem;
    if (problem !== undefined) {
      throw new HeraldError('STORE_UNAVAILABLE', `the event store (${ctx.store.dialect}) answers but cannot write: ${problem.message}`);
    }
    return { status: 'ready', store: ctx.store.dialect };
  });

  app.get('/metrics', {
    config: { access: 'open' },
    schema: {
      summary: 'Prometheus metrics of the service',
      operationId: 'getMetrics',
      tags: ['health'],
      response: {
        200: {
          description: 'The metrics in the Prometheus text exposition format',
          content: { 'text/plain': { schema: Type.String({ description: 'Prometheus text format 0.0.4' }) } },
        },
        ...errors(400),
      },
    },
  }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
};
