import type { CreateKubeClient } from './types.ts';

export const createKubeClient: CreateKubeClient = () => {
  return Promise.reject(new Error('@stampede/kube: createKubeClient is not implemented yet'));
};
