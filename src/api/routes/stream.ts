/**
 * GET /v2/events/stream: server-sent events, live, with the list's filters. Each message is
 * one event as JSON with the event id as the SSE id, so a reconnecting EventSource resumes
 * after the last event it saw (Last-Event-ID). Without one, the stream starts at "now".
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.js';
import { toEventQuery } from '../query.js';
import { errors, StreamQuery } from '../schemas.js';

const BATCH = 500;
/** Poll interval for events written by other processes or replicas. */
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

export const streamRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const open = new Set<ServerResponse>();
  let closing = false;
  app.addHook('preClose', async () => {
    // Hijacked responses would keep server.close() waiting forever: end them first.
    closing = true;
    ctx.notifier.notify();
    for (const res of open) res.end();
  });

  app.get('/v2/events/stream', {
    config: { access: 'read' },
    schema: {
      summary: 'Live events as server-sent events (text/event-stream), same filters as the list; resumes after Last-Event-ID',
      tags: ['events'],
      querystring: StreamQuery,
      produces: ['text/event-stream'],
      response: { ...errors(400, 401, 403, 503) },
    },
  }, async (request, reply) => {
    const { last_event_id: lastIdParam, ...filters } = request.query;
    const { limit: _l, offset: _o, order: _d, ...q } = toEventQuery(filters);
    const header = request.headers['last-event-id'];
    const lastId = (Array.isArray(header) ? header[0] : header) ?? lastIdParam;
    let seq = (lastId !== undefined ? await ctx.store.seqOf(lastId) : undefined) ?? (await ctx.store.lastSeq());

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(lastId !== undefined ? `: resuming after ${JSON.stringify(lastId)}\n\n` : ': live from now\n\n');
    open.add(res);
    let connected = true;
    request.raw.on('close', () => {
      connected = false;
      ctx.notifier.notify();
    });
    let lastWrite = Date.now();
    try {
      while (connected && !closing) {
        let batch: Awaited<ReturnType<typeof ctx.store.tail>> = [];
        try {
          batch = await ctx.store.tail(q, seq, BATCH);
        } catch (err) {
          res.write(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message, code: 'STORE_UNAVAILABLE' })}\n\n`);
          lastWrite = Date.now();
        }
        for (const { seq: s, event } of batch) {
          // An id with a line break would break SSE framing; such events go without an SSE id.
          const idLine = /[\r\n]/.test(event.id) ? '' : `id: ${event.id}\n`;
          res.write(`${idLine}data: ${JSON.stringify(event)}\n\n`);
          seq = s;
          lastWrite = Date.now();
        }
        if (batch.length === BATCH) continue;
        if (Date.now() - lastWrite >= KEEPALIVE_MS) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        await ctx.notifier.wait(POLL_MS);
      }
    } finally {
      open.delete(res);
      if (!res.writableEnded) res.end();
    }
  });
};
