/**
 * The NATS sink: JetStream publishes acknowledged by the stream (default), or core NATS
 * fire-and-forget publishes confirmed only by a flush (`jetstream: false`).
 */
import {
  DiscardPolicy,
  ErrorCode,
  Events,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamClient,
  type NatsConnection,
  type PubAck,
} from 'nats';
import { HeraldError, isHeraldError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { within } from '../shared/deadline.js';
import { errorMessage } from '../shared/url.js';
import type { OutgoingMessage, PublishOutcome, Sink, SinkBase, SinkDeps, SinkFactory } from '../types.js';
import type { NatsResolved } from './options.js';
import { connectNats } from './connection.js';
import { classifyNatsError } from './errors.js';
import {
  DUPLICATE_WINDOW_MS,
  defaultStreamSubjects,
  natsHeaderPairs,
  natsMessageIds,
  toNatsHeaders,
} from './mapping.js';

/** JetStream publishes in flight at once; NATS keeps their order on one connection. */
const MAX_IN_FLIGHT = 256;
const EMPTY = new Uint8Array(0);

/**
 * A NATS sink from resolved options (see options.ts): JetStream by default, core NATS with
 * `jetstream: false`. Does not connect until connect()/publish().
 */
export class NatsSink implements Sink {
  readonly name: string;
  readonly type = 'nats' as const;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly subjects: string[];
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<NatsConnection> | undefined;
  /** False while the client is disconnected and reconnecting, so publishes fail fast. */
  private up = false;
  private closed = false;

  constructor(base: SinkBase, private readonly o: NatsResolved, deps: SinkDeps) {
    this.name = base.name;
    this.log = deps.logger.child({ sink: base.name, transport: 'nats' });
    this.timeoutMs = o.timeoutMs;
    this.subjects = o.subjects ?? defaultStreamSubjects(base.profile ?? '', base.topic ?? 'herald.events');
  }

  private get built() {
    return this.o.settings;
  }

  get connected(): boolean {
    return this.up && this.nc !== undefined && !this.nc.isClosed();
  }

  async connect(signal?: AbortSignal): Promise<void> {
    await this.connection(signal);
  }

  private async connection(signal?: AbortSignal): Promise<NatsConnection> {
    if (this.closed) throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
    if (this.nc !== undefined && !this.nc.isClosed()) return this.nc;
    // Concurrent callers share one attempt; a failed attempt is forgotten so the next call retries.
    this.connecting ??= this.dial(signal).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async dial(signal?: AbortSignal): Promise<NatsConnection> {
    const nc = await connectNats(this.built, this.timeoutMs, signal);
    if (this.closed) {
      await nc.close().catch(() => undefined);
      throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
    }
    try {
      if (this.o.jetstream && this.o.createStream) await this.ensureStream(nc);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
    this.nc = nc;
    this.js = nc.jetstream({ timeout: this.timeoutMs });
    this.up = true;
    this.watch(nc);
    this.log.info({ url: this.built.display, jetstream: this.o.jetstream }, 'connected to NATS');
    return nc;
  }

  /** Follows the client's status so `connected` and fast failure reflect reconnects. */
  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) {
          this.up = false;
          this.log.warn({ url: this.built.display }, 'NATS connection lost; reconnecting');
        } else if (s.type === Events.Reconnect) {
          this.up = true;
          this.log.info({ url: this.built.display }, 'NATS connection restored');
        }
      }
    })().catch(() => undefined);
    void nc.closed().then((err) => {
      if (this.nc === nc) {
        this.up = false;
        this.nc = undefined;
        this.js = undefined;
      }
      if (err) this.log.warn({ err: errorMessage(err, this.built.secrets) }, 'NATS connection closed');
    });
  }

  /** Creates the stream, or adds missing subjects to an existing one (never removes any). */
  private async ensureStream(nc: NatsConnection): Promise<void> {
    const stream = this.o.stream;
    const subjects = this.subjects;
    try {
      const jsm = await nc.jetstreamManager({ timeout: this.timeoutMs });
      let info;
      try {
        info = await jsm.streams.info(stream);
      } catch (err) {
        if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== 10059) throw err;
      }
      if (info === undefined) {
        await jsm.streams.add({
          name: stream,
          subjects,
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          discard: DiscardPolicy.Old,
          duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        });
        this.log.info({ stream, subjects }, 'created JetStream stream');
      } else {
        const have = new Set(info.config.subjects ?? []);
        const missing = subjects.filter((s) => !have.has(s));
        if (missing.length > 0) {
          await jsm.streams.update(stream, { ...info.config, subjects: [...have, ...missing] });
          this.log.info({ stream, added: missing }, 'added subjects to JetStream stream');
        }
      }
    } catch (err) {
      if (isHeraldError(err)) throw err;
      const api = (err as { api_error?: { description?: string } }).api_error;
      throw new HeraldError('BROKER_REJECTED', `sink ${this.name}: cannot create JetStream stream ${stream} with subjects ${subjects.join(', ')}: ${api?.description ?? errorMessage(err, this.built.secrets)}`, { cause: err });
    }
  }

  async publish(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    if (messages.length === 0) return [];
    const nc = await this.connection(signal);
    if (!this.up) {
      // The client would buffer the publishes until it reconnects; failing now lets the outbox
      // keep them durable and report the outage instead.
      throw new HeraldError('BROKER_UNAVAILABLE', `NATS at ${this.built.display} is unreachable (reconnecting)`);
    }
    return this.o.jetstream && this.js !== undefined
      ? this.publishJetStream(this.js, messages, signal)
      : this.publishCore(nc, messages, signal);
  }

  private async publishCore(nc: NatsConnection, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    const outcomes: PublishOutcome[] = [];
    let sent = 0;
    for (const m of messages) {
      try {
        const h = toNatsHeaders(natsHeaderPairs(m));
        nc.publish(m.topic, m.value ?? EMPTY, h === undefined ? undefined : { headers: h });
        outcomes.push({ ok: true });
        sent++;
      } catch (err) {
        const f = classifyNatsError(err, m.topic, this.built.secrets);
        if (f.batch) throw f.error;
        outcomes.push({ ok: false, permanent: f.permanent, error: f.error });
      }
    }
    // Core NATS has no acknowledgement; a flush (PING/PONG) proves the server has read them.
    if (sent > 0) await this.bounded(nc.flush(), 'flushing to NATS', signal);
    return outcomes;
  }

  private async publishJetStream(js: JetStreamClient, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    const ids = natsMessageIds(messages);
    const results: (PublishOutcome | undefined)[] = new Array(messages.length);
    let batchError: HeraldError | undefined;
    let noStream = false;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < messages.length; i++) {
      if (batchError !== undefined) break;
      if (signal?.aborted) throw new HeraldError('TIMEOUT', `publishing to NATS was aborted`);
      const m = messages[i]!;
      const id = ids[i]!;
      const p = js
        .publish(m.topic, m.value ?? EMPTY, { headers: toNatsHeaders(natsHeaderPairs(m, id))!, timeout: this.timeoutMs })
        .then(
          (ack: PubAck) => {
            if (ack.duplicate) this.log.debug({ subject: m.topic, id, seq: ack.seq }, 'JetStream dropped a duplicate');
            results[i] = { ok: true };
          },
          (err: unknown) => {
            if ((err as { code?: unknown }).code === ErrorCode.NoResponders) noStream = true;
            const f = classifyNatsError(err, m.topic, this.built.secrets);
            if (f.batch || !this.up) batchError ??= f.batch ? f.error : new HeraldError('BROKER_UNAVAILABLE', `NATS connection lost while publishing: ${f.error.message}`);
            results[i] = { ok: false, permanent: f.permanent, error: f.error };
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    }
    await this.bounded(Promise.all(inFlight), 'waiting for JetStream acknowledgements', signal);
    if (batchError !== undefined) throw batchError;
    if (noStream && this.o.createStream && this.nc !== undefined) {
      // The stream vanished (deleted, or a server that lost its store): create it again so the
      // outbox's retry succeeds.
      await this.ensureStream(this.nc).catch((err: unknown) => this.log.warn({ err: errorMessage(err, this.built.secrets) }, 'cannot re-create the JetStream stream'));
    }
    return results.map((r) => r ?? { ok: false, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', 'not published') });
  }

  /** Awaits `p` within the sink's timeout and the caller's signal. */
  private bounded<T>(p: Promise<T>, what: string, signal?: AbortSignal): Promise<T> {
    return within(p, this.timeoutMs + 1000, what, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.connecting;
    if (pending !== undefined) await pending.catch(() => undefined);
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    this.up = false;
    if (nc !== undefined && !nc.isClosed()) {
      // drain() flushes what is buffered and waits for in-flight acknowledgements.
      await this.bounded(nc.drain(), 'draining the NATS connection').catch(async () => {
        await nc.close().catch(() => undefined);
      });
    }
  }
}

/** The sink factory the transport registry loads; the connection is named after the sink. */
export const sinkFactory: SinkFactory<NatsResolved> = (base, resolved, deps) =>
  new NatsSink(base, { ...resolved, settings: { ...resolved.settings, name: `herald-sink-${base.name}` } }, deps);
