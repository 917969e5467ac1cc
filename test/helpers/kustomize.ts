import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// The subset of Kustomize that deploy/kubernetes uses, so a test can render it without a
// Kustomize binary: `resources` (files and directories) and `patches` given by `path`
// (strategic-merge patches: maps merge, lists of named items merge by `name`, other lists
// and scalars replace). Any other kustomization field fails the render, so the manifests
// cannot drift into features this renderer does not apply.

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: any;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'patches']);

function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isNamedList = (value: unknown): value is Array<{ name: string }> => Array.isArray(value) && value.every((item) => isMap(item) && typeof item.name === 'string');

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isMap(current) && isMap(value)) merge(current, value);
    else if (isNamedList(current) && isNamedList(value)) {
      for (const item of value) {
        const existing = current.find((candidate) => candidate.name === item.name);
        if (existing) merge(existing, item);
        else current.push(item);
      }
    } else target[key] = structuredClone(value);
  }
}

/** The objects `kubectl apply -k <dir>` would apply (for the subset above). */
export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const kustomization = parse(fs.readFileSync(file, 'utf8')) as { resources?: string[]; patches?: Array<Record<string, string>> };
  for (const field of Object.keys(kustomization)) if (!SUPPORTED.has(field)) throw new Error(`${file}: the test renderer does not apply "${field}"`);
  const objects: K8sObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const target = path.resolve(dir, resource);
    objects.push(...(fs.statSync(target).isDirectory() ? renderKustomization(target) : readObjects(target)));
  }
  for (const entry of kustomization.patches ?? []) {
    if (Object.keys(entry).join() !== 'path') throw new Error(`${file}: only patches given by path are supported`);
    for (const patch of readObjects(path.resolve(dir, entry.path))) {
      const target = objects.find((object) => object.apiVersion === patch.apiVersion && object.kind === patch.kind && object.metadata.name === patch.metadata.name);
      if (!target) throw new Error(`${file}: patch ${entry.path} matches no ${patch.kind} ${patch.metadata.name}`);
      merge(target, patch);
    }
  }
  return objects;
}
