// One CSR object, a set of Node objects and a policy → the decision, as `stampede check` prints it.
// Shared by `check` (objects from files) and `demo` (objects built in memory).
import {
  addressIndex,
  csrRequestFromObject,
  decide,
  nodeFactsFromObject,
  nodeNameFromUsername,
  parseRequest,
  readInventoryAnswer,
  requestedSanKeys,
} from '@stampede/policy';
import type {
  CsrRequest,
  Decision,
  FactName,
  Facts,
  Policy,
  SignatureVerifier,
  Violation,
} from '@stampede/policy';

/** What `stampede check` prints: exactly one JSON object. */
export interface CheckReport {
  readonly decision: Decision['kind'];
  /** metadata.name of the CSR. */
  readonly csr: string;
  /** The Node named by spec.username, or null when the username is not a node identity. */
  readonly node: string | null;
  /** Every violation of a deny; the single reason of an ignore or retry; the approval reason. */
  readonly reasons: readonly Violation[];
  /** The condition message that would be written (approve, deny). */
  readonly message?: string;
  /** deny only: true when the policy says leave-pending, so nothing would be written. */
  readonly leavePending?: boolean;
  /** retry only: the fact that was missing. */
  readonly fact?: FactName;
}

export interface CheckInput {
  /** The CSR object (parsed JSON or YAML). */
  readonly csr: unknown;
  /** A Node or a List of Nodes; undefined when no Node is known (the requester's Node is absent). */
  readonly nodes: unknown;
  readonly policy: Policy;
  /** The SubjectAccessReview result to assume. */
  readonly authorized: boolean;
  /**
   * The cluster's Service IP ranges (CIDRs or single IPs), or undefined when they were not given:
   * then the fact is unavailable, as for a worker that could not read them, and a CSR that passes
   * everything else is a retry, never an approval the worker might not make.
   */
  readonly serviceRanges: readonly string[] | undefined;
  /**
   * The inventory's answer to this CSR's InventoryReview (its JSON text), for a policy that requires
   * the inventory; undefined: not given, so such a policy retries.
   */
  readonly inventoryAnswer?: string | undefined;
  /**
   * The certificate the requester's kubelet serves, already verified against the kubelet-serving
   * CA (check.ts), for a policy with evidence.servedCertificate; undefined: not given.
   */
  readonly servedCertificate?: Facts['servedCertificate'];
  readonly nowMs: number;
  readonly verifier: SignatureVerifier;
}

/** The retry reason when no Service range was given; it says how to give them. */
export const SERVICE_RANGES_NOT_GIVEN =
  'not given to stampede check: pass --service-cidr (kubectl get servicecidrs), or switch reserved.serviceRanges off in --policy';

/** An input that is not what it should be (exit code 2). */
export class InputError extends Error {}

/** A decision as `stampede check` prints it (also `kubectl stampede explain -o json`). */
export function toReport(decision: Decision, csr: string, node: string | undefined): CheckReport {
  const base = { decision: decision.kind, csr, node: node ?? null };
  switch (decision.kind) {
    case 'approve':
      return {
        ...base,
        reasons: [{ code: decision.reason, message: decision.message }],
        message: decision.message,
      };
    case 'deny':
      return {
        ...base,
        reasons: decision.violations,
        message: decision.message,
        leavePending: decision.leavePending,
      };
    case 'ignore':
      return { ...base, reasons: [decision.reason] };
    case 'retry':
      return { ...base, reasons: [decision.reason], fact: decision.fact };
  }
}

export const INVENTORY_NOT_GIVEN =
  "not given to stampede check: pass --inventory-answer (the inventory webhook's answer for this CSR)";

/** The saved answer read exactly as the worker reads a live one. */
function inventoryFact(request: CsrRequest, input: CheckInput): NonNullable<Facts['inventory']> {
  if (input.inventoryAnswer === undefined)
    return { state: 'unavailable', reason: INVENTORY_NOT_GIVEN };
  const sanKeys = requestedSanKeys(parseRequest(request, input.policy), input.policy);
  return readInventoryAnswer(input.inventoryAnswer, { csrUid: request.uid, sanKeys });
}

/** Maps the objects, builds the facts the way the worker would, and decides. */
export function checkObjects(input: CheckInput): CheckReport {
  const request = csrRequestFromObject(input.csr);
  if (!request.ok) throw new InputError(request.error);
  const nodes =
    input.nodes === undefined ? { ok: true as const, value: [] } : nodeFactsFromObject(input.nodes);
  if (!nodes.ok) throw new InputError(nodes.error);
  const nodeName = nodeNameFromUsername(request.value.username);
  const node = nodes.value.find(n => n.name === nodeName);
  const facts: Facts = {
    nowMs: input.nowMs,
    node: node === undefined ? { state: 'absent' } : { state: 'known', value: node },
    claimants: { state: 'known', value: addressIndex(nodes.value) },
    authorization: {
      state: 'known',
      value: input.authorized
        ? { allowed: true, reason: 'assumed by stampede check' }
        : { allowed: false, reason: 'stampede check --not-authorized' },
    },
    serviceRanges:
      input.serviceRanges === undefined
        ? { state: 'unavailable', reason: SERVICE_RANGES_NOT_GIVEN }
        : { state: 'known', value: input.serviceRanges },
    inventory: inventoryFact(request.value, input),
    servedCertificate: input.servedCertificate ?? {
      state: 'unavailable',
      reason: 'not given to stampede check: pass --served-certificate',
    },
  };
  const decision = decide(request.value, input.policy, facts, input.verifier);
  return toReport(decision, request.value.name, nodeName);
}
