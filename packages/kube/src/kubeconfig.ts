import { KubeConfig } from '@kubernetes/client-node';
import type { LoadKubeConfig } from './types.ts';

/**
 * In-cluster config when KUBERNETES_SERVICE_HOST is set (CA and namespace from the service-account
 * mount; the token file is re-read by the client as it rotates), else the `path` given, else
 * KUBECONFIG / ~/.kube/config.
 */
export const loadKubeConfig: LoadKubeConfig = (options = {}) => {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  if (options.path !== undefined) {
    kc.loadFromFile(options.path);
  } else if (env['KUBERNETES_SERVICE_HOST'] !== undefined && env['KUBECONFIG'] === undefined) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (kc.getCurrentCluster() === null) {
    throw new Error('kubeconfig: no current cluster (set KUBECONFIG or run in a cluster)');
  }
  return kc;
};
