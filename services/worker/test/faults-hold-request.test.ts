// F11, F23, F24 and F25 of the fault catalogue: the worker has decided and sent its approval, and
// the API server has not seen it yet. The worker runs behind a proxy (holding-proxy.ts) that keeps
// the approval request itself until the test lets it go; meanwhile the test changes, deletes or
// re-creates the CSR as admin (the write then meets an object other than the one read: 409 or
// 404), or kills the worker (the write never arrives). Judged by the API server's audit log: the
// answer each write got, what the worker did after it, and one decision per CSR, none wrong.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AUDIT_POLICY,
  CSR_PATH,
  KubeletEmulator,
  Mix,
  SERVICE_ACCOUNTS,
  assertSettled,
  AuditLog,
  checkInvariants,
  until,
} from '@stampede/harness';
import type {
  AuditEvent,
  CertificateSigningRequest,
  KubeClient,
  MixMember,
  NodeAddress,
  ServiceProcess,
  FaultFleet,
  System,
} from '@stampede/harness';
import { queueDrained, startBehindProxy } from './behind-proxy.ts';
import { approvalWrites } from './holding-proxy.ts';
import type { Hold, HoldingProxy } from './holding-proxy.ts';

/** Under the client's 10 s request timeout: past it the worker would give up on the write itself. */
const HOLD_AT_MOST_MS = 7_000;
/** How long a job that has ended must stay quiet: a retry comes back within the 2 s backoff cap. */
const QUIET_MS = 5_000;

const WORKER_USER = `system:serviceaccount:${SERVICE_ACCOUNTS.worker.namespace}:${SERVICE_ACCOUNTS.worker.name}`;

// The harness's policy, and the CSR reads besides: after a write refused because the CSR is gone,
// a retry reads first and writes nothing, so only the reads show whether the job ended.
const POLICY = AUDIT_POLICY.replace(
  '  - level: None\n',
  `  - level: Metadata
    verbs: [get]
    resources:
      - group: certificates.k8s.io
        resources: [certificatesigningrequests]
  - level: None
`,
);

interface Meddling {
  readonly admin: KubeClient;
  /** The CSR whose approval is held, as filed. */
  readonly csr: CertificateSigningRequest;
  /** Files a CSR of the same name again, as the same kubelet would. */
  readonly refile: (usages?: readonly string[]) => Promise<CertificateSigningRequest>;
}

interface Case {
  readonly name: string;
  readonly prefix: string;
  /** What the admin does while the approval is held; returns what that name should end as. */
  readonly meddle: (m: Meddling) => Promise<MixMember | undefined>;
  /** The held write's answer, as the audit log has it. */
  readonly refused: { readonly code: number; readonly message: RegExp };
  /** The worker's calls on the CSR's name from the held write on (see `trace`). */
  readonly trace: readonly string[];
}

const path = (csr: CertificateSigningRequest) => `${CSR_PATH}/${csr.metadata.name}`;

const cases: readonly Case[] = [
  {
    name: 'F23: the CSR changed by another writer while the approval is on its way: 409, and the worker reads it again, reviews it again and approves it once',
    prefix: 'f23-changed',
    meddle: async ({ admin, csr }) => {
      await admin.patch(path(csr), { metadata: { labels: { 'stampede-test/touched': 'yes' } } });
      return { csr, expect: 'approve' };
    },
    refused: { code: 409, message: /the object has been modified/ },
    trace: ['write held Approved→409', 'read etcd→200', 'review', 'write held Approved→200'],
  },
  {
    name: 'F24: the CSR deleted while the approval is on its way: 404, and the job ends there, neither reading nor writing again',
    prefix: 'f24-deleted',
    meddle: async ({ admin, csr }) => {
      await admin.delete(path(csr));
      return undefined;
    },
    refused: { code: 404, message: /not found/ },
    trace: ['write held Approved→404'],
  },
  {
    name: 'F25: the CSR deleted and filed again under its name while the approval is on its way: the uid precondition refuses the old decision, and the new object is approved by its own job',
    prefix: 'f25-refiled',
    meddle: async ({ admin, csr, refile }) => {
      await admin.delete(path(csr));
      return { csr: await refile(), expect: 'approve' };
    },
    refused: { code: 409, message: /Precondition failed: UID in precondition/ },
    trace: ['write held Approved→409', 'read etcd→200', 'write new Approved→200'],
  },
  {
    name: 'F25: the same, the new object asking for client auth: the old approval never lands on it, its own job denies it',
    prefix: 'f25-refiled-invalid',
    meddle: async ({ admin, csr, refile }) => {
      await admin.delete(path(csr));
      const usages = ['digital signature', 'server auth', 'client auth'];
      return { csr: await refile(usages), expect: 'deny', reason: 'DisallowedUsages' };
    },
    refused: { code: 409, message: /Precondition failed: UID in precondition/ },
    trace: ['write held Approved→409', 'read etcd→200', 'write new Denied→200'],
  },
];

interface Body {
  readonly metadata?: { readonly uid?: string };
  readonly spec?: { readonly user?: string };
  readonly status?: { readonly conditions?: readonly { readonly type?: string }[] };
}

