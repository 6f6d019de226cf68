// A webhook authorizer for the API server that a test can break: in front of RBAC, consulted only
// for the question stampede's SubjectAccessReview asks (may this node create a CSR's
// selfnodeserver subresource), with failurePolicy Deny. Working, it has no opinion and RBAC
// answers; failing (HTTP 500) or hanging past its 1 s timeout, the API server answers the review
// "denied" with an evaluationError: the error a worker must retry, never take for a refusal.
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority, freePort, generateKeyPair, kubeconfigYaml } from '@stampede/harness';

export type WebhookMode = 'no-opinion' | 'error' | 'hang';

const MATCH =
  "has(request.resourceAttributes) && request.resourceAttributes.resource == 'certificatesigningrequests'" +
  " && request.resourceAttributes.subresource == 'selfnodeserver'";

export class SarWebhook {
  mode: WebhookMode = 'no-opinion';
  /** Reviews asked of it, by the mode it answered in. */
  readonly asked = new Map<WebhookMode, number>();
  readonly #server: Server;
  readonly #configPath: string;

  private constructor(tls: { key: string; cert: string }, configPath: string) {
    this.#configPath = configPath;
    this.#server = createServer(tls, (request, response) => {
      request.resume();
      this.#answer(response);
    });
  }

  #answer(response: ServerResponse): void {
    const mode = this.mode;
    this.asked.set(mode, (this.asked.get(mode) ?? 0) + 1);
    if (mode === 'hang') return; // the API server gives up after its timeout
    if (mode === 'error') {
      response.writeHead(500).end('broken on purpose');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        status: { allowed: false },
      }),
    );
  }

  /** The server listening, and its authorization config written into `dir`. */
  static async start(dir: string): Promise<SarWebhook> {
    const ca = CertificateAuthority.create('stampede-test-webhook-ca');
    const key = generateKeyPair();
    const cert = ca.issue(
      { subject: { commonName: 'webhook' }, extKeyUsages: ['serverAuth'], ips: ['127.0.0.1'] },
      key.spki,
    );
    const port = await freePort();
    const kubeconfig = join(dir, 'sar-webhook.kubeconfig');
    const server = { server: `https://127.0.0.1:${port}/authorize`, caPem: ca.certPem };
    writeFileSync(kubeconfig, kubeconfigYaml(server, 'apiserver'));
    const configPath = join(dir, 'authorization-config.yaml');
    writeFileSync(configPath, authorizationConfig(kubeconfig));
    const tls = {
      key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      cert: cert.certPem,
    };
    const webhook = new SarWebhook(tls, configPath);
    await new Promise<void>(resolve => webhook.#server.listen(port, '127.0.0.1', resolve));
    return webhook;
  }

  get apiserverArgs(): string[] {
    return [`--authorization-config=${this.#configPath}`];
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise(resolve => this.#server.close(resolve));
  }
}

function authorizationConfig(kubeconfig: string): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AuthorizationConfiguration
authorizers:
  - type: Node
    name: node
  - type: Webhook
    name: sar-fault
    webhook:
      timeout: 1s
      subjectAccessReviewVersion: v1
      matchConditionSubjectAccessReviewVersion: v1
      failurePolicy: Deny
      cacheAuthorizedRequests: false
      cacheUnauthorizedRequests: false
      connectionInfo:
        type: KubeConfigFile
        kubeConfigFile: ${kubeconfig}
      matchConditions:
        - expression: "${MATCH}"
  - type: RBAC
    name: rbac
`;
}
