// Every permission in deploy/base/rbac is needed, and together they are enough. The watcher and
// worker run as OS processes under their own ServiceAccount tokens against a real API server whose
// audit log records each of their requests. With the shipped roles a kubelet's CSR is approved and
// its Event recorded, and no request of theirs is refused. Then each verb of each rule is removed in
// turn, and the services must hit a 403 for exactly that (or, for the selfnodeserver binding, the
// CSR is denied NotAuthorized): a permission no test needs would survive its removal and fail here.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CSR_PATH,
  KubeletEmulator,
  applyManifests,
  parseManifests,
  rbacDir,
  freePort,
  startControlPlane,
  startRedis,
  until,
} from '@stampede/harness';
import type {
  CertificateSigningRequest,
  ControlPlane,
  NodeAddress,
  RedisServer,
} from '@stampede/harness';
import { ROOT } from './support/render.ts';
import { startService } from './support/services.ts';

const SA = 'system:serviceaccount:stampede-system:stampede-';
const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';

interface AuditEvent {
  readonly stage: string;
  readonly verb: string;
  readonly user: { readonly username: string };
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly apiGroup?: string;
    readonly namespace?: string;
  };
  readonly responseStatus?: { readonly code?: number; readonly message?: string };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

interface RoleManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  rules?: Rule[];
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: [system:serviceaccounts:stampede-system]
  - level: None
