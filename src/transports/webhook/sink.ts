/**
 * The webhook sink: each message is POSTed to one endpoint with Standard Webhooks headers,
 * over a pooled keep-alive HTTP client (undici's Agent: a fixed number of connections per
 * endpoint, TLS with a custom CA and client certificate, redirects never followed).
 *
 * Order: messages of one key are sent one after another — the next only once the previous
 * was acknowledged — while different keys go in parallel (up to `concurrency`). When a
 * message of a key fails transiently, the later messages of that key in the batch are not
 * sent, so a receiver never sees them before the retry of the earlier one.
 *
 * Back-pressure: an endpoint that is unreachable, times out, rate-limits (429) or is
 * overloaded (502-504) stops the batch (no further requests); a `Retry-After` it sends holds
 * every request back until that time (publish fails fast meanwhile, and the outbox keeps
 * the events and retries with its backoff).
 */
import { setMaxListeners } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent } from 'undici';
import { HeraldError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EndpointStatus, OutgoingMessage, PublishOutcome, Sink, SinkBase, SinkDeps, SinkFactory } from '../types.js';
import { classifyRequestError, classifyStatus, SNIPPET_BYTES, type AttemptFailure } from './errors.js';
import { toBatchRequest, toWebhookRequest, UnsendableMessage, webhookIds, type WebhookRequest } from './mapping.js';
import type { WebhookResolved } from './options.js';
import { signatureHeader, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP } from './signature.js';

const USER_AGENT = 'herald-webhooks';
/** Recent round-trip times kept for the percentiles. */
const SAMPLES = 1024;

type Failure = Extract<PublishOutcome, { ok: false }>;

/** Round-trip times and the last answer of one endpoint. */
class EndpointStats {
  readonly #times = new Float64Array(SAMPLES);
  #count = 0;
  #last: number | null = null;
  #lastStatus: number | null = null;
  #lastAt: number | null = null;
  #requests = 0;
  #succeeded = 0;

  answered(status: number, ms: number): void {
    this.#requests++;
    if (status >= 200 && status < 300) this.#succeeded++;
    this.#lastStatus = status;
    this.#lastAt = Date.now();
    this.#last = ms;
    this.#times[this.#count % SAMPLES] = ms;
    this.#count++;
  }

  unanswered(): void {
    this.#requests++;
  }

