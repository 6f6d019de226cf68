// The simulated fleet: Nodes with addresses, and one kubelet per CSR that creates a real ECDSA P-256
// PKCS#10 request from its Node's addresses, as that node. Everything expensive (keys, signatures,
// node client certificates, request bodies, TLS connections) is prepared before the clock starts.
import { CSR_PATH, KubeletEmulator, csrManifest, KUBELET_SERVING_USAGES } from '@stampede/harness';
import type { KubeClient, KubeletHarness, NodeAddress } from '@stampede/harness';
import { kubeletCsr } from '@stampede/testing';

export interface FleetNode {
  readonly name: string;
  readonly addresses: readonly NodeAddress[];
}

/** `count` Nodes named `<prefix>-<i>`, each with its host name and a unique InternalIP. */
export function fleetNodes(prefix: string, count: number): FleetNode[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `${prefix}-${i}`;
    // Data in Node status and certificates only: nothing is ever sent to these addresses.
    const ip = `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    return {
      name,
      addresses: [
        { type: 'Hostname', address: name },
        { type: 'InternalIP', address: ip },
      ],
    };
  });
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) await work(item, i);
    }
  });
  await Promise.all(runners);
}

/** Creates the Nodes (as admin) with status.addresses, the way a kubelet registers. */
export async function createNodes(
  admin: KubeClient,
  nodes: readonly FleetNode[],
  concurrency = 32,
): Promise<void> {
  await pool(nodes, concurrency, async node => {
    const created = await admin.request<{ status?: { addresses?: unknown[] } }>(
      'POST',
      '/api/v1/nodes',
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node.name, labels: { 'stampede.io/load-test': 'true' } },
        status: { addresses: node.addresses },
      },
    );
    if (created.status === 409) return;
    if (created.status >= 300) throw new Error(`create Node ${node.name}: HTTP ${created.status}`);
    if ((created.body.status?.addresses ?? []).length > 0) return;
    await admin.patch(`/api/v1/nodes/${node.name}/status`, {
      status: { addresses: node.addresses },
    });
  });
}

export async function deleteNodes(admin: KubeClient, nodes: readonly FleetNode[]): Promise<void> {
  await pool(nodes, 32, async node => {
    await admin.request('DELETE', `/api/v1/nodes/${node.name}`);
  });
}

/** What a CSR must end as. */
export type CsrKind = 'valid' | 'invalid' | 'other-signer';

export interface Mix {
  /** Share of invalid kubelet-serving CSRs, which must be denied (e.g. 0.05). */
  readonly invalid: number;
  /** Share of CSRs for other signers, which must be ignored (e.g. 0.10). */
  readonly otherSigner: number;
}

export interface PlannedCsr {
  readonly index: number;
  readonly name: string;
  readonly node: FleetNode;
  readonly kind: CsrKind;
  /** How it is valid or not: `kubelet`, `foreign-dns`, `foreign-ip`, `bad-usages`, a signer name. */
  readonly variant: string;
  readonly signerName: string;
  /** The JSON body of the create, built in advance. */
  readonly body: string;
  readonly emulator: KubeletEmulator;
}

const INVALID_VARIANTS = ['foreign-dns', 'foreign-ip', 'bad-usages'] as const;
const OTHER_SIGNERS = [
  'kubernetes.io/kube-apiserver-client-kubelet',
  'example.com/stampede-load-test',
];

/**
 * The kind of each of `count` CSRs, spread evenly: CSR i is invalid when the invalid ones so far fall
 * behind ⌊(i+1)·share⌋, likewise (half a step later) for other signers, so any prefix of a storm has the whole's mix
 * and the totals are ⌊count·share⌋.
 */
export function kindsFor(count: number, mix: Mix): CsrKind[] {
  const kinds: CsrKind[] = [];
  let invalid = 0;
  let other = 0;
  // Half a period out of phase with the invalid ones, so the two rarely fall due together.
  const otherTotal = Math.floor(count * mix.otherSigner + 1e-9);
  for (let i = 0; i < count; i++) {
    if (invalid < Math.floor((i + 1) * mix.invalid + 1e-9)) {
      invalid++;
      kinds.push('invalid');
    } else if (other < Math.min(otherTotal, Math.floor((i + 1) * mix.otherSigner + 0.5))) {
      other++;
      kinds.push('other-signer');
    } else {
      kinds.push('valid');
    }
  }
  return kinds;
}

interface PlanOptions {
  readonly kubelets: KubeletHarness;
  readonly nodes: readonly FleetNode[];
  readonly count: number;
  readonly mix: Mix;
  readonly runId: string;
  readonly scenario: string;
}

function requestFor(
  kind: CsrKind,
  i: number,
  node: FleetNode,
): {
  addresses: readonly NodeAddress[];
  variant: string;
  signerName: string;
  usages: readonly string[];
} {
  const serving = 'kubernetes.io/kubelet-serving';
  if (kind === 'valid')
    return {
      addresses: node.addresses,
      variant: 'kubelet',
      signerName: serving,
      usages: KUBELET_SERVING_USAGES,
    };
  if (kind === 'other-signer') {
    const signerName = OTHER_SIGNERS[i % OTHER_SIGNERS.length] ?? serving;
    const client = signerName.endsWith('client-kubelet');
    return {
      addresses: node.addresses,
      variant: signerName,
      signerName,
      usages: client ? ['digital signature', 'client auth'] : KUBELET_SERVING_USAGES,
    };
  }
  const variant = INVALID_VARIANTS[i % INVALID_VARIANTS.length] ?? 'foreign-dns';
  // A SAN the Node does not report (SanNotOwned), or usages the policy does not allow.
  const extra: NodeAddress[] =
    variant === 'foreign-dns'
      ? [{ type: 'Hostname', address: `${node.name}.not-this-node.example` }]
      : variant === 'foreign-ip'
        ? [{ type: 'InternalIP', address: `192.0.2.${(i % 250) + 1}` }]
        : [];
  const usages =
    variant === 'bad-usages'
      ? ['digital signature', 'key encipherment', 'server auth', 'client auth']
      : KUBELET_SERVING_USAGES;
  return { addresses: [...node.addresses, ...extra], variant, signerName: serving, usages };
}

/** Builds every CSR of a scenario: keys, signed requests, bodies, node clients. */
export function planCsrs(options: PlanOptions): PlannedCsr[] {
  const { nodes, count, mix } = options;
  const kinds = kindsFor(count, mix);
  return Array.from({ length: count }, (_, i) => {
    const node = nodes[i % nodes.length];
    if (node === undefined) throw new Error('planCsrs: no Nodes');
    const kind = kinds[i] ?? 'valid';
    const { addresses, variant, signerName, usages } = requestFor(kind, i, node);
    const emulator = new KubeletEmulator({
      nodeName: node.name,
      addresses,
      harness: options.kubelets,
      sharedClientKey: true,
    });
    const name = `${node.name}-${options.scenario}-${i}`;
    const requestPem =
      variant === 'kubernetes.io/kube-apiserver-client-kubelet'
        ? kubeletCsr({ nodeName: node.name, dnsNames: [], ips: [], key: emulator.key }).pemText
        : emulator.requestPem();
    const manifest = csrManifest({ name, requestPem, signerName, usages });
    const body = JSON.stringify({
      ...manifest,
      metadata: {
        name,
        labels: { 'stampede.io/load-run': options.runId, 'stampede.io/scenario': options.scenario },
      },
    });
    return { index: i, name, node, kind, variant, signerName, body, emulator };
  });
}

/**
 * Opens each kubelet's connection before the clock starts (a GET of its own Node, which the Node
 * authorizer allows): a kubelet has a live connection to the API server long before it rotates.
 */
export async function warmConnections(
  csrs: readonly PlannedCsr[],
  concurrency = 64,
): Promise<void> {
  const byClient = new Map<KubeClient, string>();
  for (const csr of csrs) byClient.set(csr.emulator.client, csr.node.name);
  await pool([...byClient], concurrency, async ([client, nodeName]) => {
    await client.request('GET', `/api/v1/nodes/${nodeName}`);
  });
}

export interface CreateResult {
  readonly name: string;
  /** performance.now() when the create was sent. */
  readonly sentAt: number;
  /** performance.now() when the create was acknowledged (201). */
  readonly createdAt: number;
  readonly status: number;
}

/**
 * Up to this many kubelets keep a warm connection through a scenario. Beyond it (the 100,000
 * storm) one open connection per kubelet would exceed this process's file limit (20,000 here) and
 * load the API server with idle TLS sessions no single machine carries, so each kubelet connects
 * for its create and closes again: one TLS handshake more per CSR, on the kubelet's side.
 */
export const WARM_CONNECTIONS_MAX = 12_000;

/** POSTs one planned CSR as its node; `close`: drop the node's connection afterwards. */
export async function createCsr(csr: PlannedCsr, close = false): Promise<CreateResult> {
  const sentAt = performance.now();
  try {
    const response = await csr.emulator.client.request('POST', CSR_PATH, csr.body);
    return { name: csr.name, sentAt, createdAt: performance.now(), status: response.status };
  } finally {
    if (close) csr.emulator.client.close();
  }
}
