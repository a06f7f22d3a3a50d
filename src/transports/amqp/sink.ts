/**
 * The AMQP sink (RabbitMQ, AMQP 0-9-1): persistent, mandatory publishes to a durable topic
 * exchange over a ConfirmChannel; a message is ok only once the broker confirmed it and did
 * not return it as unroutable. After a dropped connection the next connect/publish reconnects.
 */
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { HeraldError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { within } from '../shared/deadline.js';
import { errorMessage } from '../shared/url.js';
import type { OutgoingMessage, PublishOutcome, Sink, SinkBase, SinkDeps, SinkFactory } from '../types.js';
import { connectAmqp } from './connection.js';
import { amqpPublishOptions, basicPublishFrame } from './mapping.js';
import type { AmqpResolved, BuiltAmqpOptions } from './options.js';

const EMPTY = Buffer.alloc(0);

/** One publish waiting for its confirm; `returned` is set when the broker sent it back. */
interface Pending {
  routingKey: string;
  /** The published messageId property (none for messages whose upstream sends none). */
  messageId: string | undefined;
  returned: boolean;
}

/** The two channel methods amqplib's ConfirmChannel.publish() is made of (amqplib 2.3.1). */
interface RawConfirmChannel {
  sendMessage(fields: object, properties: object, content: Buffer): boolean;
  pushConfirmCallback(cb: (err: unknown) => void): void;
}

/**
 * Publishes like ConfirmChannel.publish(), but without the empty headers table amqplib's
 * publish() always adds when the message has no headers: a consumer then sees no headers
 * property, as from an upstream publishing bare messages (see basicPublishFrame).
 */
function confirmPublish(ch: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, opts: Options.Publish, cb: (err: unknown) => void): boolean {
  if (opts.headers !== undefined) return ch.publish(exchange, routingKey, content, opts, cb);
  const raw = ch as unknown as RawConfirmChannel;
  const frame = basicPublishFrame(exchange, routingKey, opts);
  const accepted = raw.sendMessage(frame, frame, content);
  raw.pushConfirmCallback(cb);
  return accepted;
}

/** A live connection with its confirm channel and the publishes awaiting confirmation. */
interface Link {
  conn: ChannelModel;
  ch: ConfirmChannel;
  pending: Pending[];
  /** Set when the connection or channel closed; publishes on this link then fail as a batch. */
  lost: Error | undefined;
}

/** An AMQP sink from resolved options (see options.ts). Does not connect until connect()/publish(). */
export class AmqpSink implements Sink {
  readonly name: string;
  readonly type = 'amqp' as const;
  private readonly built: BuiltAmqpOptions;
  private readonly exchange: string;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private link: Link | undefined;
  private connecting: Promise<Link> | undefined;
  private closed = false;

  constructor(base: SinkBase, o: AmqpResolved, deps: SinkDeps) {
    this.name = base.name;
    this.log = deps.logger.child({ sink: base.name, transport: 'amqp' });
    this.exchange = o.exchange;
    this.timeoutMs = o.timeoutMs;
    // RabbitMQ shows (and `rabbitmqctl close_connection` can target) the connection by this name.
    this.built = { ...o.built, socket: { ...o.built.socket, clientProperties: { connection_name: `herald-sink-${base.name}` } } };
  }

  get connected(): boolean {
    return this.link !== undefined && this.link.lost === undefined;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    await this.ensureLink(signal);
  }

  private async ensureLink(signal?: AbortSignal): Promise<Link> {
    if (this.closed) throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
    if (this.link !== undefined && this.link.lost === undefined) return this.link;
    this.connecting ??= this.open(signal).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(signal?: AbortSignal): Promise<Link> {
    const old = this.link;
    this.link = undefined;
    if (old !== undefined) await old.conn.close().catch(() => undefined);
    const conn = await connectAmqp(this.built, this.timeoutMs, signal);
    const link: Link = { conn, ch: undefined as unknown as ConfirmChannel, pending: [], lost: undefined };
    const lose = (err: Error | undefined, what: string) => {
      if (link.lost !== undefined) return;
      link.lost = err ?? new Error(what);
      if (!this.closed) this.log.warn({ err: errorMessage(link.lost, this.built.secrets) }, `RabbitMQ ${what}; the next publish reconnects`);
    };
    // Without an 'error' listener a dropped connection would crash the process.
    conn.on('error', (err: Error) => lose(err, 'connection failed'));
    conn.on('close', (err?: Error) => lose(err, 'connection closed'));
    conn.on('blocked', (reason: string) => this.log.warn({ reason }, 'RabbitMQ blocked publishing (resource alarm)'));
    try {
      if (this.closed) throw new HeraldError('CLOSED', `sink ${this.name} is closed`);
      link.ch = await this.bounded(conn.createConfirmChannel(), 'opening a confirm channel', signal);
      link.ch.on('error', (err: Error) => lose(err, 'channel failed'));
      link.ch.on('close', () => lose(undefined, 'channel closed'));
      link.ch.on('return', (msg: Message) => this.onReturn(link, msg));
      await this.bounded(link.ch.assertExchange(this.exchange, 'topic', { durable: true }), `asserting exchange ${this.exchange}`, signal);
    } catch (err) {
      await conn.close().catch(() => undefined);
      if (err instanceof HeraldError) throw err;
      // e.g. PRECONDITION_FAILED: the exchange exists with another type or durability.
      throw new HeraldError('BROKER_REJECTED', `sink ${this.name}: cannot use exchange ${this.exchange} on ${this.built.display}: ${errorMessage(err, this.built.secrets)}`, { cause: err });
    }
    this.link = link;
    this.log.info({ url: this.built.display, exchange: this.exchange }, 'connected to RabbitMQ');
    return link;
  }

  /**
   * RabbitMQ sends basic.return before the basic.ack of the same message, and both in publish
   * order, so a return belongs to the oldest unconfirmed, not yet returned publish with the
   * same routing key and message id (both without one for bare messages).
   */
  private onReturn(link: Link, msg: Message): void {
    const p = link.pending.find((x) => !x.returned && x.routingKey === msg.fields.routingKey && x.messageId === (msg.properties.messageId as string | undefined));
    if (p !== undefined) p.returned = true;
  }

  async publish(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<PublishOutcome[]> {
    if (messages.length === 0) return [];
    const link = await this.ensureLink(signal);
    const waits: Promise<PublishOutcome>[] = [];
    for (const m of messages) {
      if (link.lost !== undefined) break;
      if (signal?.aborted) throw new HeraldError('TIMEOUT', 'publishing to RabbitMQ was aborted');
      const opts = amqpPublishOptions(m);
      const entry: Pending = { routingKey: m.topic, messageId: opts.messageId, returned: false };
      let accepted: boolean;
      let settle!: (o: PublishOutcome) => void;
      const done = new Promise<PublishOutcome>((resolve) => (settle = resolve));
      try {
        link.pending.push(entry);
        accepted = confirmPublish(link.ch, this.exchange, m.topic, m.value ?? EMPTY, opts, (err: unknown) => {
          const i = link.pending.indexOf(entry);
          if (i >= 0) link.pending.splice(i, 1);
          settle(this.outcome(m, entry, err));
        });
      } catch (err) {
        const i = link.pending.indexOf(entry);
        if (i >= 0) link.pending.splice(i, 1);
        if (link.lost !== undefined) break;
        // amqplib throws synchronously for a headers table beyond its encoding buffer.
        waits.push(Promise.resolve({ ok: false, permanent: true, error: new HeraldError('BROKER_REJECTED', `message for routing key ${m.topic} cannot be encoded: ${errorMessage(err, this.built.secrets)}`) }));
        continue;
      }
      waits.push(done);
      // Backpressure: wait until the socket drained before writing more.
      if (!accepted) await this.bounded(new Promise<void>((r) => link.ch.once('drain', () => r())), 'waiting for the RabbitMQ socket to drain', signal);
    }
    if (link.lost !== undefined) throw this.lostError(link);
    const outcomes = await this.bounded(Promise.all(waits), 'waiting for RabbitMQ confirms', signal);
    // Confirms of a channel that closed arrive as errors; the outage is the batch's failure.
    if (link.lost !== undefined && outcomes.some((o) => !o.ok && !o.permanent)) throw this.lostError(link);
    return outcomes;
  }

  private lostError(link: Link): HeraldError {
    return new HeraldError('BROKER_UNAVAILABLE', `RabbitMQ connection to ${this.built.display} lost while publishing: ${errorMessage(link.lost, this.built.secrets)}`);
  }

  /**
   * A returned (unroutable: no queue bound for the routing key) message is a permanent
   * BROKER_REJECTED outcome: retrying would hold back every later event until some consumer
   * binds a queue, and the outbox keeps the parked message for `herald replay`.
   */
  private outcome(m: OutgoingMessage, entry: Pending, err: unknown): PublishOutcome {
    if (err !== null && err !== undefined) {
      return { ok: false, permanent: false, error: new HeraldError('BROKER_UNAVAILABLE', `RabbitMQ did not confirm the message for routing key ${m.topic}: ${errorMessage(err, this.built.secrets)}`) };
    }
    if (entry.returned) {
      return { ok: false, permanent: true, error: new HeraldError('BROKER_REJECTED', `unroutable: no queue is bound to exchange ${this.exchange} for routing key ${m.topic}`) };
    }
    return { ok: true };
  }

  /** Awaits `p` within the sink's timeout and the caller's signal. */
  private bounded<T>(p: Promise<T>, what: string, signal?: AbortSignal): Promise<T> {
    return within(p, this.timeoutMs, what, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const link = this.link;
    this.link = undefined;
    if (link === undefined) return;
    if (link.lost === undefined) {
      // Let outstanding confirms arrive before closing (close() flushes).
      await this.bounded(link.ch.waitForConfirms(), 'waiting for RabbitMQ confirms').catch(() => undefined);
    }
    await link.conn.close().catch(() => undefined);
  }
}

/** The sink factory the transport registry loads. */
export const sinkFactory: SinkFactory<AmqpResolved> = (base, resolved, deps) => new AmqpSink(base, resolved, deps);
