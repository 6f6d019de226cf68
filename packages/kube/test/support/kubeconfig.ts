import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '@stampede/kube';

/** Loads a kubeconfig file, optionally pointing it at another server (e.g. a TcpProxy). */
export function kubeConfigFrom(path: string, server?: string): KubeConfig {
  const loaded = loadKubeConfig({ path });
  if (server === undefined) return loaded;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: loaded.clusters.map(c => ({ ...c, server })),
    users: loaded.users,
    contexts: loaded.contexts,
    currentContext: loaded.currentContext,
  });
  return kc;
}
