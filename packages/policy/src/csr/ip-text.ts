// The text form of an iPAddress GeneralName. IPv4 is a dotted quad; IPv6 follows RFC 5952 (lowercase,
// no leading zeros, the longest run of two or more zero groups compressed, the first on a tie), the
// one formatter of ../ip.ts. An IPv4-mapped address stays IPv6 here (`::ffff:a00:1`): folding it is
// the checks' decision, not the reader's.

import { formatIpBytes } from '../ip.ts';
import { toHex } from './der.ts';

/** Canonical text of an iPAddress octet string, or `invalid:<hex>` when it is neither 4 nor 16 octets. */
export function formatSanIp(bytes: Uint8Array): string {
  if (bytes.length === 4 || bytes.length === 16) return formatIpBytes(bytes);
  return `invalid:${toHex(bytes)}`;
}
