export type * from './types.ts';
export { parseCsr, parseCsrDer } from './csr/pkcs10.ts';
export { MAX_REQUEST_BYTES } from './csr/pem.ts';
export { decide, decideParsed, parseRequest, requestedSanKeys } from './decide.ts';
export {
  evaluate,
  requiredFacts,
  triage,
  KUBELET_SERVING_SIGNER,
  MAX_MESSAGE_LENGTH,
} from './evaluate.ts';
export type { EvaluateInput, RequiredFacts } from './evaluate.ts';
export { EVIDENCE_SOURCES, defaultPolicy, loadPolicy, policyConfigSchema } from './policy.ts';
export type {
  LoadPolicyResult,
  OwnershipMode,
  Policy,
  PolicyConfig,
  ReservedIp,
} from './policy.ts';
export { checks, nodeNameFromUsername, readServiceRanges } from './checks/index.ts';
export type { Check, CheckContext, CheckResult, FactContext } from './checks/index.ts';
export { reportedAddressKeys } from './checks/ownership.ts';
export { normaliseDnsName } from './dns.ts';
export { parseIp, parseIpSloppy, specialIpClass } from './ip.ts';
export {
  addressIndex,
  csrRequestFromObject,
  nodeFactFromObject,
  nodeFactsFromObject,
  parseKubeTimestamp,
} from './kube-object.ts';
export type { Mapped } from './kube-object.ts';
export {
  INVENTORY_API_VERSION,
  INVENTORY_REVIEW_KIND,
  readInventoryAnswer,
  sanKeyOf,
  sanOfKey,
} from './inventory-answer.ts';
export type { InventoryQuestion } from './inventory-answer.ts';
