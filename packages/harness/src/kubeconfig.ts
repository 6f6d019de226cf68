// kubeconfig files with everything inline (base64 *-data fields), so a file is self-contained
// and can be handed to kubectl, the approver, or @kubernetes/client-node's KubeConfig.loadFromFile.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { KubeCredentials } from './kube.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

export function kubeconfigYaml(credentials: KubeCredentials, userName: string): string {
  const user: Record<string, string> = {};
  if (credentials.certPem !== undefined) user['client-certificate-data'] = b64(credentials.certPem);
  if (credentials.keyPem !== undefined) user['client-key-data'] = b64(credentials.keyPem);
  if (credentials.token !== undefined) user['token'] = credentials.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'stampede-harness',
        cluster: {
          server: credentials.server,
          'certificate-authority-data': b64(credentials.caPem),
        },
      },
    ],
    users: [{ name: userName, user }],
    contexts: [{ name: userName, context: { cluster: 'stampede-harness', user: userName } }],
    'current-context': userName,
  });
}

export function writeKubeconfig(
  path: string,
  credentials: KubeCredentials,
  userName: string,
): string {
  writeFileSync(path, kubeconfigYaml(credentials, userName), { mode: 0o600 });
  return path;
}
