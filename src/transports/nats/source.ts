/**
 * Reads NATS subjects for `herald view`, `tally` and `bridge`: a core subscription (live,
 * broadcast; a `group` makes it a queue group) by default, or JetStream consumers when a
 * `stream` or `durable` is named or history is asked for (`from: 'beginning'`).
 */
import {
  AckPolicy,
  ConsumerEvents,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { HeraldError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { PushSource, sleep } from '../shared/inbox.js';
import { errorMessage } from '../shared/url.js';
import type { ReceivedMessage, Source, SourceOptions, SourceFactory } from '../types.js';
import { connectNats } from './connection.js';
import { fromNatsHeaders } from './mapping.js';
import { resolveNatsSettings, type NatsSettings, type NatsSourceSpec } from './options.js';

/** Options of a NATS source: what to read plus the common source options. */
export type NatsSourceOptions = NatsSourceSpec & SourceOptions;

const NOOP_ACK = async (): Promise<void> => undefined;
/** Invalid characters of a durable name (`.`, wildcards, whitespace). */
const BAD_DURABLE = /[.*>\s]/;

/**
 * A NATS source. Nothing connects until messages() is iterated. While iterating, the client
 * reconnects by itself after an outage (unbounded attempts); the first connection is retried
 * every few seconds until it succeeds, close() is called or the signal aborts.
 */
export class NatsSource extends PushSource {
  private readonly log: Logger;
  private readonly built: NatsSettings;
  private nc: NatsConnection | undefined;
  private readonly subs: Subscription[] = [];
  private readonly iters: ConsumerMessages[] = [];
  private readonly subjects: string[];

  constructor(private readonly opts: NatsSourceOptions) {
    super();
    this.log = (opts.logger ?? silentLogger).child({ source: 'nats' });
    this.subjects = opts.subjects ?? ['>'];
    if (this.subjects.length === 0 || this.subjects.some((x) => x.trim() === '')) {
      throw new HeraldError('CONFIG', 'subjects: give at least one non-empty NATS subject (wildcards * and > allowed)', { details: [{ path: 'subjects', message: 'required' }] });
    }
    const durable = opts.durable ?? (this.jetstream ? opts.group : undefined);
    if (durable !== undefined && (durable === '' || BAD_DURABLE.test(durable))) {
      throw new HeraldError('CONFIG', `durable: "${durable}" is not a valid JetStream consumer name (no '.', '*', '>' or spaces)`, { details: [{ path: 'durable', message: 'invalid name' }] });
    }
    this.built = resolveNatsSettings({
      url: opts.url,
      name: 'herald-source',
      timeoutMs: opts.timeoutMs ?? 10_000,
      ...(opts.token !== undefined && { token: opts.token }),
      ...(opts.creds !== undefined && { creds: opts.creds }),
      ...(opts.tls !== undefined && { tls: opts.tls }),
      ...(opts.env !== undefined && { env: opts.env }),
    });
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** JetStream when a stream or durable is named, or history is wanted. */
  private get jetstream(): boolean {
    return this.opts.stream !== undefined || this.opts.durable !== undefined || this.opts.from === 'beginning';
  }

  protected async run(): Promise<void> {
    let delay = 500;
    while (!this.closed) {
      try {
        this.nc = await connectNats(this.built, this.opts.timeoutMs ?? 10_000, this.stop.signal);
        break;
      } catch (err) {
        if (this.closed) return;
        // A wrong password will not fix itself; an unreachable server may.
        if (err instanceof HeraldError && err.code === 'BROKER_AUTH') throw err;
        this.log.warn({ err: errorMessage(err, this.built.secrets), retryInMs: delay }, 'NATS not reachable; retrying');
        await sleep(delay, this.stop.signal);
        delay = Math.min(delay * 2, 5000);
      }
    }
    const nc = this.nc;
    if (nc === undefined || this.closed) return;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.log.warn({ url: this.built.display }, 'NATS connection lost; reconnecting');
        else if (s.type === 'reconnect') this.log.info({ url: this.built.display }, 'NATS connection restored');
      }
    })().catch(() => undefined);
    if (this.jetstream) await this.consumeJetStream(nc);
    else {
      this.subscribeCore(nc);
      // A flush makes sure the server has the subscriptions before anyone publishes.
      await nc.flush();
      this.ready.open();
    }
  }

  private subscribeCore(nc: NatsConnection): void {
    for (const subject of this.subjects) {
      const sub = nc.subscribe(subject, {
        ...(this.opts.group !== undefined && { queue: this.opts.group }),
        callback: (err, msg) => {
          if (err) {
            this.log.warn({ err: errorMessage(err, this.built.secrets), subject }, 'NATS subscription error');
            return;
          }
          this.inbox.push(toReceived(msg, NOOP_ACK));
        },
      });
      this.subs.push(sub);
    }
  }

  /**
   * The JetStream manager. Its first request can time out while a server that was just
   * started (or restarted) has not got JetStream going yet: that is retried like a connection.
   * Any other answer (JetStream not enabled on the server) is an error.
   */
  private async jetstreamManagerOf(nc: NatsConnection): Promise<JetStreamManager | undefined> {
    let delay = 500;
    while (!this.closed) {
      try {
        return await nc.jetstreamManager({ timeout: this.opts.timeoutMs ?? 10_000 });
      } catch (err) {
        if (this.closed || (err as { code?: string }).code !== 'TIMEOUT') throw err;
        this.log.warn({ err: errorMessage(err, this.built.secrets), retryInMs: delay }, 'JetStream not answering yet; retrying');
        await sleep(delay, this.stop.signal);
        delay = Math.min(delay * 2, 5000);
      }
    }
    return undefined;
  }

  private async consumeJetStream(nc: NatsConnection): Promise<void> {
    const jsm = await this.jetstreamManagerOf(nc);
    if (jsm === undefined) return;
    const js = nc.jetstream();
    const durable = this.opts.durable ?? this.opts.group;
    const subjects = this.subjects;
    // One consumer per subject: several filter subjects in one consumer need NATS 2.10+.
    const loops = subjects.map(async (subject, i) => {
      const name = durable === undefined ? undefined : subjects.length === 1 ? durable : `${durable}-${i}`;
      let lastSeq = 0;
      let delay = 500;
      // A missing stream may be created later (by a sink with createStream), and a consumer can
      // vanish (an ephemeral one after a server restart, a durable one deleted by an operator):
      // both are retried, ephemeral consumers continuing after the last seen message.
      while (!this.closed) {
        let iter: ConsumerMessages;
        let consumerName: string;
        let stream: string;
        try {
          stream = this.opts.stream ?? (await this.findStream(jsm, subject));
          consumerName = await this.ensureConsumer(jsm, stream, subject, name, lastSeq);
          const consumer = await js.consumers.get(stream, consumerName);
          iter = await consumer.consume({ max_messages: 256 });
          this.ready.open();
        } catch (err) {
          if (this.closed) return;
          this.log.warn({ err: errorMessage(err, this.built.secrets), subject, stream: this.opts.stream, retryInMs: delay }, 'cannot read JetStream yet; retrying');
          await sleep(delay, this.stop.signal);
          delay = Math.min(delay * 2, 5000);
          continue;
        }
        delay = 500;
        this.iters.push(iter);
        if (this.closed) iter.stop();
        void (async () => {
          for await (const st of await iter.status()) {
            if (st.type === ConsumerEvents.ConsumerDeleted || st.type === ConsumerEvents.ConsumerNotFound) {
              this.log.warn({ stream, consumer: consumerName, subject }, 'JetStream consumer gone; creating it again');
              iter.stop();
            }
          }
        })().catch(() => undefined);
        for await (const m of iter) {
          lastSeq = m.seq;
          this.inbox.push(toReceived(m, name !== undefined ? async () => m.ack() : NOOP_ACK, m));
        }
        if (!this.closed) await sleep(500, this.stop.signal);
      }
    });
    await Promise.all(loops);
  }

  /** The stream that captures `subject`. */
  private async findStream(jsm: JetStreamManager, subject: string): Promise<string> {
    try {
      return await jsm.streams.find(subject);
    } catch (err) {
      throw new HeraldError('BROKER_UNAVAILABLE', `no JetStream stream captures ${subject} (${errorMessage(err, this.built.secrets)}); name one with stream or create it`);
    }
  }

  /**
   * Creates (or finds) the consumer for one subject. A durable keeps its position on the
   * server; an ephemeral one (no acks, removed after 5 idle minutes) starts at the beginning,
   * now, or after `lastSeq` when it is created again.
   */
  private async ensureConsumer(jsm: JetStreamManager, stream: string, subject: string, name: string | undefined, lastSeq: number): Promise<string> {
    const start: Partial<ConsumerConfig> = lastSeq > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
      : { deliver_policy: this.opts.from === 'beginning' ? DeliverPolicy.All : DeliverPolicy.New };
    if (name !== undefined) {
      try {
        await jsm.consumers.info(stream, name);
        return name;
      } catch {
        await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: subject, deliver_policy: this.opts.from === 'beginning' ? DeliverPolicy.All : DeliverPolicy.New });
        return name;
      }
    }
    const info = await jsm.consumers.add(stream, { ack_policy: AckPolicy.None, filter_subject: subject, inactive_threshold: nanos(5 * 60_000), ...start });
    return info.name;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    for (const it of this.iters) it.stop();
    for (const s of this.subs) s.unsubscribe();
    const nc = this.nc;
    this.nc = undefined;
    if (nc !== undefined && !nc.isClosed()) await nc.close().catch(() => undefined);
    this.ready.open();
    this.inbox.end();
  }
}

/** Converts a NATS message (core or JetStream) to a ReceivedMessage. */
function toReceived(msg: Msg | JsMsg, ack: () => Promise<void>, js?: JsMsg): ReceivedMessage {
  const out: ReceivedMessage = {
    transport: 'nats',
    topic: msg.subject,
    value: Buffer.from(msg.data),
    ...fromNatsHeaders(msg.headers),
    ack,
  };
  if (js !== undefined) {
    out.offset = String(js.seq);
    out.timestamp = Math.floor(js.info.timestampNanos / 1e6);
  }
  return out;
}

/** Creates a NATS source (not connected until messages() is iterated). */
export function createNatsSource(options: NatsSourceOptions): Source {
  return new NatsSource(options);
}

/** The source factory the transport registry loads. */
export const sourceFactory: SourceFactory<NatsSourceSpec> = (spec, options) => new NatsSource({ ...spec, ...options });
