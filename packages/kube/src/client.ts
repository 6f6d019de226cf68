import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, ConflictError } from './errors.ts';
import { startListWatch } from './list-watch.ts';
import { readPath } from './read-path.ts';
import { Transport } from './transport.ts';
import { KUBELET_SERVING_SIGNER } from './types.ts';
import type {
  AccessReviewResult,
  ApprovalCondition,
  CallOptions,
  CertificateSigningRequest,
  CreateEventResult,
  CreateKubeClient,
  CsrEvent,
  CsrEventInput,
  KubeClient,
  KubeClientStats,
  ListResult,
  ListWatch,
  ListWatchOptions,
  Node,
  ReadOptions,
  Service,
  ServiceCidr,
  SubjectAccessReviewSpec,
} from './types.ts';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const NODE_PATH = '/api/v1/nodes';
const SERVICE_CIDR_PATH = '/apis/networking.k8s.io/v1/servicecidrs';
const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const SIGNER_SELECTOR = `spec.signerName=${KUBELET_SERVING_SIGNER}`;
/** events.k8s.io/v1 `note` limit (bytes). */
const NOTE_LIMIT = 1024;
const EVENT_FIELD_LIMIT = 128;

const segment = (name: string): string => encodeURIComponent(name);

/** RFC 3339 at second resolution, as Kubernetes stores condition times. */
function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime wants exactly six fractional digits. */
function nowMicro(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function truncateBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  // Cut on a character boundary; the decoder drops a trailing partial sequence as U+FFFD, so trim it.
  return bytes
    .subarray(0, limit - 3)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

/** A DNS-subdomain Event name; deterministic when a dedupe key is given. */
function eventName(input: CsrEventInput): string {
  const csrName = input.csr.metadata?.name ?? 'csr';
  const suffix =
    input.dedupeKey === undefined
      ? randomBytes(8).toString('hex')
      : createHash('sha256')
          .update(`${input.csr.metadata?.uid ?? ''}\0${input.dedupeKey}`)
          .digest('hex')
          .slice(0, 16);
  return `${csrName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

class Client implements KubeClient {
  readonly #transport: Transport;
  readonly #logger: Parameters<CreateKubeClient>[0]['logger'];
  /** Aborted by close(): every list/watch loop of this client stops with it. */
  readonly #closing = new AbortController();

  constructor(transport: Transport, logger: Parameters<CreateKubeClient>[0]['logger']) {
    this.#transport = transport;
    this.#logger = logger;
  }

  async getCsr(name: string, options: ReadOptions = {}): Promise<CertificateSigningRequest> {
    return (await this.#transport.request({
      method: 'GET',
      path: readPath(`${CSR_PATH}/${segment(name)}`, options),
      signal: options.signal,
    })) as CertificateSigningRequest;
  }

  listCsrs<P = CertificateSigningRequest>(
    options: CallOptions & {
      readonly project?: (csr: CertificateSigningRequest) => P | undefined;
    } = {},
  ): Promise<ListResult<P>> {
    const project = options.project ?? ((csr: CertificateSigningRequest) => csr as P);
    return this.#listAll(CSR_PATH, SIGNER_SELECTOR, options, project);
  }

  listCsrEvents(
    options: CallOptions & { readonly reportingController: string; readonly namespace?: string },
  ): Promise<ListResult<CsrEvent>> {
    const namespace = segment(options.namespace ?? 'default');
    const selector = `regarding.kind=CertificateSigningRequest,reportingController=${options.reportingController}`;
    return this.#listAll(
      `/apis/events.k8s.io/v1/namespaces/${namespace}/events`,
      selector,
      options,
    );
  }

  /** Every page of a LIST with a field selector, as one consistent read. */
  async #listAll<T, P = T>(
    path: string,
    fieldSelector: string,
    options: CallOptions,
    project: (item: T) => P | undefined = item => item as unknown as P,
  ): Promise<ListResult<P>> {
    const items: P[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const query = new URLSearchParams({ fieldSelector, limit: '500' });
      if (token !== undefined) query.set('continue', token);
      const page = (await this.#transport.request({
        method: 'GET',
        path: `${path}?${query.toString()}`,
        signal: options.signal,
      })) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const item of page.items ?? []) {
        const kept = project(item);
        if (kept !== undefined) items.push(kept);
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
    } while (token !== undefined);
    return { items, resourceVersion };
  }

  async updateApproval(
    csr: CertificateSigningRequest,
    condition: ApprovalCondition,
    options: CallOptions = {},
  ): Promise<CertificateSigningRequest> {
    const name = csr.metadata?.name;
    const resourceVersion = csr.metadata?.resourceVersion;
    if (name === undefined || resourceVersion === undefined || resourceVersion === '') {
      // Without a resourceVersion the PUT would be unconditional: refuse, as a conflict.
      throw new ConflictError({
        method: 'PUT',
        path: `${CSR_PATH}/${segment(name ?? '')}/approval`,
        message: 'updateApproval: the CSR has no name or resourceVersion; re-read it',
      });
    }
    const body: CertificateSigningRequest = {
      ...csr,
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      status: {
        ...csr.status,
        conditions: [
          ...(csr.status?.conditions ?? []),
          {
            type: condition.type,
            status: 'True',
            reason: condition.reason,
            message: condition.message,
            lastUpdateTime: condition.lastUpdateTime ?? nowSeconds(),
          },
        ],
      },
    };
    return (await this.#transport.request({
      method: 'PUT',
      path: `${CSR_PATH}/${segment(name)}/approval`,
      body,
      signal: options.signal,
    })) as CertificateSigningRequest;
  }

  async createSubjectAccessReview(
    spec: SubjectAccessReviewSpec,
    options: CallOptions = {},
  ): Promise<AccessReviewResult> {
    const review = (await this.#transport.request({
      method: 'POST',
      path: SAR_PATH,
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      signal: options.signal,
    })) as {
      status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
    };
    const status = review.status ?? {};
    return {
      allowed: status.allowed === true,
      denied: status.denied === true,
      reason: status.reason ?? '',
      ...(status.evaluationError === undefined || status.evaluationError === ''
        ? {}
        : { evaluationError: status.evaluationError }),
    };
  }

  async getNode(name: string, options: ReadOptions = {}): Promise<Node | undefined> {
    try {
      return (await this.#transport.request({
        method: 'GET',
        path: readPath(`${NODE_PATH}/${segment(name)}`, options),
        signal: options.signal,
      })) as Node;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async getService(
    namespace: string,
    name: string,
    options: CallOptions = {},
  ): Promise<Service | undefined> {
    try {
      return (await this.#transport.request({
        method: 'GET',
        path: `/api/v1/namespaces/${segment(namespace)}/services/${segment(name)}`,
        signal: options.signal,
      })) as Service;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async createEvent(input: CsrEventInput, options: CallOptions = {}): Promise<CreateEventResult> {
    const namespace = input.namespace ?? 'default';
    const name = eventName(input);
    const { metadata } = input.csr;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: nowMicro(),
      reportingController: input.reportingController,
      reportingInstance: input.reportingInstance,
      action: input.action.slice(0, EVENT_FIELD_LIMIT),
      reason: input.reason.slice(0, EVENT_FIELD_LIMIT),
      note: truncateBytes(input.note, NOTE_LIMIT),
      type: input.type,
      regarding: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        name: metadata?.name,
        uid: metadata?.uid,
        resourceVersion: metadata?.resourceVersion,
      },
    };
    try {
      await this.#transport.request({
        method: 'POST',
        path: `/apis/events.k8s.io/v1/namespaces/${segment(namespace)}/events`,
        body,
        signal: options.signal,
      });
      return 'created';
    } catch (error) {
      // 409 AlreadyExists on a deterministic name: an earlier attempt (maybe ours) wrote it.
      if (input.dedupeKey !== undefined && error instanceof ConflictError) return 'exists';
      throw error;
    }
  }

  watchCsrs<P>(options: ListWatchOptions<CertificateSigningRequest, P>): ListWatch<P> {
    return startListWatch({
      transport: this.#transport,
      target: { path: CSR_PATH, resource: 'csr', fieldSelector: SIGNER_SELECTOR },
      options: { ...options, signal: this.#loopSignal(options.signal) },
      logger: this.#logger,
    });
  }

  watchNodes<P>(options: ListWatchOptions<Node, P>): ListWatch<P> {
    return startListWatch({
      transport: this.#transport,
      target: { path: NODE_PATH, resource: 'node' },
      options: { ...options, signal: this.#loopSignal(options.signal) },
      logger: this.#logger,
    });
  }

  watchServiceCidrs<P>(options: ListWatchOptions<ServiceCidr, P>): ListWatch<P> {
    return startListWatch({
      transport: this.#transport,
      target: { path: SERVICE_CIDR_PATH, resource: 'servicecidr' },
      options: { ...options, signal: this.#loopSignal(options.signal) },
      logger: this.#logger,
    });
  }

  #loopSignal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.#closing.signal]);
  }

  stats(): KubeClientStats {
    return this.#transport.stats();
  }

  close(): Promise<void> {
    this.#closing.abort(new Error('@stampede/kube: client closed'));
    return this.#transport.close();
  }
}

export const createKubeClient: CreateKubeClient = async options => {
  const transport = await Transport.create({
    kubeConfig: options.kubeConfig,
    logger: options.logger,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    maxConnections: options.maxConnections ?? 32,
    allowH2: options.allowH2 ?? false,
    credentialRefreshMs: options.credentialRefreshMs ?? 60_000,
    userAgent: options.userAgent ?? 'stampede',
    onRequest: options.onRequest,
  });
  return new Client(transport, options.logger);
};
