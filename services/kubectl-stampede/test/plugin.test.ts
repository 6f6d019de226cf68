// `kubectl stampede` against a real control plane, as a user runs it (a real process, a kubeconfig):
// explain says, before any worker runs, exactly what a real worker then writes; pending lists what
// is pending with stampede's recorded reason and the decision now; a user who may not create
// SubjectAccessReviews is told the review was skipped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeletEmulator, System, applyManifests, settledAs, until } from '@stampede/harness';
import type { CertificateSigningRequest, NodeAddress } from '@stampede/harness';
import { createKubeClient, loadKubeConfig } from '@stampede/kube';
import { REPORTING_CONTROLLER } from '@stampede/worker/facts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const exec = promisify(execFile);
const hourAgo = new Date(Date.now() - 3_600_000);

interface Explained {
  readonly decision: string;
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
  readonly wouldWrite?: {
    readonly type: string;
    readonly reason: string;
    readonly message: string;
  };
  readonly recorded?: { readonly type: string; readonly reason: string; readonly message: string };
  readonly subjectAccessReview: { readonly state: string; readonly reason?: string };
}

const addressesOf = (name: string, ip: string): NodeAddress[] => [
  { type: 'Hostname', address: name },
  { type: 'InternalIP', address: ip },
];

// A reader who may look at everything explain and pending read, but not create reviews.
const viewerRbac = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'csr-viewer' },
    rules: [
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['certificatesigningrequests'],
        verbs: ['get', 'list'],
      },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get'] },
      { apiGroups: ['networking.k8s.io'], resources: ['servicecidrs'], verbs: ['list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['list'] },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'csr-viewer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-viewer' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'csr-viewer' }],
  },
];

