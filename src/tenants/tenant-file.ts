/**
 * The tenants file `stowage tenants apply -f` reads: one `Tenant` per YAML document (or a
 * `TenantList` of them), each naming its class and its parameters.
 *
 * ```yaml
 * apiVersion: stowage.io/v1alpha1
 * kind: Tenant
 * metadata: { name: premium-1 }
 * spec: { class: premium, params: { plan: gold } }
 * ```
 */
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { formatZodError } from '../core/validation.js';
import type { TenantRequest } from './bundle.js';
import { invalidTenantName } from './bundle.js';
import { TENANTS_API_VERSION } from './classes.js';

const tenantSchema = z.strictObject({
  apiVersion: z.literal(TENANTS_API_VERSION),
  kind: z.literal('Tenant'),
  metadata: z.object({ name: z.string().min(1) }).loose(),
  spec: z.strictObject({ class: z.string().min(1), params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}) }),
});

const listSchema = z.strictObject({
  apiVersion: z.literal(TENANTS_API_VERSION),
  kind: z.literal('TenantList'),
  items: z.array(z.unknown()),
});

/**
 * Reads every tenant of a tenants file.
 *
 * @throws {Error} one line naming the source, the document and the field, or a tenant defined twice
 */
export function parseTenantFile(text: string, source = 'tenants file'): TenantRequest[] {
  const documents = parseAllDocuments(text);
  const raw: { at: string; value: unknown }[] = [];
  for (const [i, document] of (Array.isArray(documents) ? documents : [documents]).entries()) {
    const error = document.errors[0];
    if (error !== undefined) throw new Error(`Cannot parse ${source}: ${error.message.split('\n')[0] ?? ''}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const list = listSchema.safeParse(value);
    if (list.success) list.data.items.forEach((item, j) => raw.push({ at: `document ${i + 1} items[${j}]`, value: item }));
    else raw.push({ at: `document ${i + 1}`, value });
  }
  const tenants: TenantRequest[] = [];
  const seen = new Set<string>();
  for (const { at, value } of raw) {
    const parsed = tenantSchema.safeParse(value);
    if (!parsed.success) throw new Error(`Invalid ${source}: ${at}: ${formatZodError(parsed.error)}`);
    const name = parsed.data.metadata.name;
    const invalid = invalidTenantName(name);
    if (invalid !== undefined) throw new Error(`Invalid ${source}: ${at}: ${invalid}`);
    if (seen.has(name)) throw new Error(`Invalid ${source}: ${at}: tenant "${name}" is defined twice`);
    seen.add(name);
    tenants.push({ name, class: parsed.data.spec.class, params: parsed.data.spec.params });
  }
  if (tenants.length === 0) throw new Error(`Invalid ${source}: no Tenant documents`);
  return tenants;
}
