/**
 * Karpenter's NodeClaims (`karpenter.sh/v1`) and NodePools, for the descheduler's node actions:
 *
 * - **Delete** a node it emptied: deleting a Node's NodeClaim is how Karpenter is asked to
 *   terminate it (its termination controller taints the node, drains what is left with the
 *   Eviction API, deletes the instance and the Node).
 * - **Offer and launch** a replacement: the NodePools' offers (`node-pools.ts`), and a NodeClaim
 *   built from the offer's NodePool as Karpenter's provisioner builds one; the node it launched
 *   is the one its `status.nodeName` names.
 *
 * A cluster without Karpenter serves no NodeClaims or NodePools (404): no offers, nothing to
 * delete. Every call retries 429/5xx with backoff; a create answered 409 is ours when the claim
 * carries our launch annotation (a retry after a lost answer), else a clash.
 */
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { NodeView } from '../core/model.js';
import type { PriceTable } from '../core/pricing.js';
import { describeApiError } from './errors.js';
import { LAUNCH_ANNOTATION, NODE_CLAIMS, NODE_POOLS, nodeClaimFor, nodePoolOffers, parseOfferId, poolBudgets, poolStillOffers, type KarpenterNodeClaim, type KarpenterNodePool, type PoolOffers } from './node-pools.js';
import { withRetry } from './retry.js';

/** What the executor needs of a node provisioner to delete a node. */
export interface NodeDeleter {
  /** The name of the NodeClaim that launched `nodeName`, or undefined (none, or no Karpenter in the cluster). */
  claimOf(nodeName: string): Promise<string | undefined>;
  /** Deletes the NodeClaim; gone already counts as done. */
  deleteClaim(name: string): Promise<void>;
}

/** Where a launched NodeClaim stands. */
export type ClaimState =
  | { readonly kind: 'pending' }
  | { readonly kind: 'launched'; readonly nodeName: string }
  /** Deleted (Karpenter gives up on a claim it cannot launch) or being deleted; `message` from its last False condition. */
  | { readonly kind: 'gone'; readonly message: string };

/** A NodeClaim the descheduler created for a replacement node (it carries `LAUNCH_ANNOTATION`). */
export interface LaunchedClaim {
  readonly name: string;
  /** The annotation's value: `<plan id>/<launch name>`. */
  readonly launchedFor: string;
  /** The node it launched, once named (`status.nodeName`). */
  readonly nodeName?: string;
  /** Being deleted already (Karpenter terminates it). */
  readonly deleting: boolean;
}

/** What the executor needs of a node provisioner to launch a replacement. */
export interface NodeLauncher extends NodeDeleter {
  /**
   * Creates the NodeClaim for the offer `offerId` names, checking its NodePool again (it must
   * still offer it: Ready, requirements, limits); returns the claim's name.
   * @throws {Error} with a one-line reason when the pool no longer offers it or the API refuses
   */
  launch(offerId: string, requests: Readonly<Record<string, string>>, launchedFor: string): Promise<string>;
  /** Where the claim stands. */
  claimState(name: string): Promise<ClaimState>;
  /** The NodeClaims this launcher created (they carry `LAUNCH_ANNOTATION`); none without Karpenter. */
  launchedClaims(): Promise<readonly LaunchedClaim[]>;
}

/** What the planner is offered. */
export interface OfferReader {
  /** The NodePools' offers for the cluster `nodes` describe, and their disruption budgets; none without Karpenter. */
  offers(nodes: readonly NodeView[]): Promise<PoolOffers>;
}

function _status(error: unknown): number {
  return describeApiError((error as { cause?: unknown }).cause ?? error).status;
}

/** Karpenter's NodeClaims and NodePools through the API; offers priced from `prices`, the planner's table. */
export class KarpenterNodes implements NodeLauncher, OfferReader {
  readonly #api: CustomObjectsApi;
  readonly #prices: PriceTable;

