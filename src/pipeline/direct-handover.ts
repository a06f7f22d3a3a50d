/**
 * The direct hand-over an Ingest ends in: the encoded messages to the sinks now, resolving when
 * the brokers acknowledged. (The durable one, through the outbox, is durable-handover.ts.)
 */
import type { SinkBinding } from '../delivery/binding.js';
import type { DirectDelivery } from '../delivery/direct.js';
import type { HeraldEvent } from '../events/schema.js';
import type { Batch, Handover } from './ingest.js';

export class DirectHandover implements Handover {
  readonly encodesNow = true;

  constructor(private readonly bindings: readonly SinkBinding[], private readonly delivery: DirectDelivery) {}

  targets(event: HeraldEvent): readonly SinkBinding[] {
    return this.bindings.filter((b) => b.accepts(event));
  }

  async deliver(batch: Batch): Promise<number> {
    await this.delivery.deliver(batch.deliveries ?? []);
    return batch.events.length;
  }
}
