// The KubeletConfiguration and flags of a test kubelet: a real kubelet that runs no containers, on
// a machine it must not change (root, cgroup v1, no swap rules, no iptables), serving on its own
// node IP and port. Pure: real-kubelet.ts writes the file and spawns the process.

export interface KubeletConfigInput {
  /** The address the kubelet's HTTPS server binds: the node's primary IP. */
  readonly address: string;
  readonly port: number;
  /** /healthz on 127.0.0.1 (the default 10248 would clash between kubelets). */
  readonly healthzPort: number;
  /** `unix:///…/cri.sock`: the fake CRI in the same binary. */
  readonly criEndpoint: string;
  readonly podLogsDir: string;
  /** The cluster CA: who may call the kubelet's API (nobody does in the tests). */
  readonly clientCaFile: string;
}

export function kubeletConfig(input: KubeletConfigInput): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // What the tests are about: file a kubelet-serving CSR and serve what it is issued.
    serverTLSBootstrap: true,
    address: input.address,
    port: input.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: input.healthzPort,
    containerRuntimeEndpoint: input.criEndpoint,
    imageServiceEndpoint: input.criEndpoint,
    // This machine: cgroup v1 with swap on, and no pods, so no cgroups of the kubelet's own.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    // Host state the kubelet would otherwise change: iptables chains (KUBE-FIREWALL, canaries) and
    // /var/log/pods. (The kernel tunables and the root-dir mount are kept inside its mount
    // namespace by go/kubelet's --sandbox-dir.)
    makeIPTablesUtilChains: false,
    podLogsDir: input.podLogsDir,
    // Only client certificates of the cluster CA; no webhook round trips to the API server.
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: input.clientCaFile },
    },
    authorization: { mode: 'AlwaysAllow' },
    // No image or container garbage to collect, and a full test disk must not evict anything.
    evictionHard: {},
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
  };
}

export interface KubeletArgsInput {
  readonly name: string;
  readonly nodeIps: readonly string[];
  readonly configFile: string;
  readonly kubeconfig: string;
  readonly rootDir: string;
  readonly certDir: string;
  readonly criEndpoint: string;
  readonly sandboxDir: string;
}

export function kubeletArgs(input: KubeletArgsInput): string[] {
  return [
    `--fake-cri-endpoint=${input.criEndpoint}`,
    `--sandbox-dir=${input.sandboxDir}`,
    `--config=${input.configFile}`,
    `--kubeconfig=${input.kubeconfig}`,
    `--root-dir=${input.rootDir}`,
    `--cert-dir=${input.certDir}`,
    `--hostname-override=${input.name}`,
    // One IP, or an IPv4 and an IPv6 one (dual-stack): the Node's InternalIP addresses.
    `--node-ip=${input.nodeIps.join(',')}`,
    // V(2) logs the rotation deadline and each CSR the certificate manager files.
    '--v=2',
  ];
}