const isCsr = (e: AuditEvent) =>
  e.objectRef?.apiGroup === 'certificates.k8s.io' &&
  e.objectRef.resource === 'certificatesigningrequests';

/** What `trace` reads of an audit event. */
function fieldsOf(e: AuditEvent) {
  const ref = e.objectRef ?? {};
  const body = (e.requestObject ?? {}) as Body;
  return {
    name: isCsr(e) ? ref.name : undefined,
    subresource: ref.subresource,
    review: ref.resource === 'subjectaccessreviews',
    uid: body.metadata?.uid,
    decision: body.status?.conditions?.at(-1)?.type ?? 'none',
    reviewed: body.spec?.user,
    code: e.responseStatus?.code ?? 0,
  };
}

/** One call of the worker's about `csr`, as `trace` shows it; undefined for any other call. */
function callOf(e: AuditEvent, csr: CertificateSigningRequest): string | undefined {
  const f = fieldsOf(e);
  if (f.review) return f.reviewed === csr.spec.username ? 'review' : undefined;
  if (f.name !== csr.metadata.name) return undefined;
  if (f.subresource === 'approval')
    return `write ${f.uid === csr.metadata.uid ? 'held' : 'new'} ${f.decision}→${f.code}`;
  if (e.verb !== 'get') return undefined;
  // The worker's first read of an attempt is the watch cache's; after a 409, etcd's.
  return `read ${e.requestURI?.includes('resourceVersion=0') === true ? 'cache' : 'etcd'}→${f.code}`;
}

/**
 * What the worker did about the CSR's name, in the order the API server received it, from the
 * first approval write on: each read of the CSR (from the watch cache, as a job's attempt begins,
 * or from etcd, as the same attempt reads again after a 409), each SubjectAccessReview for its
 * requester, each approval write (of the held object, by uid, or a new one; the decision it
 * carried; the answer), up to the write that decided the name, if any. The watcher's resync would
 * enqueue a CSR left pending again within 3 s: the read from etcd tells the job that read again
 * from a new job that started over.
 */
function trace(events: readonly AuditEvent[], csr: CertificateSigningRequest): string[] {
  const calls = events
    .filter(e => e.stage === 'ResponseComplete' && e.user?.username === WORKER_USER)
    .flatMap(e => {
      const call = callOf(e, csr);
      return call === undefined ? [] : [{ call, at: e.requestReceivedTimestamp ?? '' }];
    })
    // Fixed-width RFC 3339 in microseconds: the strings sort as the times do.
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .map(c => c.call);
  const first = calls.findIndex(c => c.startsWith('write '));
  // After the decision, a job the watcher's resync enqueued before it saw the decision may read
  // the decided CSR and end: harmless, and timing; a second decision would show in the invariants.
  const decided = calls.findIndex(c => /^write .*→2\d\d$/.test(c));
  return first < 0 ? [] : calls.slice(first, decided < 0 ? undefined : decided + 1);
}

/** The audit event of the first approval write on the CSR's name (the held one), once answered. */
function heldWrite(events: readonly AuditEvent[], csr: CertificateSigningRequest) {
  return events.find(
    e =>
      e.stage === 'ResponseComplete' &&
      isCsr(e) &&
      e.objectRef?.name === csr.metadata.name &&
      e.objectRef.subresource === 'approval',
  );
}

const approvalsOf =
  (prefix: string): Hold =>
  (method, p) =>
    approvalWrites(method, p) && p.includes(`/certificatesigningrequests/${prefix}-`);

