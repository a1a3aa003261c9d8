/**
 * What a node costs per hour: a table of instance prices, with an estimate from the node's size
 * when its instance type is not in the table.
 */
import { z } from 'zod';
import { CapacityType, type NodeView } from './model.js';

/** An instance type's prices in US dollars per hour; `spot` defaults to on-demand × the table's spot ratio. */
export interface PriceEntry {
  readonly onDemand: number;
  readonly spot?: number;
}

/** The plain data a {@link PriceTable} is built from: the `spec` of a PriceTable file. */
export interface PriceTableSpec {
  /** Spot price as a fraction of on-demand, for entries without an explicit spot price. */
  readonly spotRatio?: number;
  readonly instanceTypes: Readonly<Record<string, PriceEntry>>;
}

/** A node's hourly price, and whether it came from the table or was estimated from its size. */
export interface NodePrice {
  readonly usdPerHour: number;
  readonly source: 'table' | 'estimate';
}

/**
 * Spot discount used when a table gives neither a spot price nor a ratio: spot at 40% of
 * on-demand. AWS's Spot Instance Advisor (us-east-1, Linux) shows savings over on-demand of
 * roughly 55–75% for the m5/m6i/c5/c6i/r5/r6i families; Stowage takes 60%, the cautious end,
 * so that a plan never promises savings the market does not deliver. Users who know their
 * prices should set `spotRatio` or per-type `spot` in a PriceTable file.
 */
export const DEFAULT_SPOT_RATIO = 0.4;

/**
 * Per-vCPU-hour and per-GiB-hour rates for instance types not in the table, from AWS us-east-1
 * on-demand list prices. m5 alone cannot separate CPU from memory (every size has 4 GiB per
 * vCPU), so the r5 family (8 GiB per vCPU, same CPU) gives the second equation:
 *   m5.large: 2 vCPU + 8 GiB  = $0.096/h
 *   r5.large: 2 vCPU + 16 GiB = $0.126/h
 * → 8 GiB = $0.030/h, so $0.00375 per GiB-hour; then 2 vCPU = 0.096 − 8 × 0.00375 = $0.066/h,
 * so $0.033 per vCPU-hour. These reproduce every m5 and r5 size exactly, and c5 within 5%
 * (c5.large: $0.081 estimated against $0.085 listed).
 */
export const ESTIMATE_USD_PER_VCPU_HOUR = 0.033;
export const ESTIMATE_USD_PER_GIB_HOUR = 0.00375;

const GIB = 1024 ** 3;

/**
 * An immutable table of instance prices.
 *
 * @example
 * ```ts
 * const table = mergePriceTables(DEFAULT_PRICE_TABLE, parsePriceTable(yaml.parse(text)));
 * table.hourlyPriceOfNode(node); // { usdPerHour: 0.0384, source: 'table' }
 * ```
 */
export class PriceTable {
  readonly #entries: ReadonlyMap<string, PriceEntry>;
  /** Undefined when the table did not set one, so that merging keeps the base table's ratio. */
  readonly #spotRatio: number | undefined;

  private constructor(entries: ReadonlyMap<string, PriceEntry>, spotRatio: number | undefined) {
    this.#entries = entries;
    this.#spotRatio = spotRatio;
  }

  /**
   * Builds a table from trusted data (see {@link parsePriceTable} for user files).
   * @throws {RangeError} when a price is negative or not finite, or the ratio is outside (0, 1]
   */
  static create(spec: PriceTableSpec): PriceTable {
    if (spec.spotRatio !== undefined) _checkRatio(spec.spotRatio, 'spotRatio');
    const entries = new Map<string, PriceEntry>();
    for (const [type, entry] of Object.entries(spec.instanceTypes)) {
      _checkPrice(entry.onDemand, `instanceTypes[${JSON.stringify(type)}].onDemand`);
      if (entry.spot !== undefined) _checkPrice(entry.spot, `instanceTypes[${JSON.stringify(type)}].spot`);
      entries.set(type, entry.spot === undefined ? { onDemand: entry.onDemand } : { onDemand: entry.onDemand, spot: entry.spot });
    }
    return new PriceTable(entries, spec.spotRatio);
  }

  /** Spot price as a fraction of on-demand, for entries without an explicit spot price. */
  get spotRatio(): number {
    return this.#spotRatio ?? DEFAULT_SPOT_RATIO;
  }

