/**
 * The two hand-overs an Ingest ends in. Durable: the events and their outbox entries in one
 * transaction, then every relay is woken (whatever the entry point: the API, the library,
 * the bridge), so no relay waits for its poll interval. Direct: the encoded messages to the
 * sinks now, resolving when the brokers acknowledged.
 */
import type { SinkBinding } from '../delivery/binding.js';
import type { DirectDelivery } from '../delivery/direct.js';
import type { StateRequest } from '../events/entity-states.js';
import type { HeraldEvent } from '../events/schema.js';
import type { Outbox } from '../outbox/outbox.js';
import type { EventStore } from '../store/types.js';
import type { Batch, Handover, StateBuilder, StateChange } from './ingest.js';

export class DurableHandover implements Handover {
  readonly encodesNow = false;

  /** `onStored` runs after each commit that stored events (the API wakes its live streams). */
  constructor(private readonly store: EventStore, private readonly outbox: Outbox, private readonly onStored?: () => void) {}

  targets(event: HeraldEvent): readonly SinkBinding[] {
    return this.outbox.targets(event);
  }

  async deliver(batch: Batch): Promise<number> {
    const { inserted } = await this.store.append(batch.events, {
      ...(batch.docs !== undefined && { docs: batch.docs }),
      within: (tx, stored) => this.outbox.enqueue(tx, stored, (s) => batch.targets[s.index]!.map((b) => b.name)).then(() => undefined),
    });
    if (inserted > 0) this.#stored();
    return inserted;
  }

  async changeState(request: StateRequest, build: StateBuilder): Promise<StateChange> {
    const change = await this.store.changeEntity(request.kind, request.id, async (tx) => {
      const { plan, events, docs, targets } = await build(tx);
      await tx.insert(events, {
        docs,
        within: (t, stored) => this.outbox.enqueue(t, stored, (s) => targets[s.index]!.map((b) => b.name)).then(() => undefined),
      });
      return { previous: plan.previous, current: plan.current, events };
    });
    if (change.events.length > 0) this.#stored();
    return change;
  }

  #stored(): void {
    this.outbox.notify();
    this.onStored?.();
  }
}

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
