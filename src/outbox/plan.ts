/**
 * The pure decisions of one relay round, kept free of I/O so they can be tested alone:
 * turning outbox entries into messages, and publish outcomes into delivered / parked /
 * retried entries while keeping per-key order.
 */
import { HeraldError } from '../errors.js';
import type { HeraldEvent } from '../events/schema.js';
import type { SinkBinding } from '../delivery/binding.js';
import type { OutgoingMessage, PublishOutcome } from '../transports/types.js';

/** One pending outbox entry with its event (undefined when the event is no longer stored). */
export interface OutboxEntry {
  seq: number;
  eventId: string;
  /** Ordering key (null = no ordering constraint). */
  key: string | null;
  attempts: number;
  createdMs: number;
  event: HeraldEvent | undefined;
}

/** The messages of a batch, each pointing back at the entry it came from. */
export interface EncodedBatch {
  messages: OutgoingMessage[];
  /** owner[i] = index into entries of messages[i]. */
  owner: number[];
  /** Entries that could not be encoded (or whose event is gone): parked with this error. */
  encodeErrors: Map<number, string>;
}

/** Encodes every entry through the sink's binding; one event may give 0..n messages. */
export function encodeBatch(entries: readonly OutboxEntry[], binding: Pick<SinkBinding, 'encode' | 'profile'>): EncodedBatch {
  const messages: OutgoingMessage[] = [];
  const owner: number[] = [];
  const encodeErrors = new Map<number, string>();
  entries.forEach((entry, i) => {
    if (entry.event === undefined) {
      encodeErrors.set(i, `event ${entry.eventId} is no longer in the store`);
      return;
    }
    try {
      for (const m of binding.encode(entry.event)) {
        messages.push(m);
        owner.push(i);
      }
    } catch (err) {
      // A profile that cannot encode an event will never encode it: park, do not retry.
      encodeErrors.set(i, `the ${binding.profile.name} profile cannot encode event ${entry.eventId}: ${(err as Error).message}`);
    }
  });
  return { messages, owner, encodeErrors };
}

/** What happens to each entry after a publish. */
export interface RoundResult {
  delivered: OutboxEntry[];
  parked: Array<{ entry: OutboxEntry; error: string }>;
  retry: Array<{ entry: OutboxEntry; error: string }>;
}

const errorText = (e: HeraldError | Error): string => e.message;

/**
 * Decides each entry's fate from the outcomes of its messages:
 * - every message acknowledged (or none to send) → delivered;
 * - any message rejected permanently → parked (a poison message must not block others);
 * - any transient failure → retried later.
 * An entry whose key has an EARLIER entry being retried in the same round is retried too,
 * even if its own messages were acknowledged: re-sending it after the earlier one keeps the
 * last copy of each key in order (consumers that de-duplicate by id keep the first copy; the
 * at-least-once note in docs/outbox.md explains this rare case).
 */
export function decideRound(entries: readonly OutboxEntry[], batch: EncodedBatch, outcomes: readonly PublishOutcome[]): RoundResult {
  const permanent = new Map<number, string>();
  const transient = new Map<number, string>();
  outcomes.forEach((o, mi) => {
    if (o.ok) return;
    const ei = batch.owner[mi]!;
    if (o.permanent) {
      if (!permanent.has(ei)) permanent.set(ei, errorText(o.error));
    } else if (!transient.has(ei)) {
      transient.set(ei, errorText(o.error));
    }
  });
  const result: RoundResult = { delivered: [], parked: [], retry: [] };
  const retryingKeys = new Map<string, string>();
  entries.forEach((entry, i) => {
    const encodeError = batch.encodeErrors.get(i);
    if (encodeError !== undefined) {
      result.parked.push({ entry, error: encodeError });
      return;
    }
    const perm = permanent.get(i);
    if (perm !== undefined) {
      result.parked.push({ entry, error: perm });
      return;
    }
    const trans = transient.get(i) ?? (entry.key !== null ? retryingKeys.get(entry.key) : undefined);
    if (trans !== undefined) {
      result.retry.push({ entry, error: trans });
      if (entry.key !== null && !retryingKeys.has(entry.key)) retryingKeys.set(entry.key, `an earlier event of key ${entry.key} is being retried (${trans})`);
      return;
    }
    result.delivered.push(entry);
  });
  return result;
}

/** True when every message failed transiently: the sink as a whole is down, not single entries. */
export function wholeBatchFailed(outcomes: readonly PublishOutcome[]): boolean {
  return outcomes.length > 0 && outcomes.every((o) => !o.ok && !o.permanent);
}
