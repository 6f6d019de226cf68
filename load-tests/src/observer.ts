// The load generator's one watch on every CSR of the run (label stampede.io/load-run), as admin (so
// APF never delays it): when each CSR was first seen Approved, Denied or Failed and when its
// certificate appeared, on the generator's own clock (performance.now()).
import { CSR_PATH, KubeApiError, issuedCertificate } from '@stampede/harness';
import type { CertificateSigningRequest, KubeClient } from '@stampede/harness';

export interface Observed {
  uid?: string;
  approvedAt?: number;
  deniedAt?: number;
  failedAt?: number;
  issuedAt?: number;
  /** Most Approved / Denied conditions ever seen on the object at once. */
  approvedConditions: number;
  deniedConditions: number;
  certificatePem?: string;
  deniedReason?: string;
  failedReason?: string;
}

interface ListBody {
  readonly metadata: { readonly resourceVersion: string };
  readonly items: CertificateSigningRequest[];
}

export class CsrObserver {
  readonly byName = new Map<string, Observed>();
  readonly #client: KubeClient;
  readonly #selector: string;
  readonly #abort = new AbortController();
  #done: Promise<void> = Promise.resolve();
  #events = 0;
  #restarts = 0;
  #error: Error | undefined;

  constructor(client: KubeClient, runId: string) {
    this.#client = client;
    this.#selector = `stampede.io/load-run=${runId}`;
  }

  /** Lists (to get a resourceVersion and anything already there), then watches until stop(). */
  async start(): Promise<void> {
    const resourceVersion = await this.#list();
    this.#done = this.#loop(resourceVersion);
  }

  get stats(): { events: number; restarts: number } {
    return { events: this.#events, restarts: this.#restarts };
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  /** Throws the watch loop's fatal error, if any. */
  check(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #list(): Promise<string> {
    const path = `${CSR_PATH}?labelSelector=${encodeURIComponent(this.#selector)}`;
    const list = await this.#client.get<ListBody>(path);
    const now = performance.now();
    for (const csr of list.items) this.#apply(csr, now);
    return list.metadata.resourceVersion;
  }

  async #loop(from: string): Promise<void> {
    let resourceVersion = from;
    const path = `${CSR_PATH}?labelSelector=${encodeURIComponent(this.#selector)}`;
    while (!this.#abort.signal.aborted) {
      try {
        const events = this.#client.watch<CertificateSigningRequest>(path, {
          resourceVersion,
          signal: this.#abort.signal,
        });
        for await (const event of events) {
          if (event.type === 'ERROR') throw new KubeApiError('WATCH', path, 410, event.object);
          const rv = event.object.metadata.resourceVersion;
          if (rv !== undefined) resourceVersion = rv;
          if (event.type === 'BOOKMARK' || event.type === 'DELETED') continue;
          this.#events++;
          this.#apply(event.object, performance.now());
        }
      } catch (error) {
        if (this.#stopped()) return;
        if (!(error instanceof KubeApiError && error.status === 410)) {
          this.#error = error instanceof Error ? error : new Error(String(error));
          return;
        }
        resourceVersion = await this.#list();
      }
      this.#restarts++;
    }
  }

  #apply(csr: CertificateSigningRequest, now: number): void {
    const name = csr.metadata.name;
    let seen = this.byName.get(name);
    if (seen === undefined) {
      seen = { approvedConditions: 0, deniedConditions: 0 };
      this.byName.set(name, seen);
    }
    if (csr.metadata.uid !== undefined) seen.uid = csr.metadata.uid;
    recordConditions(seen, csr, now);
    const certificate = issuedCertificate(csr);
    if (certificate !== undefined && seen.issuedAt === undefined) {
      seen.issuedAt = now;
      seen.certificatePem = certificate;
    }
  }
}

function recordConditions(seen: Observed, csr: CertificateSigningRequest, now: number): void {
  const conditions = (csr.status?.conditions ?? []).filter(c => c.status === 'True');
  const approved = conditions.filter(c => c.type === 'Approved');
  const denied = conditions.filter(c => c.type === 'Denied');
  seen.approvedConditions = Math.max(seen.approvedConditions, approved.length);
  seen.deniedConditions = Math.max(seen.deniedConditions, denied.length);
  if (approved.length > 0) seen.approvedAt ??= now;
  const firstDenied = denied[0];
  if (firstDenied !== undefined && seen.deniedAt === undefined) {
    seen.deniedAt = now;
    seen.deniedReason = firstDenied.reason ?? '';
  }
  const failed = conditions.find(c => c.type === 'Failed');
  if (failed !== undefined && seen.failedAt === undefined) {
    seen.failedAt = now;
    seen.failedReason = `${failed.reason ?? ''}: ${failed.message ?? ''}`;
  }
}
