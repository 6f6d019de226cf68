// Evidence beyond the Node's own report (docs/adr/0022). A kubelet writes its own Node status, so
// ownership (rule 14) proves only that the node claims an address. With `evidence.require:
// [inventory]`, the operator's inventory — which the node cannot write — must vouch for each SAN.
import { wellFormedSans } from './sans.ts';
import { sanLabel, show, violation } from './context.ts';
import type { CheckContext, CheckResult, FactContext } from './context.ts';
import type { Fact, InventoryAnswer, ServedCertificate } from '../types.ts';

/**
 * Every SAN but the requester's own name is vouched for by the inventory. The node name needs no
 * voucher: the requester's identity (username and CN) already binds it.
 */
export function checkInventory(ctx: FactContext): CheckResult {
  const answer = ctx.inventory;
  if (answer === undefined) throw new Error('inventory read without being declared in needs');
  return wellFormedSans(ctx.sans).flatMap(san => {
    if (san.kind === 'dns' && san.name === ctx.node.name) return [];
    const verdict = answer.get(san.key);
    if (verdict?.vouched === true) return [];
    const why =
      verdict === undefined
        ? 'the inventory does not vouch for it'
        : `the inventory refuses it${verdict.reason === undefined ? '' : `: ${show(verdict.reason)}`}`;
    return [violation('SanNotVouched', `${sanLabel(san)}: ${why}`)];
  });
}

/**
 * The inventory's verdicts as the inventory row reads them. A known answer is the inventory's word,
 * whatever the node serves. Only while it cannot answer, and with `evidence.servedCertificate`, a
 * request whose every SAN is in the certificate the kubelet serves now stands in for the answer,
 * if that certificate was issued since the inventory was required (so the inventory vouched for
 * its SANs then) and is not older than the policy allows. Otherwise the retry stands (docs/adr/0024).
 */
export function inventoryWithServedCertificate(
  ctx: CheckContext,
  nowMs: number,
  inventory: Fact<InventoryAnswer>,
  served: Fact<ServedCertificate> | undefined,
): Fact<InventoryAnswer> {
  const accepted = ctx.policy.evidence.servedCertificate;
  if (accepted === undefined || inventory.state === 'known' || served?.state !== 'known')
    return inventory;
  const { sanKeys, notBeforeMs } = served.value;
  if (notBeforeMs < accepted.issuedAfterMs) return inventory;
  if (accepted.maxAgeMs !== undefined && nowMs - notBeforeMs > accepted.maxAgeMs) return inventory;
  const keys = wellFormedSans(ctx.sans)
    .filter(san => !(san.kind === 'dns' && san.name === ctx.nodeName))
    .map(san => san.key);
  if (!keys.every(key => sanKeys.has(key))) return inventory;
  return { state: 'known', value: new Map(keys.map(key => [key, { vouched: true }])) };
}
