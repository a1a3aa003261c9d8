/**
 * The in-flight reservation ledger: placement decisions the webhook has answered but whose pods
 * are not yet in its informer cache. The ReplicaSet controller creates a burst of pods at once
 * (1, 2, 4, 8 … in parallel); without the ledger every one of them would be decided against the
 * same cache and all would see the floor unmet, or all met. A reservation is released when its
 * pod appears in the cache (matched by the admission request's uid, which the patch records on
 * the pod), and expires after a TTL when it never does (a later admission plugin rejected it).
 */
import type { Resources } from '../../core/model.js';
import { addResources, subtractResources } from '../../core/resources.js';
import type { CapacityCounts, PlacedCapacityType } from '../../policy/placement/decide.js';

/** One decision waiting for its pod. */
export interface Reservation {
  /** The admission request's uid, recorded on the pod as {@link RESERVATION_ANNOTATION}. */
  readonly id: string;
  /** The counting group: a Deployment's revision, or a StatefulSet. */
  readonly group: string;
  readonly capacityType: PlacedCapacityType;
  /** The pod's requests, so the room check can count pods that are not yet anywhere. */
  readonly requests: Resources;
  /** Milliseconds since the epoch after which the reservation no longer counts. */
  readonly expiresAt: number;
}

/** The pod annotation that ties a pod back to the reservation made when it was admitted. */
export const RESERVATION_ANNOTATION = 'stowage.io/placement-request';

const NONE: CapacityCounts = Object.freeze({ onDemand: 0, spot: 0 });

/**
 * Reservations by id, with per-group counts kept up to date so a decision reads them in O(1).
 * Time is passed in (`now`), never read, so tests drive expiry exactly.
 *
 * @example
 * const ledger = new ReservationLedger(10_000);
 * ledger.reserve({ id: review.uid, group, capacityType: 'on-demand', requests }, Date.now());
 * ledger.counts(group, Date.now()); // { onDemand: 1, spot: 0 }
 * ledger.release(review.uid);       // the pod reached the cache
 */
export class ReservationLedger {
  readonly #ttlMs: number;
  readonly #byId = new Map<string, Reservation>();
  readonly #byGroup = new Map<string, { onDemand: number; spot: number }>();
  /** Requests per type, kept as reservations come and go so the room check reads them in O(1). */
  readonly #requested: Record<PlacedCapacityType, Resources> = { 'on-demand': {}, spot: {} };
  #expired = 0;

  constructor(ttlMs: number) {
    if (!(ttlMs > 0)) throw new Error(`Invalid reservation TTL ${ttlMs} ms: expected a positive number`);
    this.#ttlMs = ttlMs;
  }

  /** Records a decision. The same id again (an apiserver retry) replaces the first, never doubles it. */
  reserve(reservation: Omit<Reservation, 'expiresAt'>, now: number): Reservation {
    this.release(reservation.id);
    const entry: Reservation = { ...reservation, expiresAt: now + this.#ttlMs };
    this.#byId.set(entry.id, entry);
    this.#add(entry, 1);
    return entry;
  }

  /** Drops a reservation because its pod is now visible; returns whether there was one. */
  release(id: string): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined) return false;
    this.#byId.delete(id);
    this.#add(entry, -1);
    return true;
  }

  /** In-flight decisions of a group, after dropping expired ones. */
  counts(group: string, now: number): CapacityCounts {
    this.expire(now);
    const counts = this.#byGroup.get(group);
    return counts === undefined ? NONE : { onDemand: counts.onDemand, spot: counts.spot };
  }

  /** The requests of every in-flight pod headed for `capacityType`. */
  requested(capacityType: PlacedCapacityType, now: number): Resources {
    this.expire(now);
    return this.#requested[capacityType];
  }

  /**
   * Drops reservations past their TTL; returns how many. Map order is insertion order and every
   * entry has the same TTL, so the scan stops at the first live one.
   */
  expire(now: number): number {
    let dropped = 0;
    for (const entry of this.#byId.values()) {
      if (entry.expiresAt > now) break;
      this.#byId.delete(entry.id);
      this.#add(entry, -1);
      dropped++;
    }
    this.#expired += dropped;
    return dropped;
  }

  /** Reservations currently held (expired ones included until the next read drops them). */
  get size(): number {
    return this.#byId.size;
  }

  /** Reservations that expired without their pod ever appearing, since the start. */
  get expiredTotal(): number {
    return this.#expired;
  }

  #add(entry: Reservation, delta: 1 | -1): void {
    const type = entry.capacityType;
    this.#requested[type] = this.#byId.size === 0 ? {} : (delta === 1 ? addResources : subtractResources)(this.#requested[type], entry.requests);
    const counts = this.#byGroup.get(entry.group) ?? { onDemand: 0, spot: 0 };
    if (entry.capacityType === 'on-demand') counts.onDemand += delta;
    else counts.spot += delta;
    if (counts.onDemand === 0 && counts.spot === 0) this.#byGroup.delete(entry.group);
    else this.#byGroup.set(entry.group, counts);
  }
}
