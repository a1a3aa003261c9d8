/** Loading a deploy/ directory's manifests in tests, each document checked to parse cleanly. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as read from YAML: kind and name known, the rest looked at by each test. */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

/** The manifest files of `dir`: every `*.yaml` but kustomization.yaml, sorted. */
export function manifestFiles(dir: URL): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
}

/** The `resources` that `dir`'s kustomization.yaml lists, sorted. */
export function kustomizationResources(dir: URL): string[] {
  const kustomization = parseAllDocuments(readFileSync(new URL('kustomization.yaml', dir), 'utf8'))[0]?.toJS() as { resources?: string[] } | null;
  return [...(kustomization?.resources ?? [])].sort();
}

/** Every object of every manifest file of `dir`, in file-name order. */
export function loadManifests(dir: URL): ManifestObject[] {
  const objects: ManifestObject[] = [];
  for (const file of manifestFiles(dir)) {
    for (const doc of parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))) {
      assert.deepEqual(doc.errors, [], file);
      const obj = doc.toJS() as ManifestObject | null;
      if (obj !== null) objects.push(obj);
    }
  }
  return objects;
}
