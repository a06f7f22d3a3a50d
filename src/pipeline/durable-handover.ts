/**
 * The durable hand-over an Ingest ends in: the events and their outbox entries in one
 * transaction — concurrent callers share it (group commit, group-commit.ts) — then the
 * committed entries are handed to their relays in memory (whatever the entry point: the API,
 * the library, the bridge), so no relay waits for its poll interval or reads back what it was
 * given. Apart from the direct one (direct-handover.ts) so that `herald emit` loads no metrics library.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { SinkBinding } from '../delivery/binding.js';
import type { StateRequest } from '../events/entity-states.js';
import type { HeraldEvent } from '../events/schema.js';
import type { Outbox, StagedEntries } from '../outbox/outbox.js';
import type { EventStore } from '../store/types.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import type { Batch, Handover, StateBuilder, StateChange } from './ingest.js';

export interface DurableHandoverOptions {
  /** Runs after each commit that stored events (the API wakes its live streams). */
  onStored?: () => void;
  /** Bounds of one group commit. */
  groupCommit?: GroupCommitOptions;
  /** Where the commit metrics go (default: the outbox's registry). */
  registry?: Registry;
}

/** Commit metrics of durable ingest, one set per registry. */
interface CommitMetrics {
  commits: Counter;
  events: Histogram;
}
const metricsOf = new WeakMap<Registry, CommitMetrics>();
function commitMetrics(registry: Registry): CommitMetrics {
  let m = metricsOf.get(registry);
  if (m === undefined) {
    const existing = registry.getSingleMetric('herald_ingest_commits_total') as Counter | undefined;
    m = {
      commits: existing ?? new Counter({ name: 'herald_ingest_commits_total', help: 'Transactions that stored ingested events with their outbox entries (group commit: concurrent callers share one)', registers: [registry] }),
      events: (registry.getSingleMetric('herald_ingest_commit_events') as Histogram | undefined) ?? new Histogram({
        name: 'herald_ingest_commit_events',
        help: 'Events per ingest transaction',
        buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
        registers: [registry],
      }),
    };
    metricsOf.set(registry, m);
  }
  return m;
}

export class DurableHandover implements Handover {
  readonly encodesNow = false;
  readonly #group: GroupCommit;
  readonly #onStored: (() => void) | undefined;
  readonly #metrics: CommitMetrics;

  /** `options` may be the `onStored` callback alone (it runs after each commit that stored events). */
  constructor(private readonly store: EventStore, private readonly outbox: Outbox, options: DurableHandoverOptions | (() => void) = {}) {
    const o: DurableHandoverOptions = typeof options === 'function' ? { onStored: options } : options;
    this.#onStored = o.onStored;
    this.#metrics = commitMetrics(o.registry ?? outbox.registry);
    this.#group = new GroupCommit((batches) => this.#commit(batches), o.groupCommit);
  }

  targets(event: HeraldEvent): readonly SinkBinding[] {
    return this.outbox.targets(event);
  }

  /** Resolves once the transaction holding this batch's events committed (shared with concurrent callers). */
  deliver(batch: Batch): Promise<number> {
    return this.#group.submit(batch);
  }

  /** One transaction for several callers' batches: their events in order, each with its own targets. */
  async #commit(batches: readonly Batch[]): Promise<number[]> {
    const events: HeraldEvent[] = [];
    const docs: string[] = [];
    const owner: number[] = [];
    const targets: (readonly SinkBinding[])[] = [];
    batches.forEach((b, i) => {
      b.events.forEach((e, j) => {
        events.push(e);
        docs.push(b.docs?.[j] ?? JSON.stringify(e));
        targets.push(b.targets[j]!);
        owner.push(i);
      });
    });
    let staged: StagedEntries | undefined;
    const { stored } = await this.store.append(events, {
      docs,
      within: async (tx, st) => {
        staged = await this.outbox.stage(tx, st, (s) => targets[s.index]!.map((b) => b.name));
      },
    });
    this.#metrics.commits.inc();
    this.#metrics.events.observe(events.length);
    const inserted = batches.map(() => 0);
    for (const s of stored) inserted[owner[s.index]!]! += 1;
    if (stored.length > 0) this.#stored(staged);
    return inserted;
  }

  async changeState(request: StateRequest, build: StateBuilder): Promise<StateChange> {
    let staged: StagedEntries | undefined;
    const change = await this.store.changeEntity(request.kind, request.id, async (tx) => {
      staged = undefined;
      const { plan, events, docs, targets } = await build(tx);
      await tx.insert(events, {
        docs,
        within: async (t, stored) => {
          staged = await this.outbox.stage(t, stored, (s) => targets[s.index]!.map((b) => b.name));
        },
      });
      return { previous: plan.previous, current: plan.current, events };
    });
    if (change.events.length > 0) this.#stored(staged);
    return change;
  }

  #stored(staged: StagedEntries | undefined): void {
    if (staged !== undefined) this.outbox.handOff(staged);
    else this.outbox.notify();
    this.#onStored?.();
  }
}