describe('F11, F23-F25: the approval write held back on its way to the API server', () => {
  let system: System;
  let fleet: FaultFleet;
  let proxy: HoldingProxy;
  let viaProxy: string;
  const audit = new AuditLog();
  assert.notEqual(POLICY, AUDIT_POLICY, 'the CSR reads added to the audit policy');
  writeFileSync(audit.policyPath, POLICY);

  before(async () => {
    ({ system, fleet, proxy, viaProxy } = await startBehindProxy(audit));
  });

  after(async () => {
    await system.stopAll();
    await proxy.stop();
    audit.remove();
  });

  const drained = () => queueDrained(system);

  async function alive(worker: ServiceProcess): Promise<void> {
    assert.equal(worker.child.exitCode ?? worker.child.signalCode, null, `${worker.name} runs`);
    await system.ready(worker, 5_000);
  }

  /** A worker behind the proxy, and a valid CSR whose approval the proxy holds. */
  async function heldApproval(prefix: string) {
    proxy.heldRequests.length = 0;
    proxy.holdRequests = approvalsOf(prefix);
    const worker = await system.start('worker', { KUBECONFIG_PATH: viaProxy });
    const [{ csr }] = (await fleet.valid(prefix, 1)).members as [MixMember];
    const nodeName = `${prefix}-0`;
    const node = await system.cp.admin.get<{ status: { addresses: NodeAddress[] } }>(
      `/api/v1/nodes/${nodeName}`,
    );
    const kubelet = new KubeletEmulator({
      nodeName,
      addresses: node.status.addresses,
      harness: system.cp,
      sharedClientKey: true,
    });
    await until('the approval held', () => proxy.heldRequests.length > 0, 60_000);
    const refile = (usages?: readonly string[]) =>
      kubelet.createCsr({ name: csr.metadata.name, ...(usages ? { usages } : {}) });
    return { worker, csr, refile };
  }

  /** Lets the held write go, and returns its audit event once answered. */
  async function release(csr: CertificateSigningRequest, refiled: boolean): Promise<AuditEvent> {
    // The new object's job decides and writes before the old write arrives, so that the old
    // decision meets the new object, as it would if the re-creation were a moment earlier.
    if (refiled) await until('the new approval held', () => proxy.heldRequests.length > 1);
    proxy.holdRequests = null;
    proxy.heldRequests[0]?.release();
    return until('the held write answered', () => heldWrite(audit.events(), csr));
  }

  /** The new object's write, held behind the old one, goes once the old job has read again. */
  async function releaseNew(csr: CertificateSigningRequest): Promise<void> {
    await until('the old job read again', () => trace(audit.events(), csr).length > 1);
    proxy.heldRequests[1]?.release();
  }

  for (const c of cases) {
    it(c.name, async () => {
      const { worker, csr, refile } = await heldApproval(c.prefix);
      const left = await c.meddle({ admin: system.cp.admin, csr, refile });
      const refiled = left !== undefined && left.csr !== csr;
      const answered = await release(csr, refiled);
      assert.equal(answered.responseStatus?.code, c.refused.code, 'the held write refused');
      const { message } = answered.responseStatus as { message?: string };
      assert.match(message ?? '', c.refused.message, 'why the held write was refused');
      if (refiled) await releaseNew(csr);

      if (left !== undefined) await assertSettled(system, audit, new Mix([left]), 60_000);
      await until('the queue drained', drained, 30_000, 200);
      // Long enough for a retry to show (the backoff tops out at 2 s).
      await sleep(QUIET_MS);
      assert.deepEqual(trace(audit.events(), csr), c.trace, 'what the worker did from the write');
      if (left?.csr !== csr) {
        const [old] = checkInvariants(audit.events(), [
          { name: csr.metadata.name, uid: csr.metadata.uid ?? '', expect: 'approve' },
        ]).csrs;
        assert.deepEqual(old?.decisions, [], 'the object the worker read is never decided');
      }
      await alive(worker);
      await system.stop(worker);
    });
  }

  it('F11: a worker killed after its reviews and before its approvals reached the API server: the next worker decides each CSR once', async () => {
    proxy.heldRequests.length = 0;
    proxy.holdRequests = approvalWrites;
    // Room for every job of the mix at once, so that all of them stop at the held write.
    const victim = await system.start('worker', { KUBECONFIG_PATH: viaProxy, CONCURRENCY: '30' });
    const mix = await fleet.mix('f11', 10);
    const writes = mix.queueable.length;
    await until('a held approval', () => proxy.heldRequests.length > 0, 60_000);
    const first = Date.now();
    await until(
      'every approval held, or the time to kill',
      () => proxy.heldRequests.length >= writes || Date.now() - first > HOLD_AT_MOST_MS,
      HOLD_AT_MOST_MS + 1_000,
    );
    await system.kill(victim);
    const held = proxy.heldRequests.map(h => decodeURIComponent(h.path.split('/').at(-2) ?? ''));
    for (const h of proxy.heldRequests) h.drop();
    proxy.holdRequests = null;
    process.stdout.write(`# F11: ${held.length}/${writes} approvals held at the kill\n`);

    // The point it died at, as the API server recorded it: each held CSR reviewed, none written.
    const atKill = checkInvariants(audit.events(), mix.expectations).csrs;
    assert.deepEqual(
      atKill.filter(x => x.writes.length > 0).map(x => x.name),
      [],
      'no approval write reached the API server',
    );
    const reviewed = new Set(
      audit
        .events()
        .filter(
          e => e.objectRef?.resource === 'subjectaccessreviews' && e.stage === 'ResponseComplete',
        )
        .map(e => (e.requestObject as Body | undefined)?.spec?.user),
    );
    const members = mix.members.filter(m => held.includes(m.csr.metadata.name));
    assert.equal(members.length, held.length, 'each held approval is one CSR of the mix');
    assert.deepEqual(
      members.filter(m => !reviewed.has(m.csr.spec.username)).map(m => m.csr.metadata.name),
      [],
      'each held CSR reviewed before its write',
    );

    // Their jobs are taken over once the dead worker's locks expire (3 s).
    const fresh = await system.start('worker');
    await until('the queue drained', drained, 60_000, 200);
    await assertSettled(system, audit, mix, 60_000);
    const after = checkInvariants(audit.events(), mix.expectations).csrs;
    assert.deepEqual(
      after.filter(x => held.includes(x.name) && x.writes.length !== 1).map(x => x.name),
      [],
      'each held CSR written once, by the next worker',
    );
    await system.stop(fresh);
  });
});