  snapshot(url: string, retryAfterUntil: number): EndpointStatus {
    const n = Math.min(this.#count, SAMPLES);
    const sorted = Array.from(this.#times.subarray(0, n)).sort((a, b) => a - b);
    const pick = (q: number) => (n === 0 ? null : round(sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!));
    return {
      url,
      lastStatus: this.#lastStatus,
      lastResponseAt: this.#lastAt === null ? null : new Date(this.#lastAt).toISOString(),
      requests: this.#requests,
      succeeded: this.#succeeded,
      latencyMs: { last: this.#last === null ? null : round(this.#last), p50: pick(0.5), p99: pick(0.99), max: n === 0 ? null : round(sorted[n - 1]!) },
      retryAfterUntil: retryAfterUntil > Date.now() ? new Date(retryAfterUntil).toISOString() : null,
    };
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** The result of one request. */
type Attempt = { ok: true } | ({ ok: false } & AttemptFailure);

export class WebhookSink implements Sink {
  readonly name: string;
  readonly type = 'webhook' as const;
  readonly #o: WebhookResolved;
  readonly #log: Logger;
  readonly #stats = new EndpointStats();
  #agent: Agent | undefined;
  #up = false;
  #closed = false;
  /** Retry-After: no request before this time (ms since the epoch). */
  #notBefore = 0;
  #lastDeliveries: { topic: string }[] = [];

  constructor(base: SinkBase, o: WebhookResolved, deps: SinkDeps) {
    this.name = base.name;
    this.#o = o;
    this.#log = deps.logger.child({ sink: base.name, transport: 'webhook' });
    if (o.keys.length === 0) {
      this.#log.warn({ url: o.endpoint.display }, `webhook sink ${base.name}: requests to ${o.endpoint.display} are not signed; set secret (or HERALD_WEBHOOK_SECRET) so the receiver can verify them`);
    }
  }

  get connected(): boolean {
    return this.#up && !this.#closed;
  }

  get lastDeliveries(): readonly { topic: string }[] {
    return this.#lastDeliveries;
  }

  endpoint(): EndpointStatus {
    return this.#stats.snapshot(this.#o.endpoint.display, this.#notBefore);
  }

  #client(): Agent {
    if (this.#closed) throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
    this.#agent ??= new Agent({
      connections: this.#o.concurrency,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: this.#o.timeoutMs,
      bodyTimeout: this.#o.timeoutMs,
      connect: {
        timeout: this.#o.timeoutMs,
        ...(this.#o.tls?.ca !== undefined && { ca: this.#o.tls.ca }),
        ...(this.#o.tls?.cert !== undefined && { cert: this.#o.tls.cert }),
        ...(this.#o.tls?.key !== undefined && { key: this.#o.tls.key }),
      },
    });
    return this.#agent;
  }

  /**
   * Opens one TCP (and TLS) connection to the endpoint and closes it again: an address that
   * refuses, or a certificate that is not trusted, shows up at start-up rather than at the
   * first event. Sends no request.
   */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
    const e = this.#o.endpoint;
    await new Promise<void>((resolve, reject) => {
      let socket: Socket | undefined;
      const fail = (err: unknown, timedOut = false) => {
        cleanup();
        socket?.destroy();
        reject(classifyRequestError(err, e.display, this.#o.secrets, this.#o.timeoutMs, timedOut).error);
      };
      const timer = setTimeout(() => fail(new Error('timeout'), true), this.#o.timeoutMs);
      const onAbort = () => fail(new Error('aborted'), true);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const done = () => {
        cleanup();
        socket?.end();
        socket?.destroy();
        resolve();
      };
      try {
        socket = this.#dial(done);
      } catch (err) {
        fail(err);
        return;
      }
      socket.once('error', (err) => fail(err));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.#up = true;
  }

  /** A TCP (or TLS) connection to the endpoint, `done` called once it is established. */
  #dial(done: () => void): Socket {
    const e = this.#o.endpoint;
    if (!e.tls) return netConnect({ host: e.hostname, port: e.port }, done);
    const isIp = /^[\d.]+$|:/.test(e.hostname);
    return tlsConnect({
      host: e.hostname,
      port: e.port,
      ...(!isIp && { servername: e.hostname }),
      ALPNProtocols: ['http/1.1'],
      ...(this.#o.tls?.ca !== undefined && { ca: this.#o.tls.ca }),
      ...(this.#o.tls?.cert !== undefined && { cert: this.#o.tls.cert }),
      ...(this.#o.tls?.key !== undefined && { key: this.#o.tls.key }),
    }, done);
  }

  async publish(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    if (this.#closed) throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
    if (messages.length === 0) return [];
    const wait = this.#notBefore - Date.now();
    if (wait > 0) {
      throw new HeraldError('BROKER_UNAVAILABLE', `${this.#o.endpoint.display} asked to wait (Retry-After): no request before ${new Date(this.#notBefore).toISOString()}`);
    }
    // Aborted by the caller's deadline: requests in flight are cancelled, and what was not
    // acknowledged is reported as a transient failure (retried), what was stays delivered.
    const batch = new AbortController();
    setMaxListeners(this.#o.concurrency + 16, batch.signal);
    const onAbort = () => batch.abort();
    if (signal?.aborted) batch.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const outcomes: (PublishOutcome | undefined)[] = new Array(messages.length);
    const state: { halt: HeraldError | undefined } = { halt: undefined };
    try {
      const ids = webhookIds(messages);
      if (this.#o.batch !== undefined) await this.#sendBatches(messages, ids, outcomes, state, batch.signal);
      else await this.#sendLanes(messages, ids, outcomes, state, batch.signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const notSent = (): Failure => ({
      ok: false,
      permanent: false,
      error: state.halt !== undefined
        ? new HeraldError(state.halt.code, `not sent: ${state.halt.message}`)
        : new HeraldError('TIMEOUT', `not sent: the publish to ${this.#o.endpoint.display} was cut short (its deadline passed)`),
    });
    // Array.from, not map: map skips the holes of messages that were never sent.
    const result = Array.from(outcomes, (o) => o ?? notSent());
    if (result.some((o) => o.ok)) this.#lastDeliveries = [{ topic: this.#o.endpoint.display }];
    return result;
  }

  /** One request per message: keys in parallel lanes, each lane in order. */
  async #sendLanes(messages: readonly OutgoingMessage[], ids: readonly string[], outcomes: (PublishOutcome | undefined)[], state: { halt: HeraldError | undefined }, signal: AbortSignal): Promise<void> {
    const lanes: number[][] = [];
    const byKey = new Map<string, number[]>();
    messages.forEach((m, i) => {
      if (m.key === undefined) {
        lanes.push([i]);
        return;
      }
      let lane = byKey.get(m.key);
      if (lane === undefined) {
        lane = [];
        byKey.set(m.key, lane);
        lanes.push(lane);
      }
      lane.push(i);
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < lanes.length && state.halt === undefined && !signal.aborted) {
        const lane = lanes[next++]!;
        for (let j = 0; j < lane.length; j++) {
          if (state.halt !== undefined || signal.aborted) break;
          const i = lane[j]!;
          let request: WebhookRequest;
          try {
            request = toWebhookRequest(messages[i]!, ids[i]!);
          } catch (err) {
            outcomes[i] = this.#unsendable(err);
            continue;
          }
          const r = await this.#attempt(request, signal);
          if (r.ok) {
            outcomes[i] = { ok: true };
            continue;
          }
          outcomes[i] = { ok: false, permanent: r.permanent, error: r.error };
          if (r.endpointDown) state.halt ??= r.error;
          if (!r.permanent) {
            const key = messages[i]!.key!;
            for (const later of lane.slice(j + 1)) {
              outcomes[later] = { ok: false, permanent: false, error: new HeraldError(r.error.code, `not sent: an earlier event of key ${key} was not delivered (${r.error.message})`) };
            }
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, lanes.length) }, worker));
  }

  /** Batched mode: requests of up to `batch` structured events, one after another (order kept across keys). */
  async #sendBatches(messages: readonly OutgoingMessage[], ids: readonly string[], outcomes: (PublishOutcome | undefined)[], state: { halt: HeraldError | undefined }, signal: AbortSignal): Promise<void> {
    const size = this.#o.batch!;
    for (let start = 0; start < messages.length; start += size) {
      if (state.halt !== undefined || signal.aborted) return;
      const idx = Array.from({ length: Math.min(size, messages.length - start) }, (_, k) => start + k);
      let request: WebhookRequest;
      try {
        request = toBatchRequest(idx.map((i) => messages[i]!), idx.map((i) => ids[i]!));
      } catch (err) {
        for (const i of idx) outcomes[i] = this.#unsendable(err);
        continue;
      }
      const r = await this.#attempt(request, signal);
      for (const i of idx) outcomes[i] = r.ok ? { ok: true } : { ok: false, permanent: r.permanent, error: r.error };
      if (!r.ok && !r.permanent) {
        // The next batches would overtake this one's events: stop here.
        state.halt = r.error;
        return;
      }
    }
  }

  #unsendable(err: unknown): Failure {
    const msg = err instanceof UnsendableMessage ? err.message : String(err);
    return { ok: false, permanent: true, error: new HeraldError('BROKER_REJECTED', `cannot be sent to ${this.#o.endpoint.display}: ${msg}`) };
  }

  /** One POST: Herald's headers, the configured ones, a fresh timestamp and its signatures. */
  async #attempt(req: WebhookRequest, batchSignal: AbortSignal): Promise<Attempt> {
    const o = this.#o;
    const timestamp = Math.floor(Date.now() / 1000);
    // The configured headers may replace the user agent, never Herald's own headers.
    const headers: Record<string, string> = { ...req.headers, 'user-agent': USER_AGENT, ...o.headers, [WEBHOOK_ID]: req.id, [WEBHOOK_TIMESTAMP]: String(timestamp) };
    if (o.keys.length > 0) headers[WEBHOOK_SIGNATURE] = signatureHeader(o.keys, req.id, timestamp, req.body);
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, o.timeoutMs);
    const onBatchAbort = () => ac.abort();
    batchSignal.addEventListener('abort', onBatchAbort, { once: true });
    const t0 = performance.now();
    try {
      const res = await this.#client().request({
        origin: o.endpoint.origin,
        path: o.endpoint.path,
        method: 'POST',
        headers,
        body: req.body ?? '',
        signal: ac.signal,
      });
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      // A 2xx body is read and dropped (the connection is reused); of others, the first bytes.
      const body = ok ? await res.body.dump({ limit: 64 * 1024 }).then(() => Buffer.alloc(0)) : await readPrefix(res.body, SNIPPET_BYTES + 1);
      this.#stats.answered(res.statusCode, performance.now() - t0);
      this.#up = true;
      if (ok) return { ok: true };
      const f = classifyStatus(res.statusCode, res.headers, body, o.endpoint.display, o.secrets);
      if (f.retryAfterMs !== undefined && f.retryAfterMs > 0) this.#notBefore = Math.max(this.#notBefore, Date.now() + f.retryAfterMs);
      return { ok: false, ...f };
    } catch (err) {
      this.#stats.unanswered();
      if (batchSignal.aborted && !timedOut) {
        return { ok: false, permanent: false, endpointDown: true, error: new HeraldError('TIMEOUT', `POST ${o.endpoint.display}: cut short, no answer before the publish's deadline`) };
      }
      const f = classifyRequestError(err, o.endpoint.display, o.secrets, o.timeoutMs, timedOut);
      if (f.endpointDown && f.error.code !== 'TIMEOUT') this.#up = false;
      return { ok: false, ...f };
    } finally {
      clearTimeout(timer);
      batchSignal.removeEventListener('abort', onBatchAbort);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    const agent = this.#agent;
    this.#agent = undefined;
    if (agent === undefined) return;
    // Requests in flight finish (each bounded by the request timeout); then the pool closes.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), this.#o.timeoutMs + 1000);
    });
    const r = await Promise.race([agent.close().then(() => 'closed' as const, () => 'late' as const), late]);
    clearTimeout(timer);
    if (r === 'late') await agent.destroy().catch(() => undefined);
  }
}

/** Up to `max` bytes of a body; the rest is not read (the connection is dropped). */
async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): void }, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= max) break;
    }
  } catch {
    // A body cut off half-way: quote what arrived.
  }
  body.destroy();
  return Buffer.concat(chunks);
}

/** The sink factory the transport registry loads. */
export const sinkFactory: SinkFactory<WebhookResolved> = (base, resolved, deps) => new WebhookSink(base, resolved, deps);
