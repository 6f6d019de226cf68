// Evidence beyond the Node's own report (docs/adr/0022). A kubelet writes its own Node status, so
// ownership (rule 14) proves only that the node claims an address. With `evidence.require:
// [inventory]`, the operator's inventory — which the node cannot write — must vouch for each SAN.
import { wellFormedSans } from './sans.ts';
import { sanLabel, show, violation } from './context.ts';
import type { CheckResult, FactContext } from './context.ts';

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
