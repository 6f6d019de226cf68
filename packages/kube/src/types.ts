// The public contract of @stampede/kube: the Kubernetes API adapter used by the watcher and the
// worker. Implementations live next to this file; services import only from the package root.
import type {
  KubeConfig,
  V1CertificateSigningRequest,
  V1CertificateSigningRequestCondition,
  V1Node,
  V1NodeAddress,
  V1Service,
  V1ServiceCIDR,
  V1SubjectAccessReviewSpec,
} from '@kubernetes/client-node';

/**
 * The JSON wire form of a client-node model: `Date` fields are RFC 3339 strings, as the API server
 * sends them. This adapter parses each response once with `JSON.parse` and does not run client-node's
 * ObjectSerializer, so the values it returns are wire objects, not model instances.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer E)[]
    ? Wire<E>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type CertificateSigningRequest = Wire<V1CertificateSigningRequest>;
export type CsrCondition = Wire<V1CertificateSigningRequestCondition>;
export type Node = Wire<V1Node>;
export type NodeAddress = Wire<V1NodeAddress>;
export type SubjectAccessReviewSpec = Wire<V1SubjectAccessReviewSpec>;
export type Service = Wire<V1Service>;
export type ServiceCidr = Wire<V1ServiceCIDR>;

/**
 * The subset of a pino logger this package writes to. Pass a pino logger (or a child); this package
 * never creates one.
 */
export interface KubeLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KubeClientOptions {
  /** Loaded with {@link loadKubeConfig} (in-cluster or KUBECONFIG) or built by a test harness. */
  readonly kubeConfig: KubeConfig;
  readonly logger: KubeLogger;
  /** Per-request deadline for unary calls (headers and body). Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Maximum concurrent connections to the API server (HTTP/1.1). Default 32. */
  readonly maxConnections?: number;
  /** Offer HTTP/2 through ALPN. Default false: HTTP/1.1 keep-alive costs less client CPU in Node. */
  readonly allowH2?: boolean;
  /**
   * How often credentials (bearer token, token file, client certificate files) are re-read from the
   * kubeconfig. Default 60 000 ms, as client-go. A 401 also forces a re-read and one retry.
   */
  readonly credentialRefreshMs?: number;
  /** Sent as User-Agent; default `stampede`. */
  readonly userAgent?: string;
  /** Called once per unary call (never for watch streams), for metrics. Must not throw. */
  readonly onRequest?: (observation: RequestObservation) => void;
}

