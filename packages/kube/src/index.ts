export type * from './types.ts';
export { KUBELET_SERVING_SIGNER } from './types.ts';
export {
  KubeApiError,
  RetryableError,
  ConflictError,
  NotFoundError,
  GoneError,
  PermanentError,
  ForbiddenError,
  InvalidError,
} from './errors.ts';
export { createKubeClient } from './client.ts';
export { loadKubeConfig } from './kubeconfig.ts';
export { projectNodeAddresses } from './project.ts';
export { parseRetryAfter } from './classify.ts';
