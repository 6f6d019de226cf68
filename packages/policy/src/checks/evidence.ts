// Evidence beyond the Node's own report (docs/adr/0022). A kubelet writes its own Node status, so
// ownership (rule 14) proves only that the node claims an address. With `evidence.require:
// [inventory]`, the operator's inventory — which the node cannot write — must vouch for each SAN.
import { wellFormedSans } from './sans.ts';
import { sanLabel, show, violation } from './context.ts';
import type { CheckContext, CheckResult, FactContext } from './context.ts';
import type { Fact, InventoryAnswer } from '../types.ts';

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
 * The inventory's verdicts as the inventory row reads them, with `evidence.acceptServedCertificate`:
 * a requested SAN the kubelet's current certificate holds counts as vouched for, unless the
 * inventory refuses it outright (an address it retired stays retired). When the inventory cannot
 * answer, a request whose every SAN is in the served certificate needs no answer (a renewal goes
 * through an inventory outage); any other stays a retry. A served certificate that is not `known`
 * changes nothing (docs/adr/0024).
 */
export function inventoryWithServedCertificate(
  ctx: CheckContext,
  inventory: Fact<InventoryAnswer>,
  served: Fact<ReadonlySet<string>> | undefined,
): Fact<InventoryAnswer> {
  if (!ctx.policy.evidence.servedCertificate || served?.state !== 'known') return inventory;
  const keys = wellFormedSans(ctx.sans)
    .filter(san => !(san.kind === 'dns' && san.name === ctx.nodeName))
    .map(san => san.key);
  if (inventory.state !== 'known') {
    if (!keys.every(key => served.value.has(key))) return inventory;
    return { state: 'known', value: new Map(keys.map(key => [key, { vouched: true }])) };
  }
  const merged = new Map(inventory.value);
  for (const key of keys) {
    if (served.value.has(key) && merged.get(key)?.vouched !== false)
      merged.set(key, { vouched: true });
  }
  return { state: 'known', value: merged };
}
