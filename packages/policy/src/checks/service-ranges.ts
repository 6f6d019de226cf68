// Rule 13, Service IPs: an address inside one of the cluster's Service IP ranges belongs to a Service,
// never to a Node, even when a Node lists it in its own status. The ranges are a fact from the API
// server (ServiceCIDR objects, or the `kubernetes` Service's ClusterIPs), so this rule runs with the
// facts, after the fact-free ones.
import { cidrContains, parseIpOrCidrSloppy } from '../ip.ts';
import type { Cidr } from '../ip.ts';
import { isIpSan, wellFormedSans } from './sans.ts';
import { sanLabel, show, violation } from './context.ts';
import type { CheckResult, FactContext } from './context.ts';
import type { Fact } from '../types.ts';

/**
 * Entries already read, by text: a cluster has a handful of Service ranges and every CSR carries
 * the same ones, so each is parsed once, not once per CSR (parsing two ranges cost more than the
 * rest of the checks together). Deterministic, so the core stays pure; cleared when it grows past
 * any real cluster's count, so odd input cannot make it grow without bound.
 */
const readEntries = new Map<string, Cidr | string>();
const MAX_READ_ENTRIES = 256;

/** An entry as a range, or why it is none. */
function readEntry(text: string): Cidr | string {
  const known = readEntries.get(text);
  if (known !== undefined) return known;
  const parsed = parseIpOrCidrSloppy(text);
  const entry = 'cidr' in parsed ? parsed.cidr : parsed.error;
  if (readEntries.size >= MAX_READ_ENTRIES) readEntries.clear();
  readEntries.set(text, entry);
  return entry;
}

/**
 * The serviceRanges fact, parsed as Kubernetes reads the ranges (leading zeros, host bits: see
 * parseIpOrCidrSloppy). An entry that is still no address or CIDR makes the fact unavailable, so the
 * CSR is retried: a range the core cannot read may hold the very address requested, and a retry is
 * the only answer that is neither a wrong approval nor a deny for a transient cause. The reason
 * names the entry, escaped; an `unavailable` or `absent` fact is returned as it is.
 */
export function readServiceRanges(fact: Fact<readonly string[]>): Fact<readonly Cidr[]> {
  if (fact.state !== 'known') return fact;
  const ranges: Cidr[] = [];
  for (const text of fact.value) {
    const entry = readEntry(text);
    if (typeof entry === 'string') {
      return { state: 'unavailable', reason: `Service range ${show(text)} ${entry}` };
    }
    ranges.push(entry);
  }
  return { state: 'known', value: ranges };
}

/** Rule 13: no IP SAN inside a Service IP range of the cluster. */
export function checkServiceIps(ctx: FactContext): CheckResult {
  const ranges = ctx.serviceRanges;
  // Rows run only once the facts they need are known: reading unknown ranges is a programming
  // error, and it fails loudly (decide turns it into InternalError, which writes nothing).
  if (ranges === undefined) throw new Error('serviceRanges read without being declared in needs');
  return wellFormedSans(ctx.sans)
    .filter(isIpSan)
    .flatMap(san => {
      const { ip } = san;
      const range = ip === undefined ? undefined : ranges.find(r => cidrContains(r, ip));
      if (range === undefined) return [];
      const message = `${sanLabel(san)} is a Service IP (Service range ${range.text}), never a Node's`;
      return [violation('ServiceIp', message)];
    });
}
