// The ordered rule table. decide() runs every fact-free row first (all violations are collected);
// rows that need facts run only once those facts are known. The order is the order of the spec
// (packages/policy/README.md, "Rules"), and it is the order of the violations in a deny message.
import { checkAuthorization } from './authorization.ts';
import { checkAttributes, checkParsed, checkRequestSize } from './encoding.ts';
import { checkInventory } from './evidence.ts';
import { checkExtensions } from './extensions.ts';
import { checkPublicKey, checkSignature, checkSignatureAlgorithm } from './key.ts';
import { checkExpiration } from './lifetime.ts';
import { checkAllowLists, checkContested, checkOwnership } from './ownership.ts';
import { checkGroups, checkUsername } from './requester.ts';
import { checkServiceIps } from './service-ranges.ts';
import {
  checkDnsNames,
  checkDuplicateSans,
  checkIpAddresses,
  checkReserved,
  checkSanCount,
  checkSanTypes,
} from './sans.ts';
import { checkSubject } from './subject.ts';
import { checkUsages } from './usages.ts';
import type { Check } from './context.ts';

export const checks: readonly Check[] = [
  { name: 'username', needs: [], check: checkUsername },
  { name: 'groups', needs: [], check: checkGroups },
  { name: 'request size', needs: [], check: checkRequestSize },
  { name: 'encoding', needs: [], check: checkParsed },
  { name: 'attributes', needs: [], check: checkAttributes },
  { name: 'signature algorithm', needs: [], check: checkSignatureAlgorithm },
  { name: 'key', needs: [], check: checkPublicKey },
  { name: 'signature', needs: [], check: checkSignature },
  { name: 'extensions', needs: [], check: checkExtensions },
  { name: 'subject', needs: [], check: checkSubject },
  { name: 'usages', needs: [], check: checkUsages },
  { name: 'SAN count', needs: [], check: checkSanCount },
  { name: 'SAN types', needs: [], check: checkSanTypes },
  { name: 'duplicate SANs', needs: [], check: checkDuplicateSans },
  { name: 'DNS names', needs: [], check: checkDnsNames },
  { name: 'IP addresses', needs: [], check: checkIpAddresses },
  { name: 'reserved names', needs: [], check: checkReserved },
  { name: 'allow-lists', needs: [], check: checkAllowLists },
  { name: 'expiration', needs: [], check: checkExpiration },
  {
    name: 'Service IP ranges',
    needs: ['serviceRanges'],
    enabled: policy => policy.reserved.serviceRanges,
    check: checkServiceIps,
  },
  {
    name: 'ownership',
    needs: ['node'],
    enabled: policy => policy.ownership.mode === 'node-addresses',
    check: checkOwnership,
  },
  {
    name: 'contested SANs',
    needs: ['node', 'claimants'],
    enabled: policy => policy.ownership.mode === 'node-addresses',
    check: checkContested,
  },
  {
    name: 'inventory',
    needs: ['node', 'inventory'],
    enabled: policy => policy.evidence.inventory,
    check: checkInventory,
  },
  {
    name: 'SubjectAccessReview',
    needs: ['authorization'],
    enabled: policy => policy.subjectAccessReview.enabled,
    check: checkAuthorization,
  },
];

export type { Check, CheckContext, CheckResult, FactContext, RequestedSan } from './context.ts';
export { nodeNameFromUsername } from './requester.ts';
export { requestedSans } from './sans.ts';
export { readServiceRanges } from './service-ranges.ts';