  /** The instance types the table lists, sorted. */
  instanceTypes(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /**
   * The table's $/h for an instance type, undefined when it is not listed. `unknown` capacity is
   * priced as on-demand: without evidence of spot, assume the dearer price.
   */
  priceOf(instanceType: string, capacityType: CapacityType): number | undefined {
    const entry = this.#entries.get(instanceType);
    if (entry === undefined) return undefined;
    if (capacityType !== CapacityType.Spot) return entry.onDemand;
    return entry.spot ?? entry.onDemand * this.spotRatio;
  }

  /**
   * A node's $/h: from the table by instance type, else estimated from its allocatable cpu and
   * memory at {@link ESTIMATE_USD_PER_VCPU_HOUR} and {@link ESTIMATE_USD_PER_GIB_HOUR}, times the
   * spot ratio on spot. Allocatable is a few percent below the machine's capacity, so estimates
   * err low, which keeps projected savings cautious.
   */
  hourlyPriceOfNode(node: Pick<NodeView, 'instanceType' | 'capacityType' | 'allocatable'>): NodePrice {
    const listed = node.instanceType === '' ? undefined : this.priceOf(node.instanceType, node.capacityType);
    if (listed !== undefined) return { usdPerHour: listed, source: 'table' };
    const vcpus = (node.allocatable['cpu'] ?? 0) / 1000;
    const gib = (node.allocatable['memory'] ?? 0) / GIB;
    const onDemand = vcpus * ESTIMATE_USD_PER_VCPU_HOUR + gib * ESTIMATE_USD_PER_GIB_HOUR;
    return { usdPerHour: node.capacityType === CapacityType.Spot ? onDemand * this.spotRatio : onDemand, source: 'estimate' };
  }

  /** The table as plain data, e.g. to print or to write back to a file. */
  toSpec(): PriceTableSpec {
    const instanceTypes: Record<string, PriceEntry> = {};
    for (const type of this.instanceTypes()) {
      const entry = this.#entries.get(type);
      if (entry !== undefined) instanceTypes[type] = entry;
    }
    return this.#spotRatio === undefined ? { instanceTypes } : { spotRatio: this.#spotRatio, instanceTypes };
  }

}

/**
 * `override`'s entries replace `base`'s per instance type; `override`'s spot ratio wins when it
 * sets one. Entries without an explicit spot price follow the merged ratio.
 */
export function mergePriceTables(base: PriceTable, override: PriceTable): PriceTable {
  const b = base.toSpec();
  const o = override.toSpec();
  const spotRatio = o.spotRatio ?? b.spotRatio;
  const instanceTypes = { ...b.instanceTypes, ...o.instanceTypes };
  return PriceTable.create(spotRatio === undefined ? { instanceTypes } : { spotRatio, instanceTypes });
}

/**
 * AWS us-east-1 Linux on-demand list prices, $/h, from the AWS EC2 On-Demand Pricing page
 * (aws.amazon.com/ec2/pricing/on-demand), as published in 2024; AWS has not changed these
 * families' list prices since their launch. Spot is {@link DEFAULT_SPOT_RATIO} of on-demand.
 * Other regions cost up to ~30% more: users outside us-east-1 should supply their own table.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = PriceTable.create({
  instanceTypes: {
    't3.medium': { onDemand: 0.0416 },
    't3.large': { onDemand: 0.0832 },
    't3.xlarge': { onDemand: 0.1664 },
    't3.2xlarge': { onDemand: 0.3328 },
    't3a.medium': { onDemand: 0.0376 },
    't3a.large': { onDemand: 0.0752 },
    't3a.xlarge': { onDemand: 0.1504 },
    't3a.2xlarge': { onDemand: 0.3008 },
    'm5.large': { onDemand: 0.096 },
    'm5.xlarge': { onDemand: 0.192 },
    'm5.2xlarge': { onDemand: 0.384 },
    'm5.4xlarge': { onDemand: 0.768 },
    'm5.8xlarge': { onDemand: 1.536 },
    'm6i.large': { onDemand: 0.096 },
    'm6i.xlarge': { onDemand: 0.192 },
    'm6i.2xlarge': { onDemand: 0.384 },
    'm6i.4xlarge': { onDemand: 0.768 },
    'm6i.8xlarge': { onDemand: 1.536 },
    'm7i.large': { onDemand: 0.1008 },
    'm7i.xlarge': { onDemand: 0.2016 },
    'm7i.2xlarge': { onDemand: 0.4032 },
    'm7i.4xlarge': { onDemand: 0.8064 },
    'm7i.8xlarge': { onDemand: 1.6128 },
    // c5 has no 8xlarge; its next size up is 9xlarge.
    'c5.large': { onDemand: 0.085 },
    'c5.xlarge': { onDemand: 0.17 },
    'c5.2xlarge': { onDemand: 0.34 },
    'c5.4xlarge': { onDemand: 0.68 },
    'c5.9xlarge': { onDemand: 1.53 },
    'c6i.large': { onDemand: 0.085 },
    'c6i.xlarge': { onDemand: 0.17 },
    'c6i.2xlarge': { onDemand: 0.34 },
    'c6i.4xlarge': { onDemand: 0.68 },
    'c6i.8xlarge': { onDemand: 1.36 },
    'c7i.large': { onDemand: 0.08925 },
    'c7i.xlarge': { onDemand: 0.1785 },
    'c7i.2xlarge': { onDemand: 0.357 },
    'c7i.4xlarge': { onDemand: 0.714 },
    'c7i.8xlarge': { onDemand: 1.428 },
    'r5.large': { onDemand: 0.126 },
    'r5.xlarge': { onDemand: 0.252 },
    'r5.2xlarge': { onDemand: 0.504 },
    'r5.4xlarge': { onDemand: 1.008 },
    'r6i.large': { onDemand: 0.126 },
    'r6i.xlarge': { onDemand: 0.252 },
    'r6i.2xlarge': { onDemand: 0.504 },
    'r6i.4xlarge': { onDemand: 1.008 },
  },
});

/** A PriceTable file that does not validate; `issues` lists each problem as `path: what`. */
export class PriceTableError extends Error {
  override readonly name = 'PriceTableError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid price table: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

const _price = (what: string) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? 'required' : `expected ${what}`) })
    .min(0, { error: `expected ${what}` });

