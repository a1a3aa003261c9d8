/**
 * Arithmetic on {@link Resources}: plain integer records in the scheduler's units (cpu in
 * millicores, memory and storage in bytes). These run inside policy loops over every pod of a
 * cluster, so they use `for…in` over small records and allocate one result object, nothing more.
 */
import type { Resources } from './model.js';
import { Quantity, QuantityError } from './quantity.js';

/** Resource names the scheduler knows by name; every other name is an extended resource. */
export const ResourceName = {
  Cpu: 'cpu',
  Memory: 'memory',
  EphemeralStorage: 'ephemeral-storage',
  Pods: 'pods',
} as const;
export type ResourceName = (typeof ResourceName)[keyof typeof ResourceName];

/**
 * Converts one quantity to the scheduler's unit for `name`: millicores for cpu (`MilliValue`),
 * the rounded-up integer value for everything else (`Value`), as kube-scheduler's
 * `framework.Resource.Add` does.
 */
export function quantityToSchedulerUnits(name: string, quantity: Quantity): number {
  return name === ResourceName.Cpu ? quantity.milliValue() : quantity.value();
}

/**
 * Parses a Kubernetes ResourceList (`{cpu: "500m", memory: "1Gi"}`) into {@link Resources}.
 *
 * @throws {QuantityError} naming the resource, e.g.
 *   `Invalid quantity "12x" for resource "cpu": unknown suffix "x"`
 */
export function resourcesFromList(list: Readonly<Record<string, string>>): Resources {
  const out: Record<string, number> = {};
  for (const name in list) {
    const text = list[name] ?? '';
    let quantity: Quantity;
    try {
      quantity = Quantity.parse(text);
    } catch (error) {
      if (error instanceof QuantityError) throw new QuantityError(text, error.reason, `for resource ${JSON.stringify(name)}`);
      throw error;
    }
    out[name] = quantityToSchedulerUnits(name, quantity);
  }
  return out;
}

/** `a + b` per resource; a name missing on one side counts as 0. */
export function addResources(a: Resources, b: Resources): Resources {
  const out: Record<string, number> = { ...a };
  for (const name in b) out[name] = (out[name] ?? 0) + (b[name] ?? 0);
  return out;
}

/** The sum of many, in one allocation. */
export function sumResources(list: Iterable<Resources>): Resources {
  const out: Record<string, number> = {};
  for (const r of list) {
    for (const name in r) out[name] = (out[name] ?? 0) + (r[name] ?? 0);
  }
  return out;
}

/** `a - b` per resource; may go negative (an overcommitted node), which callers may want to see. */
export function subtractResources(a: Resources, b: Resources): Resources {
  const out: Record<string, number> = { ...a };
  for (const name in b) out[name] = (out[name] ?? 0) - (b[name] ?? 0);
  return out;
}

/** The larger of the two per resource; a name missing on one side counts as 0. */
export function maxResources(a: Resources, b: Resources): Resources {
  const out: Record<string, number> = { ...a };
  for (const name in b) out[name] = Math.max(out[name] ?? 0, b[name] ?? 0);
  return out;
}

/**
 * The names of the resources `request` needs more of than `free` has, in `request`'s order;
 * empty when it fits. A resource `free` does not list is 0 available, so a request for it
 * fails unless the request is 0 (a pod asking for `nvidia.com/gpu: 0` fits any node), as in
 * kube-scheduler's NodeResourcesFit.
 */
export function fitsIn(request: Resources, free: Resources): string[] {
  const insufficient: string[] = [];
  for (const name in request) {
    const wanted = request[name] ?? 0;
    if (wanted > 0 && wanted > (free[name] ?? 0)) insufficient.push(name);
  }
  return insufficient;
}

/** True when every resource of `request` fits in `free`: {@link fitsIn} without the allocation. */
export function wouldFit(request: Resources, free: Resources): boolean {
  for (const name in request) {
    const wanted = request[name] ?? 0;
    if (wanted > 0 && wanted > (free[name] ?? 0)) return false;
  }
  return true;
}

const DISPLAY_ORDER: readonly string[] = [ResourceName.Cpu, ResourceName.Memory, ResourceName.EphemeralStorage, ResourceName.Pods];

/**
 * Resources for humans: `cpu 1.5, memory 2Gi, pods 1, nvidia.com/gpu 1`. Well-known names come
 * first, the rest sorted; `none` when empty.
 */
export function formatResources(resources: Resources): string {
  const names = Object.keys(resources);
  if (names.length === 0) return 'none';
  const known = DISPLAY_ORDER.filter((n) => n in resources);
  const others = names.filter((n) => !DISPLAY_ORDER.includes(n)).sort();
  return [...known, ...others].map((name) => `${name} ${formatAmount(name, resources[name] ?? 0)}`).join(', ');
}

/** One amount in its resource's natural unit: cores for cpu, binary bytes for memory and storage. */
export function formatAmount(name: string, amount: number): string {
  if (name === ResourceName.Cpu) return formatCpu(amount);
  if (name === ResourceName.Memory || name === ResourceName.EphemeralStorage || name.startsWith('hugepages-')) return formatBytes(amount);
  return String(amount);
}

/** Millicores for humans: `250m` below a core, cores with up to three decimals above (`1.5`, `2`). */
export function formatCpu(milli: number): string {
  const magnitude = Math.abs(milli);
  if (magnitude < 1000 && magnitude !== 0) return `${milli}m`;
  return _trimDecimals((milli / 1000).toFixed(3));
}

const BYTE_UNITS = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/**
 * Bytes for humans, in the largest binary unit the amount reaches, to two decimals at most:
 * `512`, `1.5Gi`, `2Gi`, `1023.99Mi`. Suffixes are Kubernetes', so a value can be pasted into a
 * manifest when it is exact.
 */
export function formatBytes(bytes: number): string {
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // Rounding can reach the next unit (1023.999Mi → "1024.00"), which reads worse than 1Gi.
  let text = _trimDecimals(value.toFixed(2));
  if (text === '1024' && unit < BYTE_UNITS.length - 1) {
    text = '1';
    unit++;
  }
  return `${bytes < 0 ? '-' : ''}${text}${BYTE_UNITS[unit] ?? ''}`;
}

function _trimDecimals(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
