// Node IPs for real kubelets: extra addresses on the loopback interface. A kubelet's --node-ip must
// be an address of a local interface, and an address on `lo` keeps every packet to it on this
// machine (the traffic rule: loopback, or hosts the test made). The harness adds each address
// once, counts its users (two kubelets may report the same IP on purpose) and removes it when the
// last one lets go; every teardown layer removes it too, so none outlives the test process.
import { execFileSync } from 'node:child_process';
import { isIP } from 'node:net';
import { registerAddress, unregisterAddress } from './teardown.ts';

const users = new Map<string, number>();

/** `ip addr` wants a prefix: one host, /32 or /128. */
export function hostPrefix(ip: string): string {
  const family = isIP(ip);
  if (family === 0) throw new RangeError(`not an IP address: ${ip}`);
  return `${ip}/${family === 4 ? '32' : '128'}`;
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every address on every interface of this machine (the kernel's spelling). */
export function localAddresses(): Set<string> {
  const links = JSON.parse(ip(['-j', 'addr', 'show'])) as {
    addr_info?: { local?: string }[];
  }[];
  const out = new Set<string>();
  for (const link of links)
    for (const info of link.addr_info ?? []) if (info.local) out.add(info.local);
  return out;
}

/**
 * Adds `address` to `lo` unless this process already did (then counts one more user). Throws when
 * the address already exists on this machine without us: it belongs to someone else, and removing
 * it at the end would break them.
 */
export function claimNodeIp(address: string): void {
  const count = users.get(address) ?? 0;
  if (count === 0) {
    const prefix = hostPrefix(address);
    // nodad: an IPv6 address on lo is usable at once, not after duplicate address detection.
    ip(['addr', 'add', prefix, 'dev', 'lo', ...(isIP(address) === 6 ? ['nodad'] : [])]);
    registerAddress(prefix);
  }
  users.set(address, count + 1);
}

/** One user less; the last one removes the address from `lo`. */
export function releaseNodeIp(address: string): void {
  const count = users.get(address) ?? 0;
  if (count > 1) {
    users.set(address, count - 1);
    return;
  }
  if (count === 0) return;
  users.delete(address);
  const prefix = hostPrefix(address);
  try {
    ip(['addr', 'del', prefix, 'dev', 'lo']);
  } catch {
    // Already gone (someone removed it by hand): nothing left to undo.
  }
  unregisterAddress(prefix);
}

const random = (n: number): number => Math.floor(Math.random() * n);

/**
 * `count` addresses no interface of this machine has: IPv4 in 10.66.0.0/16 (outside the harness's
 * Service range 10.96.0.0/16 and loopback), IPv6 in fd00:66::/64 (a unique local range). Random, so
 * test files running at once rarely pick the same one; claimNodeIp fails loudly if they do.
 */
export function freeNodeIps(count: number, family: 4 | 6 = 4): string[] {
  const taken = localAddresses();
  const out: string[] = [];
  while (out.length < count) {
    const candidate =
      family === 4
        ? `10.66.${String(random(256))}.${String(1 + random(254))}`
        : `fd00:66::${(1 + random(0xfffe)).toString(16)}`;
    if (!taken.has(candidate) && !users.has(candidate) && !out.includes(candidate))
      out.push(candidate);
  }
  return out;
}