const _priceEntrySchema = z.strictObject({
  onDemand: _price('a number >= 0'),
  spot: _price('a number >= 0').optional(),
});

const _priceTableSchema = z.object(
  {
    apiVersion: z.literal('stowage.io/v1alpha1', { error: 'expected "stowage.io/v1alpha1"' }),
    kind: z.literal('PriceTable', { error: 'expected "PriceTable"' }),
    // Kubernetes-style metadata (a name, labels) is allowed and ignored.
    metadata: z.record(z.string(), z.unknown(), { error: 'expected an object' }).optional(),
    spec: z.strictObject(
      {
        spotRatio: z
          .number({ error: 'expected a number > 0 and <= 1' })
          .gt(0, { error: 'expected a number > 0 and <= 1' })
          .max(1, { error: 'expected a number > 0 and <= 1' })
          .optional(),
        instanceTypes: z.record(z.string().min(1, { error: 'expected a non-empty instance type' }), _priceEntrySchema, { error: 'expected an object' }),
      },
      { error: (issue) => (issue.input === undefined ? 'required' : 'expected an object') },
    ),
  },
  { error: 'expected an object' },
);

/**
 * Validates a parsed PriceTable file (YAML or JSON) and builds the table:
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: PriceTable
 * spec:
 *   spotRatio: 0.35            # optional
 *   instanceTypes:
 *     m5.large: { onDemand: 0.096, spot: 0.035 }
 * ```
 *
 * @throws {PriceTableError} listing every problem with its path, e.g.
 *   `Invalid price table: spec.instanceTypes["m5.large"].onDemand: expected a number >= 0`
 */
export function parsePriceTable(obj: unknown): PriceTable {
  const result = _priceTableSchema.safeParse(obj);
  if (!result.success) throw new PriceTableError(result.error.issues.map(_formatIssue));
  return PriceTable.create(result.data.spec);
}

function _formatIssue(issue: z.core.$ZodIssue): string {
  const path = _formatPath(issue.path);
  const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : issue.message;
  return path === '' ? message : `${path}: ${message}`;
}

/** `spec.instanceTypes["m5.large"].onDemand`: dots for identifiers, brackets for the rest. */
function _formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function _checkPrice(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`Invalid price table: ${what}: expected a number >= 0, got ${value}`);
}

function _checkRatio(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw new RangeError(`Invalid price table: ${what}: expected a number > 0 and <= 1, got ${value}`);
}
