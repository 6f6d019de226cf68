// What every fault scenario files: valid kubelet CSRs and, beside them, the invalid ones a fault
// must not let through (another Node's IP, client auth, the wrong organization) and a CSR of
// another signer that nothing may touch. The test says what each should get; the audit log says
// what each got.
import assert from 'node:assert/strict';
import { assertInvariants, checkInvariants, summarize } from './audit-invariants.ts';
import type { CsrExpectation, Expected } from './audit-invariants.ts';
import type { AuditLog } from './audit-log.ts';
import { CSR_PATH, csrManifest } from './csr.ts';
import type { CertificateSigningRequest, NodeAddress } from './csr.ts';
import { KubeletEmulator } from './kubelet.ts';
import { until } from './system.ts';
import type { System } from './system.ts';
import { buildCsr } from '@stampede/testing';

export const OTHER_SIGNER = 'example.com/not-kubelet-serving';

export interface MixMember {
  readonly csr: CertificateSigningRequest;
  readonly expect: Expected;
  /** The Denied condition's reason, for CSRs to be denied. */
  readonly reason?: string;
}

export class Mix {
  readonly members: readonly MixMember[];
  constructor(members: readonly MixMember[]) {
    this.members = members;
  }
  get expectations(): CsrExpectation[] {
    return this.members.map(m => ({
      name: m.csr.metadata.name,
      uid: m.csr.metadata.uid ?? '',
      expect: m.expect,
    }));
  }
  /** The CSRs the watcher enqueues (kubelet-serving ones). */
  get queueable(): CertificateSigningRequest[] {
    return this.members.filter(m => m.expect !== 'ignore').map(m => m.csr);
  }
  get valid(): CertificateSigningRequest[] {
    return this.members.filter(m => m.expect === 'approve').map(m => m.csr);
  }
  with(other: Mix): Mix {
    return new Mix([...this.members, ...other.members]);
  }
}

/** Nodes and their kubelets' CSRs, each Node with an address of its own. */
export class FaultFleet {
  readonly #system: System;
  #count = 0;

  constructor(system: System) {
    this.#system = system;
  }

