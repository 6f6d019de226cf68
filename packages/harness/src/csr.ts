// The slice of the certificates.k8s.io/v1 and core/v1 shapes the harness reads and writes.
import type { KubeClient } from './kube.ts';

export const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** What a kubelet with an ECDSA key asks for (key encipherment only comes with RSA keys). */
export const KUBELET_SERVING_USAGES = ['digital signature', 'server auth'] as const;

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface CsrCondition {
  readonly type: 'Approved' | 'Denied' | 'Failed' | (string & {});
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly lastUpdateTime?: string;
  readonly lastTransitionTime?: string;
}

export interface CertificateSigningRequest {
  readonly apiVersion: 'certificates.k8s.io/v1';
  readonly kind: 'CertificateSigningRequest';
  readonly metadata: ObjectMeta;
  readonly spec: {
    /** base64 of the PEM text */
    readonly request: string;
    readonly signerName: string;
    readonly usages?: readonly string[];
    readonly expirationSeconds?: number;
    readonly username?: string;
    readonly uid?: string;
    readonly groups?: readonly string[];
    readonly extra?: Readonly<Record<string, readonly string[]>>;
  };
  readonly status?: {
    readonly conditions?: readonly CsrCondition[];
    /** base64 of the PEM chain */
    readonly certificate?: string;
  };
}

export interface NodeAddress {
  readonly type: 'Hostname' | 'InternalIP' | 'ExternalIP' | 'InternalDNS' | 'ExternalDNS';
  readonly address: string;
}

export interface KubeNode {
  readonly apiVersion: 'v1';
  readonly kind: 'Node';
  readonly metadata: ObjectMeta;
  readonly status?: { readonly addresses?: readonly NodeAddress[] };
}

export interface CsrManifestOptions {
  readonly name: string;
  readonly requestPem: string;
  readonly signerName?: string;
  readonly usages?: readonly string[];
  readonly expirationSeconds?: number;
}

export function csrManifest(options: CsrManifestOptions): CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: options.name },
    spec: {
      request: Buffer.from(options.requestPem).toString('base64'),
      signerName: options.signerName ?? KUBELET_SERVING_SIGNER,
      usages: options.usages ?? KUBELET_SERVING_USAGES,
      ...(options.expirationSeconds !== undefined
        ? { expirationSeconds: options.expirationSeconds }
        : {}),
    },
  };
}

export function condition(csr: CertificateSigningRequest, type: string): CsrCondition | undefined {
  return csr.status?.conditions?.find(c => c.type === type && c.status === 'True');
}

/** The issued certificate chain as PEM text, once the signer has written it. */
export function issuedCertificate(csr: CertificateSigningRequest): string | undefined {
  const b64 = csr.status?.certificate;
  return b64 === undefined || b64 === '' ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

/**
 * Approves (or denies) through the /approval subresource, as `kubectl certificate approve` does:
 * read, append the condition, PUT with the read resourceVersion (so a concurrent change is a 409).
 */
export async function setApprovalCondition(
  client: KubeClient,
  name: string,
  type: 'Approved' | 'Denied',
  reason = 'HarnessApproved',
): Promise<CertificateSigningRequest> {
  const path = `${CSR_PATH}/${encodeURIComponent(name)}`;
  const csr = await client.get<CertificateSigningRequest>(path);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const updated: CertificateSigningRequest = {
    ...csr,
    status: {
      ...csr.status,
      conditions: [
        ...(csr.status?.conditions ?? []),
        {
          type,
          status: 'True',
          reason,
          message: `set by the stampede test harness`,
          lastUpdateTime: now,
        },
      ],
    },
  };
  return client.put<CertificateSigningRequest>(`${path}/approval`, updated);
}
