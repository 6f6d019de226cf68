// `kubectl apply --server-side` for the few kinds the harness ships in deploy/: parse the YAML
// documents, then PATCH each with application/apply-patch+yaml (JSON is valid YAML).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { APPLY_PATCH, KubeApiError, type KubeClient } from './kube.ts';

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** kind → (plural, namespaced). Extend when deploy/ grows a new kind. */
const KINDS: Readonly<Record<string, readonly [string, boolean]>> = {
  Namespace: ['namespaces', false],
  ServiceAccount: ['serviceaccounts', true],
  ClusterRole: ['clusterroles', false],
  ClusterRoleBinding: ['clusterrolebindings', false],
  Role: ['roles', true],
  RoleBinding: ['rolebindings', true],
};

export function parseManifests(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText)
    .map(doc => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

export function resourcePath(m: Manifest): string {
  const kind = KINDS[m.kind];
  if (kind === undefined) throw new Error(`the harness cannot apply kind ${m.kind} yet`);
  const [plural, namespaced] = kind;
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  const ns = namespaced
    ? `/namespaces/${encodeURIComponent(m.metadata.namespace ?? 'default')}`
    : '';
  return `${base}${ns}/${plural}/${encodeURIComponent(m.metadata.name)}`;
}

/** Creates a namespace unless it exists. */
export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  const res = await client.request('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  if (res.status >= 400 && res.status !== 409)
    throw new KubeApiError('POST', '/api/v1/namespaces', res.status, res.body);
}

export async function applyManifests(
  client: KubeClient,
  manifests: readonly Manifest[],
): Promise<void> {
  for (const m of manifests) {
    if (m.metadata.namespace !== undefined && (KINDS[m.kind]?.[1] ?? false)) {
      await ensureNamespace(client, m.metadata.namespace);
    }
    await client.patch(
      `${resourcePath(m)}?fieldManager=stampede-harness&force=true`,
      m,
      APPLY_PATCH,
    );
  }
}

export async function applyFile(client: KubeClient, path: string): Promise<void> {
  await applyManifests(client, parseManifests(readFileSync(path, 'utf8')));
}

/** The repository root: the nearest ancestor of this package holding scripts/build-controlplane.sh. */
export function repoRoot(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'scripts', 'build-controlplane.sh'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root above ${import.meta.dirname}`);
  }
}

/** deploy/base/rbac files the harness applies at start-up: the services' identities and roles. */
export const RBAC_FILES = [
  'watcher-rbac.yaml',
  'worker-rbac.yaml',
  'selfnodeserver-rbac.yaml',
] as const;

export function rbacDir(): string {
  return join(repoRoot(), 'deploy', 'base', 'rbac');
}
