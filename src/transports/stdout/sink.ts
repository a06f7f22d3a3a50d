/**
 * The stdout sink: one JSON line per message, for debugging a profile's output and for
 * piping into other tools. It "acknowledges" once the line is handed to the stream.
 */
import { HeraldError } from '../../errors.js';
import { valueForJson } from '../../shared/json.js';
import type { OutgoingMessage, PublishOutcome, Sink, SinkFactory } from '../types.js';

export interface StdoutSinkOptions {
  name: string;
  /** Where lines go (default process.stdout). */
  stream?: NodeJS.WritableStream;
}

/** The line written for one message: text values as UTF-8, other bytes as base64. */
export function messageLine(m: OutgoingMessage): Record<string, unknown> {
  return {
    topic: m.topic,
    ...(m.key !== undefined && { key: m.key }),
    ...(m.contentType !== undefined && { contentType: m.contentType }),
    ...(m.ceAttributes !== undefined && { ceAttributes: m.ceAttributes }),
    ...(m.headers !== undefined && { headers: m.headers }),
    ...valueForJson(m.value),
  };
}

/** A Sink writing one JSON line per message to a stream. */
export class StdoutSink implements Sink {
  readonly name: string;
  readonly type = 'stdout' as const;
  readonly #stream: NodeJS.WritableStream;
  #closed = false;

  constructor(options: StdoutSinkOptions) {
    this.name = options.name;
    this.#stream = options.stream ?? process.stdout;
  }

  get connected(): boolean {
    return !this.#closed;
  }

  async connect(): Promise<void> {
    if (this.#closed) throw new HeraldError('CLOSED', `stdout sink ${this.name} is closed`);
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (this.#closed) throw new HeraldError('CLOSED', `stdout sink ${this.name} is closed`);
    const text = messages.map((m) => JSON.stringify(messageLine(m)) + '\n').join('');
    if (text !== '') {
      await new Promise<void>((resolve, reject) => {
        this.#stream.write(text, (err) => (err ? reject(new HeraldError('INTERNAL', `stdout sink ${this.name}: ${err.message}`, { cause: err })) : resolve()));
      });
    }
    return messages.map(() => ({ ok: true }));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** The sink factory the transport registry loads. */
export const sinkFactory: SinkFactory<Record<never, never>> = (base, _resolved, deps) =>
  new StdoutSink({ name: base.name, ...(deps.stream !== undefined && { stream: deps.stream }) });