  constructor(kc: KubeConfig, prices: PriceTable) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#prices = prices;
  }

  async #list<T>(api: typeof NODE_CLAIMS | typeof NODE_POOLS, what: string): Promise<readonly T[] | undefined> {
    try {
      const list = (await withRetry(`list ${what}`, () => this.#api.listClusterCustomObject(api))) as { readonly items?: readonly T[] };
      return list.items ?? [];
    } catch (error) {
      if (_status(error) === 404) return undefined;
      throw error;
    }
  }

  async claimOf(nodeName: string): Promise<string | undefined> {
    const claims = await this.#list<KarpenterNodeClaim>(NODE_CLAIMS, 'NodeClaims');
    return claims?.find((c) => c.status?.nodeName === nodeName)?.metadata?.name;
  }

  async deleteClaim(name: string): Promise<void> {
    try {
      await withRetry(`delete NodeClaim "${name}"`, () => this.#api.deleteClusterCustomObject({ ...NODE_CLAIMS, name }));
    } catch (error) {
      if (_status(error) !== 404) throw error;
    }
  }

  async offers(nodes: readonly NodeView[]): Promise<PoolOffers> {
    const pools = await this.#list<KarpenterNodePool>(NODE_POOLS, 'NodePools');
    if (pools === undefined || pools.length === 0) return { offers: [], refused: [], budgets: new Map() };
    const claims = (await this.#list<KarpenterNodeClaim>(NODE_CLAIMS, 'NodeClaims')) ?? [];
    return { ...nodePoolOffers(pools, claims, nodes, this.#prices), budgets: poolBudgets(pools) };
  }

  async launch(offerId: string, requests: Readonly<Record<string, string>>, launchedFor: string): Promise<string> {
    const choice = parseOfferId(offerId);
    if (choice === undefined) throw new Error(`Offer "${offerId}" is not a NodePool's`);
    const pools = (await this.#list<KarpenterNodePool>(NODE_POOLS, 'NodePools')) ?? [];
    const pool = pools.find((p) => p.metadata?.name === choice.pool);
    if (pool === undefined) throw new Error(`NodePool "${choice.pool}" is gone`);
    // Fresh: another launch (ours or the provisioner's) may have used the room the plan counted on.
    const claims = (await this.#list<KarpenterNodeClaim>(NODE_CLAIMS, 'NodeClaims')) ?? [];
    const refused = poolStillOffers(pool, claims, choice, this.#prices);
    if (refused !== undefined) throw new Error(`NodePool "${choice.pool}" no longer offers a ${choice.capacityType} ${choice.instanceType}: ${refused}`);
    // One name for every attempt, so a create retried after a lost answer finds its own claim.
    const name = `${choice.pool}-${randomBytes(4).toString('hex').slice(0, 5)}`;
    const body = nodeClaimFor(pool, choice, name, requests, launchedFor);
    try {
      await withRetry(`create NodeClaim "${name}"`, () => this.#api.createClusterCustomObject({ ...NODE_CLAIMS, body }));
    } catch (error) {
      if (_status(error) !== 409) throw error;
      const live = (await withRetry(`read NodeClaim "${name}"`, () => this.#api.getClusterCustomObject({ ...NODE_CLAIMS, name }))) as KarpenterNodeClaim;
      if (live.metadata?.annotations?.[LAUNCH_ANNOTATION] !== launchedFor) throw new Error(`Cannot create NodeClaim "${name}": another of that name exists`, { cause: error });
    }
    return name;
  }

  async launchedClaims(): Promise<readonly LaunchedClaim[]> {
    const claims = (await this.#list<KarpenterNodeClaim>(NODE_CLAIMS, 'NodeClaims')) ?? [];
    const out: LaunchedClaim[] = [];
    for (const c of claims) {
      const launchedFor = c.metadata?.annotations?.[LAUNCH_ANNOTATION];
      if (launchedFor === undefined || c.metadata?.name === undefined) continue;
      const deleting = c.metadata.deletionTimestamp !== undefined && c.metadata.deletionTimestamp !== null;
      out.push({ name: c.metadata.name, launchedFor, ...(c.status?.nodeName === undefined ? {} : { nodeName: c.status.nodeName }), deleting });
    }
    return out;
  }

  async claimState(name: string): Promise<ClaimState> {
    let claim: KarpenterNodeClaim;
    try {
      claim = (await withRetry(`read NodeClaim "${name}"`, () => this.#api.getClusterCustomObject({ ...NODE_CLAIMS, name }))) as KarpenterNodeClaim;
    } catch (error) {
      if (_status(error) === 404) return { kind: 'gone', message: `NodeClaim "${name}" was deleted before it launched a node` };
      throw error;
    }
    if (claim.metadata?.deletionTimestamp !== undefined && claim.metadata.deletionTimestamp !== null) {
      const failed = claim.status?.conditions?.find((c) => c.status === 'False' && c.message !== undefined && c.message !== '');
      return { kind: 'gone', message: `NodeClaim "${name}" is being deleted${failed === undefined ? '' : `: ${failed.type ?? 'condition'}: ${failed.message ?? ''}`}` };
    }
    const nodeName = claim.status?.nodeName;
    return nodeName === undefined || nodeName === '' ? { kind: 'pending' } : { kind: 'launched', nodeName };
  }
}
