// The text form of an iPAddress GeneralName. IPv4 is a dotted quad; IPv6 follows RFC 5952 (lowercase,
// no leading zeros, the longest run of two or more zero groups compressed, the first on a tie). An
// IPv4-mapped address stays IPv6 here (`::ffff:a00:1`): folding it is the checks' decision, not ours.

import { toHex } from './der.ts';

function formatV6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    if (j > i) i = j;
  }
  const hex = groups.map(g => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of an iPAddress octet string, or `invalid:<hex>` when it is neither 4 nor 16 octets. */
export function formatSanIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length === 16) return formatV6(bytes);
  return `invalid:${toHex(bytes)}`;
}
