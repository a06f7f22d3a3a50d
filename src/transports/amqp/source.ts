/**
 * Reads an AMQP (RabbitMQ) topic exchange for `herald view`, `tally` and `bridge`: binds a queue
 * with one or more patterns and consumes it with manual acks. By default the queue is exclusive,
 * auto-deleted and server-named (each reader sees every message from now on); a named queue is
 * durable, so messages wait while the reader is away and readers sharing it split the load.
 * After a dropped connection the source reconnects and declares everything again.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { HeraldError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { PushSource, sleep } from '../shared/inbox.js';
import { errorMessage } from '../shared/url.js';
import type { ReceivedMessage, Source, SourceOptions, SourceFactory } from '../types.js';
import { connectAmqp } from './connection.js';
import { fromAmqpProperties } from './mapping.js';
import { buildAmqpOptions, DEFAULT_EXCHANGE, type AmqpSourceSpec, type BuiltAmqpOptions } from './options.js';

/** Options of an AMQP source: what to read plus the common source options. */
export type AmqpSourceOptions = AmqpSourceSpec & SourceOptions;

/**
 * An AMQP source. Nothing connects until messages() is iterated; then it connects, retrying
 * every few seconds (up to 5 s apart) until close() or the signal.
 */
export class AmqpSource extends PushSource {
  private readonly log: Logger;
  private readonly built: BuiltAmqpOptions;
  private readonly exchange: string;
  private readonly bindings: string[];
  private readonly queue: string | undefined;
  private conn: ChannelModel | undefined;
  private channel: Channel | undefined;

  constructor(private readonly opts: AmqpSourceOptions) {
    super();
    this.log = (opts.logger ?? silentLogger).child({ source: 'amqp' });
    this.exchange = opts.exchange ?? DEFAULT_EXCHANGE;
    const b = opts.binding ?? '#';
    this.bindings = Array.isArray(b) ? b : [b];
    if (this.bindings.length === 0) throw new HeraldError('CONFIG', 'binding: at least one binding pattern is required (e.g. #)', { details: [{ path: 'binding', message: 'required' }] });
    this.queue = opts.queue ?? opts.group;
    this.built = buildAmqpOptions({
      url: opts.url,
      connectionName: opts.connectionName ?? 'herald-source',
      ...(opts.tls !== undefined && { tls: opts.tls }),
    });
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** Connect, declare, consume; on loss of the connection, wait and do it all again. */
  protected async run(): Promise<void> {
    let delay = 500;
    while (!this.closed) {
      let lost: Promise<string>;
      try {
        ({ lost } = await this.session());
        delay = 500;
      } catch (err) {
        if (this.closed) return;
        // Wrong credentials or a conflicting declaration will not fix themselves.
        if (err instanceof HeraldError && (err.code === 'BROKER_AUTH' || err.code === 'BROKER_REJECTED')) throw err;
        this.log.warn({ err: errorMessage(err, this.built.secrets), retryInMs: delay }, 'RabbitMQ not reachable; retrying');
        await sleep(delay, this.stop.signal);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
      const why = await lost;
      if (this.closed) return;
      this.log.warn({ reason: why }, 'RabbitMQ connection lost; reconnecting');
      await sleep(delay, this.stop.signal);
    }
  }

  /** One connection's life; `lost` settles when the connection is lost. */
  private async session(): Promise<{ lost: Promise<string> }> {
    const conn = await connectAmqp(this.built, this.opts.timeoutMs ?? 10_000, this.stop.signal);
    let signalLost!: (why: string) => void;
    const lost = new Promise<string>((r) => (signalLost = r));
    let alive = true;
    const lose = (why: string): void => {
      if (!alive) return;
      alive = false;
      signalLost(why);
      conn.close().catch(() => undefined);
    };
    conn.on('error', (err: Error) => lose(errorMessage(err, this.built.secrets)));
    conn.on('close', (err?: Error) => lose(err ? errorMessage(err, this.built.secrets) : 'connection closed'));
    if (this.closed) {
      await conn.close().catch(() => undefined);
      return { lost };
    }
    this.conn = conn;
    let ch: Channel;
    try {
      ch = await conn.createChannel();
      this.channel = ch;
      ch.on('error', (err: Error) => lose(errorMessage(err, this.built.secrets)));
      ch.on('close', () => lose('channel closed'));
      await ch.assertExchange(this.exchange, 'topic', { durable: true });
      const q = this.queue !== undefined
        ? await ch.assertQueue(this.queue, { durable: true })
        : await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      for (const pattern of this.bindings) await ch.bindQueue(q.queue, this.exchange, pattern);
      await ch.prefetch(this.opts.prefetch ?? 256);
      await ch.consume(q.queue, (msg: ConsumeMessage | null) => {
        // null: the broker cancelled the consumer (queue deleted); start over.
        if (msg === null) return lose('consumer cancelled by the broker');
        this.inbox.push(this.toReceived(msg, ch, () => alive));
      }, { noAck: false });
      this.log.info({ url: this.built.display, exchange: this.exchange, queue: q.queue, bindings: this.bindings }, 'consuming from RabbitMQ');
      this.ready.open();
    } catch (err) {
      alive = false;
      await conn.close().catch(() => undefined);
      const code = (err as { code?: unknown }).code;
      // 403/404/405/406: the broker refused a declaration (e.g. the exchange exists with
      // another type, or the user may not declare); anything else is an outage, retried.
      if (typeof code !== 'number' || code < 400 || code >= 500) throw new HeraldError('BROKER_UNAVAILABLE', `RabbitMQ connection lost while declaring: ${errorMessage(err, this.built.secrets)}`);
      throw new HeraldError('BROKER_REJECTED', `cannot consume exchange ${this.exchange} on ${this.built.display}: ${errorMessage(err, this.built.secrets)}`, { cause: err });
    }
    return { lost };
  }

  private toReceived(msg: ConsumeMessage, ch: Channel, alive: () => boolean): ReceivedMessage {
    const out: ReceivedMessage = {
      transport: 'amqp',
      topic: msg.fields.routingKey,
      value: msg.content,
      ...fromAmqpProperties(msg.properties as { headers?: Record<string, unknown>; contentType?: unknown; messageId?: unknown }),
      // A delivery tag belongs to its channel; after a reconnect the broker redelivers instead.
      ack: async () => {
        if (alive()) ch.ack(msg);
      },
    };
    if (typeof msg.properties.timestamp === 'number') out.timestamp = msg.properties.timestamp * 1000;
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    const conn = this.conn;
    const ch = this.channel;
    this.conn = undefined;
    this.channel = undefined;
    // The channel first: closing it waits for the broker, so the acks sent on it are processed
    // before the connection goes (closing only the connection lost the last acks: the message
    // came back to a named queue).
    if (ch !== undefined) await ch.close().catch(() => undefined);
    if (conn !== undefined) await conn.close().catch(() => undefined);
    this.ready.open();
    this.inbox.end();
  }
}

/** Creates an AMQP source (not connected until messages() is iterated). */
export function createAmqpSource(options: AmqpSourceOptions): Source {
  return new AmqpSource(options);
}

/** The source factory the transport registry loads. */
export const sourceFactory: SourceFactory<AmqpSourceSpec> = (spec, options) => new AmqpSource({ ...spec, ...options });
