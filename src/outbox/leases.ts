/**
 * Key-hash slot leases: how several relays (replicas on one PostgreSQL) split one sink's work
 * without breaking per-key order. Each sink has `slotCount` slots; an outbox entry belongs to
 * the slot of its key's hash; a relay only sends entries of slots it holds a live lease on.
 * Members announce themselves with a heartbeat row; each holds about slots/members slots,
 * gives extras back between batches (never with a publish in flight) and takes free or
 * expired ones. A crashed relay's slots are taken over when its leases expire.
 */
import type { OutboxDb } from './schema.js';

export interface SlotLeasesOptions {
  sink: string;
  /** This relay's id (unique per process and sink). */
  member: string;
  /** 32 on PostgreSQL; 1 on SQLite (one process owns everything). */
  slotCount: number;
  /** How long a lease lasts without renewal; must exceed the longest publish. */
  leaseMs: number;
  now?: () => number;
}

export class SlotLeases {
  private owned: number[] = [];
  private validUntil = 0;
  private readonly now: () => number;

  constructor(private readonly db: OutboxDb, private readonly o: SlotLeasesOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The slots held, sorted. */
  get slots(): readonly number[] {
    return this.owned;
  }

  /** True while the held leases stay valid for at least `marginMs` more. */
  validFor(marginMs: number): boolean {
    return this.owned.length > 0 && this.now() + marginMs < this.validUntil;
  }

  /** Heartbeat, renew held slots, give back extras, take free ones up to the fair share. */
  async refresh(): Promise<readonly number[]> {
    const { sink, member, slotCount, leaseMs } = this.o;
    const now = this.now();
    const until = now + leaseMs;
    await this.db.insertInto('herald_outbox_members').values({ sink, member, until_ms: until })
      .onConflict((oc) => oc.columns(['sink', 'member']).doUpdateSet({ until_ms: until })).execute();
    const liveMembers = await this.db.selectFrom('herald_outbox_members').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sink', '=', sink).where('until_ms', '>', now).executeTakeFirst();
    const members = Math.max(1, Number(liveMembers?.n ?? 1));
    const fair = Math.ceil(slotCount / members);

    // Renew what we hold; a slot another relay took after our lease lapsed is no longer ours.
    const renewed = await this.db.updateTable('herald_outbox_leases').set({ until_ms: until })
      .where('sink', '=', sink).where('owner', '=', member).returning('slot').execute();
    let owned = renewed.map((r) => Number(r.slot)).sort((a, b) => a - b);

    if (owned.length > fair) {
      const extra = owned.slice(fair);
      await this.db.deleteFrom('herald_outbox_leases').where('sink', '=', sink).where('owner', '=', member)
        .where('slot', 'in', extra).execute();
      owned = owned.slice(0, fair);
    } else if (owned.length < fair) {
      const taken = await this.db.selectFrom('herald_outbox_leases').select('slot')
        .where('sink', '=', sink).where('until_ms', '>', now).execute();
      const busy = new Set(taken.map((r) => Number(r.slot)));
      // Start at a member-dependent offset so relays starting together try different slots.
      const offset = hash(member) % slotCount;
      for (let i = 0; i < slotCount && owned.length < fair; i++) {
        const slot = (offset + i) % slotCount;
        if (busy.has(slot)) continue;
        const got = await this.db.insertInto('herald_outbox_leases').values({ sink, slot, owner: member, until_ms: until })
          .onConflict((oc) => oc.columns(['sink', 'slot']).doUpdateSet({ owner: member, until_ms: until })
            .where('herald_outbox_leases.until_ms', '<=', now))
          .returning('slot').execute();
        if (got.length > 0) owned.push(slot);
      }
      owned.sort((a, b) => a - b);
    }
    this.owned = owned;
    this.validUntil = until;
    return owned;
  }

  /** Gives every slot back and leaves, so other relays take over at once (clean shutdown). */
  async release(): Promise<void> {
    const { sink, member } = this.o;
    this.owned = [];
    this.validUntil = 0;
    await this.db.deleteFrom('herald_outbox_leases').where('sink', '=', sink).where('owner', '=', member).execute();
    await this.db.deleteFrom('herald_outbox_members').where('sink', '=', sink).where('member', '=', member).execute();
    // Members whose heartbeat stopped long ago (crashed processes) are cleared by whoever leaves.
    await this.db.deleteFrom('herald_outbox_members').where('sink', '=', sink).where('until_ms', '<', this.now() - 3_600_000).execute();
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
