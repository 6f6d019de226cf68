// The throwaway PKI of one control plane, written to <dir>/pki:
//   cluster CA        signs the apiserver's serving cert and every client cert (--client-ca-file)
//   kubelet-serving   a separate CA, given only to KCM's csrsigning controller
//   sa.key / sa.pub   ServiceAccount token signing key pair
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificateAuthority,
  generateKeyPair,
  type DistinguishedName,
  type KeyPair,
} from './pki.ts';

export interface ClientIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface PkiPaths {
  readonly clusterCaCert: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly saPublicKey: string;
  readonly saPrivateKey: string;
  readonly kubeletServingCaCert: string;
  readonly kubeletServingCaKey: string;
}

export interface IssueOptions {
  /**
   * Reuse one key pair for every certificate issued with this flag. Load tests with hundreds of
   * node identities then pay for a signature per node, not a key generation as well.
   */
  readonly sharedKey?: boolean;
}

export class ClusterPki {
  readonly dir: string;
  readonly clusterCa: CertificateAuthority;
  readonly kubeletServingCa: CertificateAuthority;
  readonly paths: PkiPaths;
  readonly admin: ClientIdentity;
  readonly controllerManager: ClientIdentity;
  #sharedKey: KeyPair | undefined;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = (name: string, content: string): string => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };

    this.clusterCa = CertificateAuthority.create('stampede-harness-cluster-ca');
    this.kubeletServingCa = CertificateAuthority.create('stampede-harness-kubelet-serving-ca');
    const serving = generateKeyPair();
    const servingCert = this.clusterCa.issue(
      {
        subject: { commonName: 'kube-apiserver' },
        extKeyUsages: ['serverAuth'],
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
        ips: ['127.0.0.1', '10.96.0.1'],
      },
      serving.spki,
    );
    const sa = generateKeyPair();

    this.paths = {
      clusterCaCert: file('cluster-ca.crt', this.clusterCa.certPem),
      apiserverCert: file('apiserver.crt', servingCert.certPem),
      apiserverKey: file('apiserver.key', serving.privateKeyPem),
      saPublicKey: file('sa.pub', sa.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      saPrivateKey: file('sa.key', sa.privateKeyPem),
      kubeletServingCaCert: file('kubelet-serving-ca.crt', this.kubeletServingCa.certPem),
      kubeletServingCaKey: file('kubelet-serving-ca.key', this.kubeletServingCa.key.privateKeyPem),
    };
    this.admin = this.issueClientCert({
      commonName: 'stampede-harness-admin',
      organizations: ['system:masters'],
    });
    // system:masters makes KCM exempt from API Priority and Fairness and needs no RBAC for signing.
    this.controllerManager = this.issueClientCert({
      commonName: 'system:kube-controller-manager',
      organizations: ['system:masters'],
    });
  }

  /** A client certificate (CN = user, O = groups) signed by the cluster CA. */
  issueClientCert(subject: DistinguishedName, options: IssueOptions = {}): ClientIdentity {
    let key: KeyPair;
    if (options.sharedKey === true) {
      this.#sharedKey ??= generateKeyPair();
      key = this.#sharedKey;
    } else {
      key = generateKeyPair();
    }
    const cert = this.clusterCa.issue({ subject, extKeyUsages: ['clientAuth'] }, key.spki);
    return { certPem: cert.certPem, keyPem: key.privateKeyPem };
  }

  /** Exactly how a kubelet authenticates: CN=system:node:<name>, O=system:nodes. */
  issueNodeClientCert(nodeName: string, options: IssueOptions = {}): ClientIdentity {
    return this.issueClientCert(
      { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] },
      options,
    );
  }
}
