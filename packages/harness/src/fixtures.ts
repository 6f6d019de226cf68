// Objects tests need in the cluster: Nodes with addresses, and ServiceAccount tokens.
import type { KubeNode, NodeAddress } from './csr.ts';
import { KubeApiError, MERGE_PATCH, type KubeClient } from './kube.ts';
import { ensureNamespace } from './manifests.ts';
import { backdateInEtcd } from './backdate.ts';

export interface CreateNodeOptions {
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Backdate metadata.creationTimestamp (second precision). The apiserver always stamps "now",
   * so the harness rewrites the stored Node in etcd and waits until the apiserver serves it.
   */
  readonly createdAt?: Date;
}

/** The addresses a typical node reports: its host name and one internal IP. */
export function defaultNodeAddresses(name: string, internalIP = '127.0.0.1'): NodeAddress[] {
  return [
    { type: 'Hostname', address: name },
    { type: 'InternalIP', address: internalIP },
  ];
}

/**
 * Creates Node `name` as admin, then writes status.addresses through the status subresource,
 * the way a kubelet registers and then reports its addresses (create ignores status for
 * objects with a status subresource in some versions; the PATCH makes it explicit).
 */
export async function createNode(
  harness: { readonly admin: KubeClient; readonly etcdUrl: string },
  name: string,
  addresses: readonly NodeAddress[] = defaultNodeAddresses(name),
  options: CreateNodeOptions = {},
): Promise<KubeNode> {
  const node = await createNodeWithAddresses(harness.admin, name, addresses, options);
  if (options.createdAt === undefined) return node;
  const want = new Date(Math.floor(options.createdAt.getTime() / 1000) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
  await backdateInEtcd(harness.etcdUrl, `/registry/minions/${name}`, options.createdAt);
  const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const read = await harness.admin.get<KubeNode>(path);
    if (read.metadata.creationTimestamp === want) return read;
    if (Date.now() > deadline)
      throw new Error(
        `Node ${name}: creationTimestamp ${String(read.metadata.creationTimestamp)}, not ${want}`,
      );
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

async function createNodeWithAddresses(
  admin: KubeClient,
  name: string,
  addresses: readonly NodeAddress[],
  options: CreateNodeOptions,
): Promise<KubeNode> {
  const harness = { admin };
  const created = await harness.admin.post<KubeNode>('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...options.labels } },
    status: { addresses },
  });
  if (JSON.stringify(created.status?.addresses ?? []) === JSON.stringify(addresses)) return created;
  return harness.admin.patch<KubeNode>(
    `/api/v1/nodes/${encodeURIComponent(name)}/status`,
    { status: { addresses } },
    MERGE_PATCH,
  );
}

export interface TokenOptions {
  /** Default 3600 (the apiserver's minimum is 600). */
  readonly expirationSeconds?: number;
  readonly audiences?: readonly string[];
}

/**
 * The ServiceAccounts deploy/base/rbac creates and binds, one per service (least privilege): a token
 * for one of these carries exactly the permissions that service runs with in a cluster.
 */
export const SERVICE_ACCOUNTS = {
  watcher: { namespace: 'stampede-system', name: 'stampede-watcher' },
  worker: { namespace: 'stampede-system', name: 'stampede-worker' },
} as const;

export type StampedeService = keyof typeof SERVICE_ACCOUNTS;

const isDeployed = (namespace: string, name: string): boolean =>
  Object.values(SERVICE_ACCOUNTS).some(sa => sa.namespace === namespace && sa.name === name);

async function createIfMissing(client: KubeClient, path: string, body: unknown): Promise<void> {
  const res = await client.request('POST', path, body);
  if (res.status >= 400 && res.status !== 409)
    throw new KubeApiError('POST', path, res.status, res.body);
}

/**
 * Ensures the ServiceAccount (and, unless deploy/ binds it, bindings to both services' roles), then
 * asks TokenRequest for a token.
 */
export async function requestServiceAccountToken(
  admin: KubeClient,
  namespace: string,
  name: string,
  options: TokenOptions = {},
): Promise<string> {
  await ensureNamespace(admin, namespace);
  await createIfMissing(
    admin,
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`,
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace },
    },
  );
  if (!isDeployed(namespace, name)) {
    // Any other ServiceAccount gets the union of the services' roles: the whole approver in one
    // identity, for tests of shared code (the kube client) that exercise both services' calls.
    const subjects = [{ kind: 'ServiceAccount', name, namespace }];
    for (const role of ['stampede-watcher', 'stampede-worker']) {
      await createIfMissing(admin, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${role}:${namespace}:${name}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects,
      });
    }
    await createIfMissing(
      admin,
      '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `stampede-worker-events:${namespace}:${name}`, namespace: 'default' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: 'stampede-worker-events',
        },
        subjects,
      },
    );
  }
  const response = await admin.post<{ status: { token: string } }>(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        expirationSeconds: options.expirationSeconds ?? 3600,
        ...(options.audiences !== undefined ? { audiences: options.audiences } : {}),
      },
    },
  );
  return response.status.token;
}
