// The worker's parts that other tools reuse (the load tests' baseline approver decides with the
// same facts); the service itself starts from main.ts.
export { ClaimsIndex, compareResourceVersions, nodeClaims } from './claims-index.ts';
export type { NodeClaims } from './claims-index.ts';
export { projectNodeClaims, startNodeView } from './node-view.ts';
export { contestFact } from './contest.ts';
export type { NodeView } from './node-view.ts';
export { startServiceRanges } from './service-ranges.ts';
export type { RangesFact, ServiceRanges } from './service-ranges.ts';
export { createInventory } from './inventory.ts';
export { createServedCertificates } from './served-certificate.ts';
export type { Inventory, InventoryOptions, InventoryQuestion } from './inventory.ts';