/** One finished unary API call: Kubernetes-style verb, HTTP status code ("error" when none). */
export interface RequestObservation {
  /** 'watch' only for a watch the API server refused or that could not be opened. */
  readonly verb: 'get' | 'list' | 'create' | 'update' | 'watch';
  readonly code: string;
  readonly durationMs: number;
  /** What an HTTP client span needs (OpenTelemetry HTTP conventions). */
  readonly method: 'GET' | 'POST' | 'PUT';
  /** The API server's origin, e.g. https://10.0.0.1:6443. */
  readonly origin: string;
  /** The HTTP status of the response; undefined when none came (network error, timeout). */
  readonly status: number | undefined;
  /** When the call started, in epoch milliseconds (with fractions). */
  readonly startedAtMs: number;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the request; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * A GET's `resourceVersion`, with the API server's meaning of it:
 * - absent: the latest version, a quorum read from etcd;
 * - `'0'`: any version, served from the watch cache, possibly a stale one;
 * - any other: a version not older than this one, served from the watch cache once it has reached
 *   it (504, a RetryableError, when it does not within a few seconds).
 */
export interface ReadOptions extends CallOptions {
  readonly resourceVersion?: string;
}

/** The condition written through `/approval`. `lastUpdateTime` is filled in when absent. */
export interface ApprovalCondition {
  readonly type: 'Approved' | 'Denied';
  /** CamelCase, e.g. `AutoApproved` or a policy ReasonCode. */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339; defaults to the current time at second resolution. */
  readonly lastUpdateTime?: string;
}

/** The answer of a SubjectAccessReview. `allowed` false and `denied` false means "no opinion". */
export interface AccessReviewResult {
  readonly allowed: boolean;
  readonly denied: boolean;
  readonly reason: string;
  /** Set when an authorizer failed; the decision may then be incomplete (treat as transient). */
  readonly evaluationError?: string;
}

/**
 * An Event about a CSR. Written as events.k8s.io/v1 in {@link CsrEventInput.namespace} (default
 * `default`: cluster-scoped objects' events must live in `default` or `kube-system`), with
 * `regarding` pointing at the CSR so that `kubectl describe csr` lists it.
 */
export interface CsrEventInput {
  readonly csr: CertificateSigningRequest;
  readonly type: 'Normal' | 'Warning';
  /** CamelCase reason, ≤ 128 characters. */
  readonly reason: string;
  /** What was done, e.g. `Approve`, `Deny`; ≤ 128 characters. */
  readonly action: string;
  /** Human-readable; truncated to 1 KiB. */
  readonly note: string;
  /** `reportingController`, e.g. `stampede.io/approver`. */
  readonly reportingController: string;
  /** `reportingInstance`, e.g. the pod name. */
  readonly reportingInstance: string;
  /**
   * When set, the Event name is derived from the CSR uid and this key, and an existing Event of that
   * name counts as success: retries never duplicate the Event.
   */
  readonly dedupeKey?: string;
  readonly namespace?: string;
}

export type CreateEventResult = 'created' | 'exists';

/** An events.k8s.io/v1 Event about a CSR, as read back: the fields a reader of reasons needs. */
export interface CsrEvent {
  readonly metadata?: { readonly name?: string; readonly creationTimestamp?: string };
  readonly type?: string;
  readonly reason?: string;
  readonly note?: string;
  readonly action?: string;
  readonly eventTime?: string;
  readonly reportingController?: string;
  readonly reportingInstance?: string;
  readonly regarding?: { readonly kind?: string; readonly name?: string; readonly uid?: string };
}

/** One page-assembled LIST result. */
export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

/** Counters for reporting, e.g. connections per 1,000 calls. All monotonic except `openSockets`. */
export interface KubeClientStats {
  /** Unary requests started (excluding watches). */
  readonly requests: number;
  /** Watch requests started. */
  readonly watches: number;
  /** Sockets created (TCP connects). */
  readonly connections: number;
  /** Completed TLS handshakes (`secureConnect`). Equal to `connections` on https. */
  readonly tlsHandshakes: number;
  readonly openSockets: number;
  /** Errors by class name, e.g. `{ RetryableError: 3, ConflictError: 1 }`. */
  readonly errors: Readonly<Record<string, number>>;
}

/** What changed in a list/watch store. `previous` is set on `updated` and `deleted`. */
export interface StoreChange<P> {
  readonly type: 'added' | 'updated' | 'deleted';
  readonly key: string;
  readonly value: P;
  readonly previous?: P;
}

/** How objects are kept: the projection keeps memory bounded (never cache whole Nodes). */
export interface ListWatchOptions<T, P> {
  readonly signal: AbortSignal;
  readonly labelSelector?: string;
  /** Extra field selector; the CSR watch always adds `spec.signerName=kubernetes.io/kubelet-serving`. */
  readonly fieldSelector?: string;
  /** Reduce each object to what the caller keeps. Return undefined to not keep (treated as absent). */
  readonly project: (object: T) => P | undefined;
  /** Called for every change, in order, after the store has been updated. Must not throw. */
  readonly onChange?: (change: StoreChange<P>) => void;
  /** Called after every completed LIST (first sync and each relist), after its changes. */
  readonly onSynced?: () => void;
  /**
   * Called with stats.resourceVersion each time the store is known to hold every change up to it:
   * after a LIST, after each watch event has been applied (and onChange called), and on bookmarks.
   * A caller that read an object at version v can wait for progress ≥ v. Must not throw.
   */
  readonly onProgress?: (resourceVersion: string) => void;
  /** Called after each watch (re)connects (HTTP 200 on the watch request). */
  readonly onConnect?: () => void;
  /** Page size of LIST requests. Default 500. */
  readonly pageSize?: number;
  /** Backoff between restarts: initial delay (default 500 ms), cap (default 30 000 ms). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Server-side watch timeout range in seconds; randomised per watch. Default [240, 300]. */
  readonly watchTimeoutSeconds?: readonly [number, number];
  /**
   * A watch that delivers nothing, not even a bookmark, this long is dropped and restarted from
   * its resourceVersion. The API server sends a bookmark about once a minute, so silence this long
   * means a stalled connection (a dead peer, a half-open NAT entry), not a quiet resource.
   * Default 90 000.
   */
  readonly idleTimeoutMs?: number;
}

export interface ListWatchStats {
  /** True once the first LIST completed; stays true across relists. */
  readonly synced: boolean;
  /** True while a watch stream is open (HTTP 200 received and not yet ended). */
  readonly connected: boolean;
  /** Restarts after an error or a stream end (watch or list). */
  readonly restarts: number;
  /** LISTs done, including the first. */
  readonly lists: number;
  /** Relists forced by 410 Gone. */
  readonly expired: number;
  readonly events: number;
  readonly bookmarks: number;
  readonly resourceVersion: string;
  /** ms since the epoch of the last list completion, watch event or bookmark; 0 before any. */
  readonly lastActivityAtMs: number;
  readonly lastError?: string;
  /** HTTP status of the last error, when it had one (404: the API server does not serve the resource). */
  readonly lastErrorStatus?: number | undefined;
}

/**
 * A resilient list/watch loop over one resource with an in-memory store of projections: LIST
 * (paginated), then WATCH from the list's resourceVersion with bookmarks; relist on 410 Gone;
 * restart with capped exponential backoff and jitter on any other error or stream end. It runs
 * until the signal aborts; it never rejects, it reports errors through the logger and `stats()`.
 */
export interface ListWatch<P> {
  /** The current store, keyed by object name. Read-only view; do not keep across awaits. */
  readonly store: ReadonlyMap<string, P>;
  stats(): ListWatchStats;
  /** Resolves once synced (first LIST done) or rejects with the signal's reason when aborted first. */
  synced(): Promise<void>;
  /** Resolves when the loop has stopped after the signal aborted. Never rejects. */
  readonly done: Promise<void>;
}

/** The CSR signer this adapter serves. */
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/**
 * A Kubernetes API client with one long-lived connection pool per instance. Create one per process.
 *
 * Every method rejects only with a {@link KubeApiError} subclass (or the abort reason):
 * - {@link RetryableError}: network failure, timeout, 408, 429 (with `retryAfterMs`), 5xx. Retry with
 *   backoff. Never turn it into a deny.
 * - {@link ConflictError}: 409; re-read and decide again.
 * - {@link NotFoundError}: 404 (except `getNode`, which resolves `undefined`).
 * - {@link GoneError}: 410 on LIST/WATCH (handled inside list/watch).
 * - {@link PermanentError} ({@link ForbiddenError} for 401/403, {@link InvalidError} for 422, others):
 *   the same request will fail again. Fail the job and alert; never deny a CSR because of it.
 */
export interface KubeClient {
  /** GET a CSR (a quorum read unless `resourceVersion` says otherwise). 404 → NotFoundError. */
  getCsr(name: string, options?: ReadOptions): Promise<CertificateSigningRequest>;
  /** LIST kubelet-serving CSRs (paginated, consistent read). */
  listCsrs(options?: CallOptions): Promise<ListResult<CertificateSigningRequest>>;
  /**
   * The same LIST, each page reduced by `project` before the next is read (undefined: dropped),
   * so a LIST of 100,000 CSRs never holds 100,000 whole objects.
   */
  listCsrs<P>(
    options: CallOptions & { readonly project: (csr: CertificateSigningRequest) => P | undefined },
  ): Promise<ListResult<P>>;
  /**
   * PUT `/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval` with the object as
   * read plus `condition`. The body carries the read `metadata.resourceVersion` and `uid`, so a
   * changed or re-created CSR answers 409 → ConflictError. Resolves to the updated CSR.
   */
  updateApproval(
    csr: CertificateSigningRequest,
    condition: ApprovalCondition,
    options?: CallOptions,
  ): Promise<CertificateSigningRequest>;
  /** POST a SubjectAccessReview. */
  createSubjectAccessReview(
    spec: SubjectAccessReviewSpec,
    options?: CallOptions,
  ): Promise<AccessReviewResult>;
  /** GET a Node (a quorum read unless `resourceVersion` says otherwise); `undefined` when absent. */
  getNode(name: string, options?: ReadOptions): Promise<Node | undefined>;
  /** GET a Service; resolves `undefined` when it does not exist. */
  getService(namespace: string, name: string, options?: CallOptions): Promise<Service | undefined>;
  /** POST an events.k8s.io/v1 Event regarding the CSR. */
  createEvent(input: CsrEventInput, options?: CallOptions): Promise<CreateEventResult>;
  /**
   * LIST the events.k8s.io/v1 Events in `namespace` (default `default`) regarding CSRs and reported
   * by `reportingController` (both as server-side field selectors; paginated).
   */
  listCsrEvents(
    options: CallOptions & { readonly reportingController: string; readonly namespace?: string },
  ): Promise<ListResult<CsrEvent>>;
  /** List+watch kubelet-serving CSRs (field selector `spec.signerName=kubernetes.io/kubelet-serving`). */
  watchCsrs<P>(options: ListWatchOptions<CertificateSigningRequest, P>): ListWatch<P>;
  /** List+watch Nodes; project to what you need (e.g. {@link projectNodeAddresses}). */
  watchNodes<P>(options: ListWatchOptions<Node, P>): ListWatch<P>;
  /** List+watch `networking.k8s.io/v1` ServiceCIDRs (the cluster's Service IP ranges). */
  watchServiceCidrs<P>(options: ListWatchOptions<ServiceCidr, P>): ListWatch<P>;
  stats(): KubeClientStats;
  /** Stops every list/watch loop of this client, then closes the pool after in-flight requests end. */
  close(): Promise<void>;
}

/** The Node projection the address index needs. */
export interface NodeAddresses {
  readonly name: string;
  readonly uid: string;
  readonly addresses: readonly { readonly type: string; readonly address: string }[];
}

// Errors, one class per way the caller must react. Re-declared in errors.ts with implementations.
export type {
  KubeApiError,
  RetryableError,
  ConflictError,
  NotFoundError,
  GoneError,
  PermanentError,
  ForbiddenError,
  InvalidError,
  RetryableKind,
} from './errors.ts';

/** Loads in-cluster config when KUBERNETES_SERVICE_HOST is set, else KUBECONFIG / ~/.kube/config. */
export type LoadKubeConfig = (options?: {
  /** A kubeconfig file; wins over the environment. */
  readonly path?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}) => KubeConfig;

/** Resolves TLS material and credentials once (fails fast on a bad kubeconfig), then opens lazily. */
export type CreateKubeClient = (options: KubeClientOptions) => Promise<KubeClient>;