  /** A host name and an internal IP of its own. */
  #addresses(name: string): NodeAddress[] {
    const i = this.#count++;
    return [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: `10.2.${i >> 8}.${i & 255}` },
    ];
  }

  async #node(name: string): Promise<NodeAddress[]> {
    const addresses = this.#addresses(name);
    await this.#system.cp.createNode(name, addresses);
    return addresses;
  }

  #kubelet(nodeName: string, addresses: readonly NodeAddress[]): KubeletEmulator {
    return new KubeletEmulator({
      nodeName,
      addresses,
      harness: this.#system.cp,
      sharedClientKey: true,
    });
  }

  /** `count` Nodes, and one valid CSR from each Node's kubelet. */
  async valid(prefix: string, count: number): Promise<Mix> {
    const members = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const name = `${prefix}-${i}`;
        const csr = await this.#kubelet(name, await this.#node(name)).createCsr();
        return { csr, expect: 'approve' as const };
      }),
    );
    return new Mix(members);
  }

  /** One CSR of each kind that must never be approved, and one of another signer. */
  async invalid(prefix: string, victimNode: string): Promise<Mix> {
    const cp = this.#system.cp;
    const victim = await cp.admin.get<{ status?: { addresses?: NodeAddress[] } }>(
      `/api/v1/nodes/${victimNode}`,
    );
    const victimIp = victim.status?.addresses?.find(a => a.type === 'InternalIP')?.address;
    assert.ok(victimIp !== undefined, `${victimNode} has an InternalIP`);

    const thief = `${prefix}-thief`;
    await this.#node(thief);
    const stolen = await this.#kubelet(thief, [
      { type: 'Hostname', address: thief },
      { type: 'InternalIP', address: victimIp },
    ]).createCsr();

    const clientAuth = `${prefix}-client-auth`;
    const usages = ['digital signature', 'server auth', 'client auth'];
    const withClientAuth = await this.#kubelet(clientAuth, await this.#node(clientAuth)).createCsr({
      usages,
    });

    const wrongO = `${prefix}-wrong-o`;
    await this.#node(wrongO);
    const masters = buildCsr({
      subject: [
        { type: 'O', value: 'system:masters' },
        { type: 'CN', value: `system:node:${wrongO}` },
      ],
      sans: [{ kind: 'dns', value: wrongO }],
    });
    const organization = await cp
      .nodeClient(wrongO)
      .post<CertificateSigningRequest>(
        CSR_PATH,
        csrManifest({ name: `${wrongO}-csr`, requestPem: masters.pemText }),
      );

    // Filed by a valid Node, for a signer stampede does not serve: it stays pending, untouched.
    const foreign = await cp.nodeClient(thief).post<CertificateSigningRequest>(
      CSR_PATH,
      csrManifest({
        name: `${prefix}-other-signer`,
        requestPem: masters.pemText,
        signerName: OTHER_SIGNER,
        usages: ['digital signature', 'client auth'],
      }),
    );
    return new Mix([
      { csr: stolen, expect: 'deny', reason: 'SanNotOwned' },
      { csr: withClientAuth, expect: 'deny', reason: 'DisallowedUsages' },
      { csr: organization, expect: 'deny', reason: 'OrganizationMismatch' },
      { csr: foreign, expect: 'ignore' },
    ]);
  }

  /** `count` valid CSRs and the invalid ones, filed together. */
  /**
   * A kubelet's CSR filed before its Node registers, which happens `afterMs` later (in the
   * background): stampede retries it until then, and approves it.
   */
  async lateNode(name: string, afterMs: number): Promise<Mix> {
    const addresses = this.#addresses(name);
    const csr = await this.#kubelet(name, addresses).createCsr();
    setTimeout(() => {
      this.#system.cp.createNode(name, addresses).catch((error: unknown) => {
        process.stderr.write(`# late Node ${name} not created: ${String(error)}\n`);
      });
    }, afterMs).unref();
    return new Mix([{ csr, expect: 'approve' }]);
  }

  async mix(prefix: string, count: number): Promise<Mix> {
    assert.ok(count > 0, 'a mix has a valid CSR to steal an address from');
    const valid = await this.valid(prefix, count);
    return valid.with(await this.invalid(prefix, `${prefix}-0`));
  }
}

/**
 * The mix settled as it should: by the audit log (every valid CSR approved and every invalid one
 * denied exactly once, each with one Event; nothing written to the other signer's), and by the
 * objects (each CSR's conditions).
 */
export async function assertSettled(
  system: System,
  audit: AuditLog,
  mix: Mix,
  timeoutMs = 90_000,
): Promise<void> {
  const finals = async () => [...(await system.csrs()).values()];
  const report = await audit.settle(mix.expectations, { timeoutMs, finals });
  process.stdout.write(`# audit: ${summarize(report)}\n`);
  assertInvariants(report);
  const csrs = await system.csrs();
  for (const { csr, expect, reason } of mix.members) {
    const final = csrs.get(csr.metadata.name);
    assert.equal(final?.metadata.uid, csr.metadata.uid, `${csr.metadata.name} is the same object`);
    const settled = (final?.status?.conditions ?? [])
      .filter(c => c.type !== 'Failed')
      .map(c => (c.type === 'Denied' ? [c.type, c.reason] : [c.type]));
    const wanted = { approve: [['Approved']], deny: [['Denied', reason]], ignore: [] }[expect];
    assert.deepEqual(settled, wanted, csr.metadata.name);
  }
}

/** The mix's CSRs with an approval write of any outcome, by the audit log. */
export function writtenTo(audit: AuditLog, mix: Mix): string[] {
  return checkInvariants(audit.events(), mix.expectations)
    .csrs.filter(c => c.writes.length > 0)
    .map(c => c.name);
}

/** Until a few of the mix's CSRs are decided, by the audit log; the fault must find some still queued. */
export async function partlyDecided(audit: AuditLog, mix: Mix, fault: string): Promise<number> {
  const decided = () =>
    checkInvariants(audit.events(), mix.expectations).csrs.filter(c => c.decisions.length > 0)
      .length;
  await until('a few decided', () => decided() >= 3, 60_000, 50);
  const count = decided();
  assert.ok(count < mix.queueable.length, `the ${fault} came too late: ${count} decided`);
  return count;
}