describe('kubectl stampede on a real control plane', () => {
  let system: System;
  let admin: string;
  let viewer: string;
  const csrs: Record<'valid' | 'thief' | 'clientAuth' | 'squatter', CertificateSigningRequest> =
    {} as never;

  const plugin = async (kubeconfig: string, ...args: string[]): Promise<string> => {
    const flags = ['--kubeconfig', kubeconfig, '--policy', system.policyFile, '--timeout', '20'];
    const { stdout } = await exec(process.execPath, [MAIN, ...args, ...flags]);
    return stdout;
  };
  const explain = async (kubeconfig: string, name: string): Promise<Explained> =>
    JSON.parse(await plugin(kubeconfig, 'explain', name, '-o', 'json')) as Explained;

  before(async () => {
    system = await System.start();
    admin = system.cp.adminKubeconfigPath;
    await applyManifests(system.cp.admin, viewerRbac);
    const identity = system.cp.pki.issueClientCert({ commonName: 'csr-viewer' });
    viewer = system.cp.writeKubeconfig('csr-viewer', system.cp.credentials(identity));
    const nodes = [
      ['owner', '10.0.0.1'],
      ['thief', '10.0.1.1'],
      ['client-auth', '10.0.1.2'],
    ] as const;
    await Promise.all(
      nodes.map(([name, ip]) =>
        system.cp.createNode(name, addressesOf(name, ip), { createdAt: hourAgo }),
      ),
    );
    const kubelet = (name: string, ip: string) =>
      new KubeletEmulator({ nodeName: name, addresses: addressesOf(name, ip), harness: system.cp });
    // No worker runs yet: every CSR is pending when the plugin first looks at it.
    csrs.valid = await kubelet('owner', '10.0.0.1').createCsr();
    csrs.thief = await kubelet('thief', '10.0.0.1').createCsr();
    csrs.clientAuth = await kubelet('client-auth', '10.0.1.2').createCsr({
      usages: ['digital signature', 'server auth', 'client auth'],
    });
    // A newer Node that reports the owner's IP as its own: the contest rule (the oldest owns it),
    // decided from the Node list.
    await system.cp.createNode('squatter', addressesOf('squatter', '10.0.0.1'));
    csrs.squatter = await kubelet('squatter', '10.0.0.1').createCsr();
  });

  after(async () => {
    await system.stopAll();
  });

  const EXPECTED = [
    { node: 'owner', decision: 'approve', code: 'AutoApproved', writes: 'Approved' },
    { node: 'thief', decision: 'deny', code: 'SanNotOwned', writes: 'Denied' },
    { node: 'client-auth', decision: 'deny', code: 'DisallowedUsages', writes: 'Denied' },
    { node: 'squatter', decision: 'deny', code: 'SanContested', writes: 'Denied' },
  ];
  const names = (): string[] => Object.values(csrs).map(c => c.metadata.name);

  /** The row of `name` in the pending table. */
  const rowOf = (table: string, name: string): string | undefined =>
    table.split('\n').find(r => r.startsWith(`${name} `));

  function assertPendingTable(table: string): void {
    assert.match(table.split('\n')[0] ?? '', /^NAME +AGE +NODE +LAST RECORDED +DECISION NOW$/);
    for (const [i, { node, decision, code }] of EXPECTED.entries()) {
      const row = rowOf(table, names()[i] ?? '');
      assert.ok(row, `${names()[i] ?? ''} is listed:\n${table}`);
      assert.match(row, new RegExp(` ${node} +<none> +${decision} ${code}: `));
    }
  }

  async function decidedByWorker(name: string): Promise<CertificateSigningRequest> {
    const settled = async () => {
      const csr = await system.cp.getCsr(name);
      return settledAs(csr) === undefined ? undefined : csr;
    };
    return until(`${name} settled`, settled, 30_000);
  }

  it('explains, lists as pending, and then agrees with what a real worker decides', async () => {
    const [explained, pending] = await Promise.all([
      Promise.all(names().map(name => explain(admin, name))),
      plugin(admin, 'pending'),
    ]);
    assert.deepEqual(
      explained.map(e => [e.decision, e.reasons[0]?.code, e.wouldWrite?.type]),
      EXPECTED.map(e => [e.decision, e.code, e.writes]),
    );
    assert.ok(explained.every(e => e.subjectAccessReview.state === 'asked'));
    // pending: every CSR, its node, nothing recorded yet, and the decision it will get.
    assertPendingTable(pending);

    await system.start('watcher');
    await system.start('worker');
    const decided = await Promise.all(names().map(decidedByWorker));
    // The condition the worker wrote is, to the letter, the one explain said it would write.
    for (const [i, csr] of decided.entries()) {
      const written = csr.status?.conditions?.find(c => c.type !== 'Failed');
      const { type, reason, message } = written ?? {};
      assert.deepEqual({ type, reason, message }, explained[i]?.wouldWrite);
    }
    // A decided CSR is explained as if pending, next to what was recorded; it is no longer pending.
    const [again, pendingAfter] = await Promise.all([
      explain(admin, names()[1] ?? ''),
      plugin(admin, 'pending'),
    ]);
    assert.equal(again.recorded?.reason, 'SanNotOwned');
    assert.deepEqual(again.wouldWrite, explained[1]?.wouldWrite);
    for (const name of names()) assert.equal(rowOf(pendingAfter, name), undefined);
  });

  it("shows stampede's last Event about a pending CSR, and no other controller's", async () => {
    const { metadata } = await new KubeletEmulator({
      nodeName: 'late',
      addresses: addressesOf('late', '10.0.2.1'),
      harness: system.cp,
    }).createCsr();
    const ignore = (): void => undefined;
    const kube = await createKubeClient({
      kubeConfig: loadKubeConfig({ path: admin }),
      logger: { debug: ignore, info: ignore, warn: ignore, error: ignore },
    });
    try {
      // What an earlier decision by stampede would have left (the worker writes its Event with the
      // condition, so a pending CSR normally has none), then another controller's, newer.
      const csr = await kube.getCsr(metadata.name);
      const event = { csr, type: 'Warning' as const, note: 'n', reportingInstance: 'test' };
      const ours = {
        reason: 'NodeNotFound',
        action: 'Deny',
        reportingController: REPORTING_CONTROLLER,
      };
      await kube.createEvent({ ...event, ...ours });
      await kube.createEvent({
        ...event,
        reason: 'Other',
        action: 'X',
        reportingController: 'other.io/c',
      });
    } finally {
      await kube.close();
    }
    // The running worker retries it (no Node `late`, within the grace window): it stays pending.
    const pending = await plugin(viewer, 'pending');
    const row = rowOf(pending, metadata.name);
    assert.ok(row, pending);
    assert.match(row, / late +NodeNotFound +retry NodeNotFound: /);
  });

  it('skips the SubjectAccessReview for a user who may not create one, and says so', async () => {
    const text = await plugin(viewer, 'explain', csrs.thief.metadata.name);
    assert.match(text, /^SubjectAccessReview: +skipped: you may not create SubjectAccessReviews/m);
    assert.match(
      text,
      /^Reasons: +SanNotOwned +IP SAN 10\.0\.0\.1 is not an IP address of Node thief$/m,
    );
  });

  it('exits 1 naming a CSR that does not exist', async () => {
    await assert.rejects(
      plugin(admin, 'explain', 'no-such-csr'),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /no CSR named no-such-csr/);
        return true;
      },
    );
  });
});