`;

/** The roles of deploy/base/rbac, as shipped. */
function shippedRoles(): RoleManifest[] {
  return ['watcher-rbac.yaml', 'worker-rbac.yaml']
    .flatMap(file => parseManifests(readFileSync(join(rbacDir(), file), 'utf8')))
    .filter(m => m.kind === 'ClusterRole' || m.kind === 'Role')
    .map(m => m as unknown as RoleManifest);
}

/** One verb of one rule of one role: the unit removed in turn. */
interface Permission {
  readonly role: string;
  readonly rule: number;
  readonly verb: string;
  readonly label: string;
}

function permissions(roles: readonly RoleManifest[]): Permission[] {
  return roles.flatMap(role =>
    (role.rules ?? []).flatMap((rule, index) =>
      rule.verbs.map(verb => ({
        role: role.metadata.name,
        rule: index,
        verb,
        label: `${role.metadata.name}: ${verb} ${rule.resources.join(',')}${rule.resourceNames ? `/${rule.resourceNames.join(',')}` : ''}`,
      })),
    ),
  );
}

/** The shipped roles less one verb (a rule left with no verbs is dropped). */
function without(roles: readonly RoleManifest[], p: Permission): RoleManifest[] {
  return roles.map(role => {
    if (role.metadata.name !== p.role) return role;
    const rules = (role.rules ?? [])
      .map((rule, i) =>
        i === p.rule ? { ...rule, verbs: rule.verbs.filter(v => v !== p.verb) } : rule,
      )
      .filter(rule => rule.verbs.length > 0);
    return { ...role, rules };
  });
}

/** Reads the audit log from a byte offset on, as parsed events. */
class AuditLog {
  readonly path: string;
  #offset = 0;
  constructor(path: string) {
    this.path = path;
  }
  mark(): void {
    this.#offset = statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
  }
  since(): AuditEvent[] {
    const size = statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
    if (size <= this.#offset) return [];
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.alloc(size - this.#offset);
      readSync(fd, buffer, 0, buffer.length, this.#offset);
      const text = buffer.toString('utf8');
      return text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .filter(line => line !== '')
        .map(line => JSON.parse(line) as AuditEvent);
    } finally {
      closeSync(fd);
    }
  }
}

const refusals = (events: readonly AuditEvent[]): AuditEvent[] =>
  events.filter(e => e.stage === 'ResponseComplete' && e.responseStatus?.code === 403);

/**
 * The service's stampede_kube_request_errors_total{code="403"}, summed over verbs, from its
 * /metrics: the series the StampedeKubeApiErrors alert (deploy/addons/prometheus/rules.yaml) reads.
 */
async function forbiddenCount(healthPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${healthPort}/metrics`, {
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(response.status, 200, "the worker's /metrics");
  return (await response.text())
    .split('\n')
    .filter(line => line.startsWith('stampede_kube_request_errors_total{'))
    .filter(line => /[{,]code="403"[,}]/.test(line))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/**
 * And an operator hears of it: the worker counted the 403s StampedeKubeApiErrors fires on, read
 * from the service while the permission was missing, since that is what the alert reads.
 */
async function assertAlerted(t: TestContext, p: Permission, forbidden: number): Promise<void> {
  await t.test('the 403 is counted where StampedeKubeApiErrors reads it', () => {
    assert.ok(
      forbidden > 0,
      `the worker's stampede_kube_request_errors_total{code="403"} stayed 0 without ${p.label}`,
    );
  });
}

const describeEvent = (e: AuditEvent): string =>
  `${e.user.username.replace(SA, '')} ${e.verb} ${e.objectRef?.resource ?? ''}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}` +
  `${e.objectRef?.namespace ? ` -n ${e.objectRef.namespace}` : ''} → ${e.responseStatus?.code ?? ''}`;

describe('deploy/base/rbac: every permission is needed, and they are enough', () => {
  let cp: ControlPlane;
  let redis: RedisServer;
  let dir: string;
  let audit: AuditLog;
  let kubeconfig: { watcher: string; worker: string };
  let count = 0;
  const roles = shippedRoles();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stampede-rbac-'));
    writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
    audit = new AuditLog(join(dir, 'audit.log'));
    [cp, redis] = await Promise.all([
      startControlPlane({
        canary: false,
        extraArgs: {
          apiserver: [
            `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
            `--audit-log-path=${audit.path}`,
            '--audit-log-mode=blocking',
          ],
        },
      }),
      startRedis(),
    ]);
    kubeconfig = {
      watcher: await cp.serviceKubeconfig('watcher'),
      worker: await cp.serviceKubeconfig('worker'),
    };
  });

  after(async () => {
    await Promise.all([redis.stop(), cp.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function applyRoles(set: readonly RoleManifest[]): Promise<void> {
    await applyManifests(cp.admin, set);
    await sleep(500); // the RBAC authorizer's informers
  }

  interface Outcome {
    readonly events: AuditEvent[];
    readonly csr: CertificateSigningRequest;
  }

  async function eventRecorded(uid: string): Promise<boolean> {
    const list = await cp.admin.get<{ items: { regarding?: { uid?: string } }[] }>(EVENTS);
    return list.items.some(e => e.regarding?.uid === uid);
  }

  /**
   * Starts a watcher and a worker under their ServiceAccounts and has one new kubelet ask for a
   * serving certificate; polls until `done` holds (or the timeout) and returns what the audit log
   * recorded meanwhile.
   */
  async function exercise(
    done: (outcome: Outcome) => boolean | Promise<boolean>,
    timeoutMs = 30_000,
    /** Runs once `done` holds, while the services still run and the CSR still exists. */
    then?: (csrName: string, workerHealthPort: number) => Promise<void>,
  ): Promise<Outcome> {
    await redis.command('FLUSHALL');
    audit.mark();
    const n = ++count;
    const nodeName = `rbac-${n}`;
    const addresses: NodeAddress[] = [
      { type: 'Hostname', address: nodeName },
      { type: 'InternalIP', address: `10.9.0.${n}` },
    ];
    await cp.createNode(nodeName, addresses);
    const common = {
      REDIS_URL: redis.url,
      HEALTH_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    // Chosen here: at LOG_LEVEL warn the worker does not log the port it would pick itself.
    const workerHealthPort = await freePort();
    const services = [
      startService(ROOT, 'watcher', {
        ...common,
        KUBECONFIG_PATH: kubeconfig.watcher,
        RESYNC_INTERVAL_SECONDS: '2',
        RELIST_INTERVAL_SECONDS: '2',
      }),
      startService(ROOT, 'worker', {
        ...common,
        HEALTH_PORT: String(workerHealthPort),
        KUBECONFIG_PATH: kubeconfig.worker,
        RATE_LIMIT_JOBS_PER_SECOND: '0',
        BACKOFF_INITIAL_MS: '200',
        BACKOFF_MAX_MS: '1000',
        SHUTDOWN_DEADLINE_SECONDS: '1',
      }),
    ];
    let csrName: string | undefined;
    try {
      const kubelet = new KubeletEmulator({ nodeName, addresses, harness: cp });
      const created = await kubelet.createCsr();
      csrName = created.metadata.name;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const outcome = { events: audit.since(), csr: await cp.getCsr(created.metadata.name) };
        if ((await done(outcome)) || Date.now() > deadline) {
          // The API server writes an audit event once the response has completed, so the requests
          // that made `done` true may land in the log a moment later: read it again after a pause.
          await sleep(1000);
          const events = audit.since();
          await then?.(created.metadata.name, workerHealthPort);
          return { ...outcome, events };
        }
        await sleep(200);
      }
    } finally {
      await Promise.all(services.map(service => service.stop()));
      // Leave no pending CSR behind: the next run's watcher would enqueue it too.
      if (csrName !== undefined) await cp.admin.request('DELETE', `${CSR_PATH}/${csrName}`);
    }
  }

  const conditionOf = (csr: CertificateSigningRequest, type: string) =>
    csr.status?.conditions?.find(c => c.type === type);

  /** Whether an audited request was authorized by this verb of this rule. */
  function uses(event: AuditEvent, role: RoleManifest, rule: Rule, verb: string): boolean {
    const ref = event.objectRef ?? {};
    const resource = ref.subresource ? `${ref.resource ?? ''}/${ref.subresource}` : ref.resource;
    return (
      // stampede-worker, stampede-worker-events, … all belong to the stampede-worker identity.
      event.user.username ===
        `${SA}${role.metadata.name.replace(/^stampede-(watcher|worker)\b.*$/, '$1')}` &&
      event.verb === verb &&
      rule.apiGroups.includes(ref.apiGroup ?? '') &&
      rule.resources.includes(resource ?? '') &&
      (role.metadata.namespace === undefined || role.metadata.namespace === ref.namespace)
    );
  }

  it('approves a kubelet with the shipped roles, never refused, using every rule', async () => {
    await applyRoles(roles);
    const outcome = await exercise(
      async ({ csr }) =>
        conditionOf(csr, 'Approved') !== undefined && (await eventRecorded(csr.metadata.uid ?? '')),
    );
    assert.ok(conditionOf(outcome.csr, 'Approved'), JSON.stringify(outcome.csr.status));
    assert.deepEqual(refusals(outcome.events).map(describeEvent), []);
    for (const p of permissions(roles)) {
      const role = roles.find(r => r.metadata.name === p.role);
      const rule = role?.rules?.[p.rule];
      assert.ok(role !== undefined && rule !== undefined);
      // `approve` on signers is checked inside the /approval update by the CertificateApproval
      // admission plugin, not by a request of its own; its removal is tested below.
      if (rule.resources.includes('signers')) continue;
      assert.ok(
        outcome.events.some(e => uses(e, role, rule, p.verb)),
        `no audited request used ${p.label}`,
      );
    }
  });

  for (const p of permissions(roles)) {
    it(`needs ${p.label}`, async t => {
      const role = roles.find(r => r.metadata.name === p.role);
      const rule = role?.rules?.[p.rule];
      assert.ok(role !== undefined && rule !== undefined);
      const signers = rule.resources.includes('signers');
      // Without `approve` on the signer the /approval update itself is what gets refused.
      const refusedRule: Rule = signers
        ? {
            apiGroups: ['certificates.k8s.io'],
            resources: ['certificatesigningrequests/approval'],
            verbs: ['update'],
          }
        : rule;
      const refusedVerb = signers ? 'update' : p.verb;
      await applyRoles(without(roles, p));
      let forbidden: number | undefined;
      try {
        const outcome = await exercise(
          ({ events }) => refusals(events).some(e => uses(e, role, refusedRule, refusedVerb)),
          30_000,
          // F27/F28 of the fault catalogue: a missing permission is an operator's error, not the
          // kubelet's. The CSR is never denied for it, and is approved once the roles are back.
          async (csrName, workerHealthPort) => {
            await sleep(3_000);
            const held = await cp.getCsr(csrName);
            assert.equal(conditionOf(held, 'Denied'), undefined, JSON.stringify(held.status));
            if (p.role.startsWith('stampede-worker'))
              forbidden = await forbiddenCount(workerHealthPort);
            await applyRoles(roles);
            await until(
              `${csrName} approved once ${p.label} is back`,
              async () => conditionOf(await cp.getCsr(csrName), 'Approved') !== undefined,
              30_000,
            );
          },
        );
        const refused = refusals(outcome.events).filter(e =>
          uses(e, role, refusedRule, refusedVerb),
        );
        assert.ok(
          refused.length > 0,
          `removing ${p.label} was not noticed; refusals: ${refusals(outcome.events).map(describeEvent).join(', ') || 'none'}`,
        );
        if (signers)
          assert.match(
            refused[0]?.responseStatus?.message ?? 'not permitted to approve',
            /not permitted to approve/,
          );
      } finally {
        await applyRoles(roles);
      }
      if (forbidden !== undefined) await assertAlerted(t, p, forbidden);
    });
  }

  it('needs the selfnodeserver binding: without it every kubelet is denied NotAuthorized', async () => {
    const binding =
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/stampede:certificatesigningrequests:selfnodeserver';
    await cp.admin.delete(binding);
    await sleep(500);
    try {
      const outcome = await exercise(({ csr }) => conditionOf(csr, 'Denied') !== undefined);
      assert.equal(
        conditionOf(outcome.csr, 'Denied')?.reason,
        'NotAuthorized',
        JSON.stringify(outcome.csr.status),
      );
      assert.deepEqual(refusals(outcome.events).map(describeEvent), []);
    } finally {
      await cp.applyRbac();
    }
  });
});
